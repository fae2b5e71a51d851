"""`make run`: the whole stack in the foreground; Ctrl-C stops every process it started.

Starts the embedded services when no URLs are set, migrates, bootstraps a
demo org, then runs web (:8000), proxy (:8080, its metrics on 127.0.0.1:9091),
Celery worker and beat as children, each in its own process group so a
signal reaches their children too. If one child dies, everything stops: a
half-running stack misleads. SIGINT or SIGTERM to the runner, or any stop
signal sent to the `make` that started it (parent_watch.py), stops it too.

The banner is printed once web, proxy and mock listen, so their start-up
lines come before it rather than after; Celery runs without its banner and
its per-task lines (config/settings.py LOGGING), so the banner stays in view.

Every socket, pid and control file of the stack lives under the state dir
(.selixes/), never in a directory other users share such as /tmp.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from infra import devenv, embedded
from infra.parent_watch import ParentWatch

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
WEB_PORT = int(os.environ.get("SELIXES_WEB_PORT", "8000"))
PROXY_PORT = int(os.environ.get("SELIXES_PROXY_PORT", "8080"))
MOCK_PORT = int(os.environ.get("SELIXES_MOCK_PORT", "9090"))
# Read by the proxy itself (gateway/proxy/config.py); here for the banner.
METRICS_HOST = os.environ.get("SELIXES_METRICS_HOST") or "127.0.0.1"
METRICS_PORT = int(os.environ.get("SELIXES_METRICS_PORT") or "9091")
# Web's and the worker's metrics (observability.web_metrics, .worker_metrics).
WEB_METRICS_PORT = int(os.environ.get("SELIXES_WEB_METRICS_PORT") or "9092")
WORKER_METRICS_PORT = int(os.environ.get("SELIXES_WORKER_METRICS_PORT") or "9093")
DEMO_EMAIL = "demo@selixes.local"
STOP_GRACE_S = 10.0
READY_TIMEOUT_S = 60.0


def _demo_password(state_dir: Path) -> str:
    path = state_dir / "demo-password"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(12))
        path.chmod(0o600)
    return path.read_text().strip()


def _manage(*args: str) -> str:
    result = subprocess.run(  # noqa: S603
        [PY, "manage.py", *args], cwd=ROOT, check=True, stdout=subprocess.PIPE, text=True
    )
    return result.stdout


def uvicorn_command(app: str, port: int, workers: str = "1") -> list[str]:
    """The proxy's server command line, the same in make run, tests and benchmarks."""
    # uvicorn over granian: in one make bench-style A/B run (3 rounds each, one
    # process, 32 connections) uvicorn served 1,700-2,020 req/s, granian
    # 1,380-1,680. No proxy-headers middleware: the proxy never reads client
    # addresses, and it cost ~2% of the CPU.
    return [
        PY, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port),
        "--workers", workers, "--loop", "uvloop", "--http", "httptools",
        "--no-access-log", "--no-proxy-headers", "--no-server-header", "--log-level", "warning",
    ]  # fmt: skip


def _children() -> dict[str, list[str]]:
    workers = os.environ.get("SELIXES_PROXY_WORKERS") or str(os.cpu_count() or 1)
    state = str(embedded.STATE_DIR)
    return {
        "web": [
            PY,
            "-m",
            "gunicorn",
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{WEB_PORT}",
            "--workers",
            "2",
            "--threads",
            "4",
            "--access-logfile",
            "-",
            # Its default control socket is $XDG_RUNTIME_DIR/gunicorn.ctl (the
            # Makefile once pointed that at /tmp); nothing drives gunicorn
            # through it, so none is opened.
            "--no-control-socket",
        ],
        "proxy": uvicorn_command("gateway.proxy.asgi:app", PROXY_PORT, workers),
        "mock": [
            PY,
            "-m",
            "gateway.mock_provider",
            "--host",
            "127.0.0.1",
            "--port",
            str(MOCK_PORT),
        ],
        "worker": [
            PY,
            "-m",
            "celery",
            "-A",
            "config",
            "--quiet",  # no banner: it would push make run's own out of view
            "worker",
            "--loglevel",
            "INFO",
            "--concurrency",
            "2",
            "--hostname",
            "worker@%h",
        ],
        "beat": [
            PY,
            "-m",
            "celery",
            "-A",
            "config",
            "--quiet",
            "beat",
            "--loglevel",
            "INFO",
            "--schedule",
            f"{state}/celerybeat-schedule",
        ],
    }


