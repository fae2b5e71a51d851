"""`make run`'s supervisor, started for real: it serves, then Ctrl-C leaves nothing behind.

Nothing it starts may put a socket, pid or control file where other users
or checkouts meet: the test points XDG_RUNTIME_DIR at a directory standing
for /tmp (as the Makefile once did) and expects it to stay empty.

The stack gets a state directory of its own (SELIXES_STATE_DIR, which
infra/embedded.py reads), so the PostgreSQL and Redis it starts and stops are
never the ones the rest of the suite, on any xdist worker, is using.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.polling import eventually
from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[2]


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def _wait_for(url: str, process: subprocess.Popen[str], timeout: float = 90) -> None:
    def answers() -> bool:
        assert process.poll() is None, "the stack exited during start-up"
        try:
            return httpx.get(url, timeout=1).status_code < 500
        except httpx.HTTPError:
            return False

    eventually(answers, timeout, f"{url} answering")


@pytest.mark.skipif(sys.platform != "linux", reason="process groups and Unix sockets")
# A whole stack from nothing: initdb, migrations, the demo data, five processes.
@pytest.mark.timeout(300)
def test_the_stack_serves_and_ctrl_c_stops_everything(tmp_path: Path) -> None:
    web_port, proxy_port, mock_port, metrics_port = (free_port() for _ in range(4))
    shared = tmp_path / "shared"
    shared.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    for name in ("DJANGO_SECRET_KEY", "SELIXES_HASH_KEY", "SELIXES_MASTER_KEYS"):
        env.pop(name, None)
    env |= {
        "SELIXES_STATE_DIR": str(tmp_path / "state"),
        "SELIXES_WEB_PORT": str(web_port),
        "SELIXES_PROXY_PORT": str(proxy_port),
        "SELIXES_MOCK_PORT": str(mock_port),
        "SELIXES_METRICS_PORT": str(metrics_port),
        "SELIXES_PROXY_WORKERS": "1",
        "XDG_RUNTIME_DIR": str(shared),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "infra.run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    try:
        assert process.stdout is not None
        # Bounded by the test's timeout: a stack that never prints its banner fails there.
        while not any("Ctrl-C stops everything" in line for line in output):
            line = process.stdout.readline()
            if not line and process.poll() is not None:
                raise AssertionError("".join(output))
            output.append(line)
        banner = "".join(output)
        key = re.search(r"sk-sel-[\w-]+", banner)
        token = re.search(r"mt-[\w-]+", banner)
        assert key and token, banner

        _wait_for(f"http://127.0.0.1:{proxy_port}/healthz", process)
        _wait_for(f"http://127.0.0.1:{web_port}/login/", process)
        models = httpx.get(
            f"http://127.0.0.1:{proxy_port}/v1/models",
            headers={"authorization": f"Bearer {key.group()}"},
            timeout=5,
        )
        assert models.status_code == 200, models.text
        assert {m["id"] for m in models.json()["data"]} == {"gpt-demo", "claude-demo"}
        for alias in ("gpt-demo", "claude-demo"):
            chat = httpx.post(
                f"http://127.0.0.1:{proxy_port}/v1/chat/completions",
                headers={"authorization": f"Bearer {key.group()}"},
                json={"model": alias, "messages": [{"role": "user", "content": "Hello!"}]},
                timeout=10,
            )
            assert chat.status_code == 200, chat.text
            assert chat.json()["choices"][0]["message"]["content"].startswith("Mock answer")
        projects = httpx.get(
            f"http://127.0.0.1:{web_port}/api/v1/projects/",
            headers={"authorization": f"Bearer {token.group()}"},
            timeout=5,
        )
        assert projects.status_code == 200
        assert [p["name"] for p in projects.json()] == ["Default"]
        assert sorted(p.name for p in shared.iterdir()) == []
        scrape = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5)
        assert scrape.status_code == 200
        assert "selixes_routing_deployments" in scrape.text
        assert httpx.get(f"http://127.0.0.1:{proxy_port}/metrics", timeout=5).status_code == 404
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    assert process.returncode == 0
    assert not _listening(web_port)
    assert not _listening(proxy_port)
    assert not _listening(mock_port)
    assert not _listening(metrics_port)
    assert sorted(p.name for p in shared.iterdir()) == []
    state = str(tmp_path / "state")

    def leftovers() -> list[str]:
        found = subprocess.run(
            ["pgrep", "-a", "-f", state], capture_output=True, text=True, check=False
        )
        return found.stdout.splitlines()

    # A service told to stop may still be finishing its exit (PostgreSQL's
    # shutdown checkpoint on a loaded machine): gone soon, not left running.
    eventually(
        lambda: leftovers() == [], 60, f"the stack exiting (running as it stopped: {leftovers()})"
    )
    assert json.dumps(output)  # keep the log readable when an assertion above fails
