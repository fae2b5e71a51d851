"""Fill the environment for a local process: embedded services and generated secrets.

Settings read the environment only (STYLE.md). For a machine where nobody set
anything, this module is what makes `make run`, `make test` and `manage.py`
work: it starts the embedded services for unset URLs and generates the secrets
once into .selixes/secrets.env. Anything already in the environment wins, so a
deployment that sets its variables never reaches the generated values.
"""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

from infra import embedded


def _generated_secrets() -> dict[str, str]:
    return {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "SELIXES_HASH_KEY": secrets.token_urlsafe(32),
        "SELIXES_MASTER_KEYS": "k1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
    }


def _load_secrets(path: Path) -> dict[str, str]:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        values = _generated_secrets()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.writelines(f"{k}={v}\n" for k, v in values.items())
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {k: v for k, v in pairs}


def _private_runtime_dir(state_dir: Path) -> str:
    """A runtime dir under the state dir that only we can enter.

    pgserver keeps its lock file in XDG_RUNTIME_DIR (unset: /tmp/runtime-<uid>,
    platformdirs' fallback), gunicorn its control socket (unset: ~/.gunicorn).
    The Makefile used to point it at /tmp itself; there any user of the
    machine may create those files first, and every checkout meets.
    """
    directory = state_dir / "run"
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o700)
    return str(directory)


def prepare(state_dir: Path = embedded.STATE_DIR) -> None:
    """Set every unset variable a local process needs; start embedded services."""
    # Set, not defaulted: a desktop session's runtime dir is shared by every
    # checkout too. Before embedded.start, which imports pgserver (it reads it then).
    os.environ["XDG_RUNTIME_DIR"] = _private_runtime_dir(state_dir)
    for name, value in _load_secrets(state_dir / "secrets.env").items():
        os.environ.setdefault(name, value)
    os.environ.update(embedded.start(state_dir))