def _stop(processes: dict[str, subprocess.Popen[bytes]]) -> None:
    for process in processes.values():
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_S
    for process in processes.values():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def _wait_until_serving(
    processes: dict[str, subprocess.Popen[bytes]], stopping: Callable[[], bool]
) -> None:
    """Wait until web, proxy and mock listen (READY_TIMEOUT_S at most), a child dies or we stop."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    ports = [WEB_PORT, PROXY_PORT, MOCK_PORT]
    while ports and time.monotonic() < deadline and not stopping():
        if any(process.poll() is not None for process in processes.values()):
            return  # the main loop says which, and stops the rest
        ports = [port for port in ports if not _listening(port)]
        time.sleep(0.2)


def _stop_hint(watch: ParentWatch) -> str:
    """How to stop the stack from another shell: SIGINT to make when make started us."""
    pid = watch.parent if watch.parent_is_make else os.getpid()
    return f"Ctrl-C stops everything (from another shell: kill -INT {pid})."


def _banner(demo: dict[str, str], password: str, stop_hint: str) -> str:
    key = demo["api_key"]
    return f"""
  Selixes is running.

  Dashboard   http://localhost:{WEB_PORT}/   (log in as {DEMO_EMAIL} / {password})
  REST API    http://localhost:{WEB_PORT}/api/v1/   (management token below)
  Proxy       http://localhost:{PROXY_PORT}/
  Metrics     http://{METRICS_HOST}:{METRICS_PORT}/metrics   (Prometheus; not on the proxy port)
              web :{WEB_METRICS_PORT}, worker :{WORKER_METRICS_PORT}; Grafana: infra/grafana/

  Demo org API key:   {key}
  Management token:   {demo["management_token"]}

  Mock provider  http://localhost:{MOCK_PORT}/   (routes gpt-demo and claude-demo)

  curl http://localhost:{PROXY_PORT}/v1/chat/completions -H "Authorization: Bearer {key}" \\
       -H 'content-type: application/json' \\
       -d '{{"model": "gpt-demo", "messages": [{{"role": "user", "content": "Hello!"}}]}}'

  from openai import OpenAI
  client = OpenAI(base_url="http://localhost:{PROXY_PORT}/v1", api_key="{key}")
  reply = client.chat.completions.create(
      model="gpt-demo", messages=[{{"role": "user", "content": "Hello!"}}]
  )
  print(reply.choices[0].message.content)

  {stop_hint}
"""


def _fresh_metrics_dir(kind: str) -> str:
    """An empty directory where the processes of one kind meet (gateway/shared/metrics_port.py).

    One per kind (proxy, web, worker): each kind's port serves its own
    processes' counts, so none is counted twice. Emptied at every start:
    files of processes from an earlier run would add their counts to this run's.
    """
    directory = embedded.STATE_DIR / "metrics" / kind
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    return str(directory)


def _child_env(name: str) -> dict[str, str]:
    """A child's environment: the metrics ports, and its own kind's metrics directory."""
    env = {
        **os.environ,
        "SELIXES_WEB_METRICS_PORT": str(WEB_METRICS_PORT),
        "SELIXES_WORKER_METRICS_PORT": str(WORKER_METRICS_PORT),
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)  # beat and the mock count nothing
    if name in ("proxy", "web", "worker"):
        env["PROMETHEUS_MULTIPROC_DIR"] = _fresh_metrics_dir(name)
    return env


def _say(line: str) -> None:
    """Print a line while stopping; a terminal that went away must not keep anything running."""
    with contextlib.suppress(OSError):
        print(line, flush=True)


def main() -> int:
    stop_requested = False

    def request_stop(signum: int, _frame: object) -> None:
        nonlocal stop_requested
        stop_requested = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    parent = ParentWatch()

    def stopping() -> bool:
        return stop_requested or parent.told_to_stop()

    started_embedded = not (os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL"))
    devenv.prepare()
    os.environ.setdefault("SELIXES_PRIVATE_UPSTREAMS", "allow")
    processes: dict[str, subprocess.Popen[bytes]] = {}
    try:
        print("Migrating…", flush=True)
        _manage("migrate", "--noinput", "-v", "0")
        _manage("collectstatic", "--noinput", "-v", "0")
        password = _demo_password(embedded.STATE_DIR)
        demo = json.loads(
            _manage("bootstrap", "--org=Demo", f"--email={DEMO_EMAIL}", f"--password={password}")
        )
        _manage(
            "demo_routes", f"--org-id={demo['org_id']}", f"--mock-url=http://127.0.0.1:{MOCK_PORT}"
        )
        for name, command in _children().items():
            # start_new_session: Ctrl-C in the terminal reaches only us; we stop
            # each group in order and wait, so nothing is left listening.
            processes[name] = subprocess.Popen(  # noqa: S603
                command, cwd=ROOT, start_new_session=True, env=_child_env(name)
            )
        _wait_until_serving(processes, stopping)
        if not stopping():
            print(_banner(demo, password, _stop_hint(parent)), flush=True)
        while not stopping():
            for name, process in processes.items():
                if process.poll() is not None:
                    print(f"{name} exited with {process.returncode}; stopping.", file=sys.stderr)
                    return 1
            time.sleep(0.2)
        return 0
    finally:
        _say("Stopping…")
        _stop(processes)
        if started_embedded:
            embedded.stop()
        _say("Stopped.")


if __name__ == "__main__":
    sys.exit(main())
