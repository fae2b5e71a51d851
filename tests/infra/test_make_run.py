"""`make run`'s supervisor, started for real: it serves, then SIGINT leaves nothing behind.

SIGINT reaches the stack two ways: Ctrl-C in a terminal signals the runner
(and make) directly; `kill -INT <pid of make>` from another shell signals make
alone, which does not pass it on. Both must stop every process.

Nothing it starts may put a socket, pid or control file where other users
or checkouts meet: the test points XDG_RUNTIME_DIR at a directory standing
for /tmp (as the Makefile once did) and expects it to stay empty.

The stack gets a state directory of its own (SELIXES_STATE_DIR, which
infra/embedded.py reads), so the PostgreSQL and Redis it starts and stops are
never the ones the rest of the suite, on any xdist worker, is using.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.infra.grafana import dashboard_metric_names, sample_names
from tests.polling import eventually
from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
BANNER_END = "Ctrl-C stops everything"
# Celery's per-task lines, which beat's one-second schedule would print all along.
TASK_LINES = ("Sending due task", "succeeded in", "] received")

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="process groups and /proc")


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def _answers(url: str, stack: Stack) -> None:
    def up() -> bool:
        assert stack.process.poll() is None, f"the stack exited during start-up:\n{stack.output}"
        try:
            return httpx.get(url, timeout=1).status_code < 500
        except httpx.HTTPError:
            return False

    eventually(up, 90, f"{url} answering")


def _default_sigint() -> None:
    # A shell starting jobs in the background (CI) leaves SIGINT ignored, and
    # an ignored signal stays ignored across exec; a terminal's make has it.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _children(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False)
    return [int(child) for child in found.stdout.split()]


def _descendants(pid: int) -> set[int]:
    return {d for child in _children(pid) for d in {child, *_descendants(child)}}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"


@dataclass
class Stack:
    process: subprocess.Popen[str]
    state: Path
    shared: Path
    ports: dict[str, int]
    lines: list[str] = field(default_factory=list)
    # Every process under the one started, once it serves: none may outlive the stop.
    started: set[int] = field(default_factory=set)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def banner(self) -> str:
        """Wait for the banner; then note every process the stack runs (workers included)."""
        banner = eventually(
            lambda: self.output if BANNER_END in self.output else None, 150, "the banner"
        )
        self.started = _descendants(self.process.pid)
        return banner


def _read_all(stack: Stack) -> None:
    # Read to the end, or the children block on a full pipe.
    assert stack.process.stdout is not None
    for line in stack.process.stdout:
        stack.lines.append(line)


@contextmanager
def _stack(tmp_path: Path, command: list[str]) -> Iterator[Stack]:
    """Start `command` (the runner or make run) on free ports; yield it; make sure it ends."""
    ports = {
        name: free_port()
        for name in ("web", "proxy", "mock", "metrics", "web_metrics", "worker_metrics")
    }
    shared = tmp_path / "shared"
    shared.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    for name in ("DJANGO_SECRET_KEY", "SELIXES_HASH_KEY", "SELIXES_MASTER_KEYS", "MAKEFLAGS"):
        env.pop(name, None)
    env |= {
        "SELIXES_STATE_DIR": str(tmp_path / "state"),
        "SELIXES_WEB_PORT": str(ports["web"]),
        "SELIXES_PROXY_PORT": str(ports["proxy"]),
        "SELIXES_MOCK_PORT": str(ports["mock"]),
        "SELIXES_METRICS_PORT": str(ports["metrics"]),
        "SELIXES_WEB_METRICS_PORT": str(ports["web_metrics"]),
        "SELIXES_WORKER_METRICS_PORT": str(ports["worker_metrics"]),
        "SELIXES_PROXY_WORKERS": "1",
        "XDG_RUNTIME_DIR": str(shared),
    }
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=_default_sigint,
    )
    stack = Stack(process, tmp_path / "state", shared, ports)
    reader = threading.Thread(target=_read_all, args=(stack,), daemon=True)
    reader.start()
    try:
        yield stack
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
        reader.join(timeout=10)


def _assert_all_stopped(stack: Stack) -> None:
    for name, port in stack.ports.items():
        assert not _listening(port), f"{name} still listens on {port}"
    assert len(stack.started) >= 5, stack.started  # web, proxy, mock, worker, beat at least

    def left() -> list[str]:
        alive = [str(pid) for pid in sorted(stack.started) if _alive(pid)]
        found = subprocess.run(
            ["pgrep", "-a", "-f", str(stack.state)], capture_output=True, text=True, check=False
        )
        return alive + found.stdout.splitlines()

    # A service told to stop may still be finishing its exit (PostgreSQL's
    # shutdown checkpoint on a loaded machine): gone soon, not left running.
    eventually(lambda: left() == [], 60, f"the stack exiting (still running: {left()})")
    assert sorted(p.name for p in stack.shared.iterdir()) == []


def _every_dashboard_metric_is_scraped(stack: Stack, key: str, token: str) -> None:
    """Drive what each panel watches, then find every metric the dashboard names in a scrape.

    infra/grafana/selixes-gateway.json is read as Grafana would (its PromQL),
    and the three metrics ports of the stack are scraped as Prometheus would.
    """
    proxy, web = (
        f"http://127.0.0.1:{stack.ports['proxy']}",
        f"http://127.0.0.1:{stack.ports['web']}",
    )
    management = {"authorization": f"Bearer {token}"}
    # A failing deployment before the demo's own (upstream errors, a failover).
    demo = httpx.get(f"{web}/api/v1/routes/gpt-demo/", headers=management, timeout=10).json()
    fields = ("provider", "model", "api_base", "provider_key_id", "price")
    working = {name: demo["deployments"][0][name] for name in fields}
    failing = {**working, "model": "check-mock-error-500"}
    route = {"strategy": "priority", "deployments": [failing, working]}
    put = httpx.put(f"{web}/api/v1/routes/grafana-check/", json=route, headers=management)
    assert put.status_code in (200, 201), put.text
    policy = {
        "enabled": True,
        "entities": {"EMAIL": "mask"},
        "custom_patterns": [],
        "restore_in_response": False,
    }
    put = httpx.put(f"{web}/api/v1/pii-policy/", json=policy, headers=management, timeout=10)
    assert put.status_code == 200, put.text
    caller = {"authorization": f"Bearer {key}"}

    def chat(alias: str, content: str, stream: bool = False) -> int:
        body = {
            "model": alias,
            "stream": stream,
            "messages": [{"role": "user", "content": content}],
        }
        return httpx.post(f"{proxy}/v1/chat/completions", json=body, headers=caller).status_code

    # The proxy follows the new route and policy within a second (their snapshot).
    eventually(lambda: chat("grafana-check", "hi") == 200, 30, "the new route answering")
    assert chat("gpt-demo", "write to jane.doe@example.com", stream=True) == 200
    names = dashboard_metric_names()
    assert len(names) >= 15

    def missing() -> list[str]:
        scraped = set()
        for port in ("metrics", "web_metrics", "worker_metrics"):
            scrape = httpx.get(f"http://127.0.0.1:{stack.ports[port]}/metrics", timeout=10)
            scraped |= sample_names(scrape.text)
        return sorted(names - scraped)

    seen: list[list[str]] = []

    def all_scraped() -> bool:
        seen.append(missing())
        return not seen[-1]

    # The worker counts a task once it ends; beat sends the drain every second.
    try:
        eventually(all_scraped, 60, "every metric the dashboard names in a scrape")
    except AssertionError as e:
        raise AssertionError(f"{e}; missing: {seen[-1]}") from None


# A whole stack from nothing: initdb, migrations, the demo data, five processes.
STACK_TIMEOUT = pytest.mark.timeout(300)


@STACK_TIMEOUT
def test_the_stack_serves_and_ctrl_c_stops_everything(tmp_path: Path) -> None:
    with _stack(tmp_path, [sys.executable, "-m", "infra.run"]) as stack:
        banner = stack.banner()
        key = re.search(r"sk-sel-[\w-]+", banner)
        token = re.search(r"mt-[\w-]+", banner)
        assert key and token, banner
        proxy, web = stack.ports["proxy"], stack.ports["web"]

        _answers(f"http://127.0.0.1:{proxy}/healthz", stack)
        _answers(f"http://127.0.0.1:{web}/login/", stack)
        models = httpx.get(
            f"http://127.0.0.1:{proxy}/v1/models",
            headers={"authorization": f"Bearer {key.group()}"},
            timeout=5,
        )
        assert models.status_code == 200, models.text
        assert {m["id"] for m in models.json()["data"]} == {"gpt-demo", "claude-demo"}
        for alias in ("gpt-demo", "claude-demo"):
            chat = httpx.post(
                f"http://127.0.0.1:{proxy}/v1/chat/completions",
                headers={"authorization": f"Bearer {key.group()}"},
                json={"model": alias, "messages": [{"role": "user", "content": "Hello!"}]},
                timeout=10,
            )
            assert chat.status_code == 200, chat.text
            assert chat.json()["choices"][0]["message"]["content"].startswith("Mock answer")
        projects = httpx.get(
            f"http://127.0.0.1:{web}/api/v1/projects/",
            headers={"authorization": f"Bearer {token.group()}"},
            timeout=5,
        )
        assert projects.status_code == 200
        assert [p["name"] for p in projects.json()] == ["Default"]
        assert sorted(p.name for p in stack.shared.iterdir()) == []
        scrape = httpx.get(f"http://127.0.0.1:{stack.ports['metrics']}/metrics", timeout=5)
        assert scrape.status_code == 200
        assert "selixes_routing_deployments" in scrape.text
        assert httpx.get(f"http://127.0.0.1:{proxy}/metrics", timeout=5).status_code == 404
        # The requests above went through the worker (drain) while beat ticked
        # every second: wait for their log rows, so the worker has run tasks.
        eventually(
            lambda: httpx.get(
                f"http://127.0.0.1:{web}/api/v1/requests/",
                headers={"authorization": f"Bearer {token.group()}"},
                timeout=5,
            ).json()["data"],
            30,
            "the drained request log",
        )
        _every_dashboard_metric_is_scraped(stack, key.group(), token.group())
        stack.process.send_signal(signal.SIGINT)  # as Ctrl-C does, to the runner itself
        assert stack.process.wait(timeout=60) == 0
    _assert_all_stopped(stack)
    noisy = [line for line in stack.lines if any(marker in line for marker in TASK_LINES)]
    assert noisy == [], "".join(noisy[:5])
    assert "[tasks]" not in stack.output  # nor Celery's banner


@STACK_TIMEOUT
def test_sigint_to_make_alone_stops_everything(tmp_path: Path) -> None:
    # -o: never reinstall the virtualenv from here, whatever the stamp's age.
    with _stack(
        tmp_path, ["make", "--no-print-directory", "-o", ".venv/.installed", "run"]
    ) as stack:
        banner = stack.banner()
        make = stack.process.pid
        assert f"kill -INT {make}" in banner  # the banner says how, with make's own pid
        _answers(f"http://127.0.0.1:{stack.ports['proxy']}/healthz", stack)
        os.kill(make, signal.SIGINT)  # make's pid only, as `kill -INT` from another shell
        stack.process.wait(timeout=60)
        assert "Stopped." in stack.output
    _assert_all_stopped(stack)
