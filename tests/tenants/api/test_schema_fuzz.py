"""Schemathesis against a live management API, as two orgs' admins.

Every check runs: no 500, every status and body as the schema says, what the
schema allows is accepted and what it refuses is refused, auth is never ignored,
and alice's objects answer charlie with 404 (object_level_authorization, with
alice and charlie as peers). The examples are bounded and generation is
deterministic, so a run finds the same cases each time.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from schemathesis.checks import CHECKS as SCHEMATHESIS_CHECKS
from schemathesis.checks import load_all_checks

from tenants import actions
from tests.conftest import Persona

MAX_EXAMPLES = 10

# `st run --checks all` would override the per-operation exclusions below, so the
# config file turns every check on instead (max_response_time aside: no test asserts
# a duration).
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "positive_data_acceptance",
    "missing_required_header",
    "unsupported_method",
    "allow_header_conformance",
    "use_after_free",
    "ensure_resource_availability",
    "ignored_auth",
    "object_level_authorization",
)

# The few exclusions, each for one operation and for a reason no schema can carry.
EXCLUSIONS = (
    # A custom PII pattern's regex must compile under RE2 and must not match empty
    # text; JSON Schema's "format: regex" (any ECMA regex) cannot say either.
    ("PUT", "/pii-policy/$", "positive_data_acceptance"),
    # A deployment's api_base is refused when its host resolves to a private or
    # loopback address (SSRF), which depends on DNS at request time.
    ("PUT", "^/api/v1/routes/", "positive_data_acceptance"),
    # DELETE revokes a key and keeps it, readable with "revoked": true, for the
    # audit trail and the dashboard; it is not erased, so a GET still finds it.
    ("GET", "^/api/v1/provider-keys/[^/]+/$", "use_after_free"),
    ("GET", "^/api/v1/keys/[^/]+/$", "use_after_free"),
    # A usage window must end after it starts and span at most 400 days, and group_by
    # may name a key once: rules between values that a parameter's schema cannot say.
    ("GET", "^/api/v1/usage/$", "positive_data_acceptance"),
    # The request log's cursor is an opaque token only the API issues (a position in the
    # log); no pattern can say which strings decode to one, and a forged one is a 400.
    ("GET", "^/api/v1/requests/$", "positive_data_acceptance"),
)


# Operations whose coverage phase (every boundary and every enum value, one request
# each) would take most of the run: ~600 time zone names; and a project's PII policy,
# whose body is the org's policy, which keeps its coverage phase. Examples and
# fuzzing, positive and negative, still run on both.
NO_COVERAGE_PHASE = (
    ("PATCH", "^/api/v1/budget-settings/$"),
    ("PUT", "^/api/v1/projects/[^/]+/pii-policy/$"),
)


def schemathesis_config(auth_file: Path) -> str:
    lines = [f'[auth.wfc]\npath = "{auth_file}"\npeers = ["alice", "charlie"]\n', "[checks]"]
    lines += [f"{check}.enabled = true" for check in CHECKS]
    for method, path_regex, check in EXCLUSIONS:
        lines += [
            "\n[[operations]]",
            f'include-method = "{method}"',
            f"include-path-regex = '{path_regex}'",
            f"checks.{check}.enabled = false",
        ]
    for method, path_regex in NO_COVERAGE_PHASE:
        lines += [
            "\n[[operations]]",
            f'include-method = "{method}"',
            f"include-path-regex = '{path_regex}'",
            "phases.coverage.enabled = false",
        ]
    return "\n".join(lines) + "\n"


def test_the_run_turns_on_every_check_schemathesis_has() -> None:
    # A check a newer schemathesis adds must be turned on here (or excluded with a reason).
    load_all_checks()
    assert set(SCHEMATHESIS_CHECKS.get_all_names()) <= set(CHECKS)


def management_token(persona: Persona) -> str:
    return actions.issue_management_token(persona.org, "schemathesis", persona.actor).secret


# Every operation, every check, two orgs: near two minutes on a loaded machine.
@pytest.mark.timeout(600)
def test_the_management_api_passes_every_schemathesis_check_for_two_orgs(
    transactional_db: None, live_server: Any, alice: Persona, charlie: Persona, tmp_path: Path
) -> None:
    auth = [
        {
            "name": name,
            "fixedHeaders": [
                {"name": "Authorization", "value": f"Bearer {management_token(persona)}"}
            ],
        }
        for name, persona in (("alice", alice), ("charlie", charlie))
    ]
    auth_file = tmp_path / "auth.json"
    auth_file.write_text(json.dumps({"auth": auth}))
    config = tmp_path / "schemathesis.toml"
    config.write_text(schemathesis_config(auth_file))
    st = Path(sys.executable).with_name("st")
    result = subprocess.run(
        [
            str(st),
            "--config-file",
            str(config),
            "run",
            f"{live_server.url}/api/v1/schema/",
            "--max-examples",
            str(MAX_EXAMPLES),
            "--generation-deterministic",
            "--workers",
            "1",
            "--no-color",
            "--report",
            "junit",
            "--report-dir",
            str(tmp_path),
        ],
        cwd=tmp_path,  # st keeps its state in ./.schemathesis
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-5000:]
