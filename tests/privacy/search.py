"""Search everything the system wrote for canary tokens: PostgreSQL, Redis, logs and files.

Canaries are `cnry` + 24 hex digits (canary()); one regular-expression pass
over each source finds every one of them there. What each search reads:

- PostgreSQL: every table of the database, row by row (COPY ... TO STDOUT
  over psycopg), pg_dump's dump of it, and, after a CHECKPOINT, the bytes of
  every file of the data directory (heap, WAL, everything);
- Redis: every key of every database of the server, of every type (strings,
  hashes, lists, sets, sorted sets, streams and their entries);
- files: every file under the given directories (logs, the state directory
  with the embedded services, the processes' temporary directory).

Values PostgreSQL compresses (TOAST, over ~2 KB) do not show in the data
files as they are: the row dump reads them decompressed.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import redis
from django.db import connection

PATTERN = re.compile(rb"cnry[0-9a-f]{24}")


def canary() -> str:
    """A token nothing else will ever write by chance."""
    return "cnry" + secrets.token_hex(12)


def found_in(data: bytes) -> set[str]:
    return {match.decode() for match in PATTERN.findall(data)}


def postgres_rows() -> dict[str, set[str]]:
    """Canaries in each table's rows, by table; and how many tables were read (key "")."""
    connection.ensure_connection()
    raw = connection.connection
    found: dict[str, set[str]] = {}
    with raw.cursor() as cursor:
        cursor.execute(
            "SELECT schemaname, tablename FROM pg_tables"
            " WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
        )
        tables = cursor.fetchall()
        for schema, table in tables:
            data = bytearray()
            # The SELECT form: a partitioned table (the request log) has no rows of its own to COPY.
            with cursor.copy(f'COPY (SELECT * FROM "{schema}"."{table}") TO STDOUT') as copy:
                for block in copy:
                    data += bytes(block)
            hits = found_in(bytes(data))
            if hits:
                found[f"{schema}.{table}"] = hits
    found[""] = {str(len(tables))}
    return found


def pg_dump() -> bytes:
    """The database as pg_dump writes it (data and schema)."""
    import pgserver

    binary = Path(pgserver.__file__).parent / "pginstall" / "bin" / "pg_dump"
    connection.ensure_connection()
    info = connection.connection.info  # where this process is connected: socket or host
    env = {**os.environ, "PGPASSWORD": info.password or ""}
    command = [str(binary), "--no-owner", "--dbname", info.dbname, "--username", info.user]
    command += ["--host", info.host, "--port", str(info.port)]
    done = subprocess.run(command, capture_output=True, env=env, check=True, timeout=300)
    return done.stdout


def checkpoint() -> None:
    """Write every dirty page to the data files, so they hold what was written."""
    with connection.cursor() as cursor:
        cursor.execute("CHECKPOINT")


def data_directory() -> Path | None:
    """The database server's data directory, when this process can read it.

    The embedded PostgreSQL keeps it under .selixes/; a system one (CI's
    service) elsewhere, readable here when the tests run as its owner or root;
    a managed one nowhere this process sees (None).
    """
    with connection.cursor() as cursor:
        cursor.execute("SHOW data_directory")
        row = cursor.fetchone()
    path = Path(row[0]) if row else None
    return path if path is not None and os.access(path, os.R_OK | os.X_OK) else None


def redis_everything(url: str) -> tuple[bytes, int]:
    """Every key of every database of the Redis server at `url`, dumped; and how many keys."""
    first: Any = redis.Redis.from_url(url)
    databases = int(first.config_get("databases").get("databases", 16))
    first.close()
    out = bytearray()
    keys = 0
    for db in range(databases):
        client: Any = redis.Redis.from_url(url, db=db)
        try:
            for key in client.scan_iter(count=1000):
                keys += 1
                out += key + b"\n"
                kind = client.type(key)
                if kind == b"string":
                    out += client.get(key) or b""
                elif kind == b"hash":
                    for field, value in client.hgetall(key).items():
                        out += field + b"=" + value + b"\n"
                elif kind == b"list":
                    out += b"\n".join(client.lrange(key, 0, -1))
                elif kind == b"set":
                    out += b"\n".join(client.smembers(key))
                elif kind == b"zset":
                    out += b"\n".join(member for member, _ in client.zrange(key, 0, -1, True))
                elif kind == b"stream":
                    for entry_id, fields in client.xrange(key):
                        out += entry_id + b" "
                        for field, value in fields.items():
                            out += field + b"=" + value + b"\n"
                out += b"\n"
        finally:
            client.close()
    return bytes(out), keys


def files_under(*roots: Path) -> tuple[dict[str, set[str]], int]:
    """Canaries in every file under `roots`, by path; and how many files were read."""
    found: dict[str, set[str]] = {}
    count = 0
    for path in _walk(roots):
        try:
            data = path.read_bytes()
        except OSError:
            continue  # a file that went away between the listing and the read
        count += 1
        hits = found_in(data)
        if hits:
            found[str(path)] = hits
    return found, count


def _walk(roots: Iterable[Path]) -> Iterable[Path]:
    for root in roots:
        for directory, _, names in os.walk(root):
            for name in names:
                path = Path(directory) / name
                if path.is_file() and not path.is_symlink():
                    yield path
