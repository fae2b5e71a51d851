"""make vendor-js: the vendored Chart.js is what the README says, and a bad download is refused."""

from __future__ import annotations

import hashlib
import io
import json
import re
import tarfile
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from infra import vendor_js

README = vendor_js.VENDOR_DIR / "README.md"


def test_the_vendored_files_are_the_ones_the_readme_names() -> None:
    readme = README.read_text()
    assert vendor_js.INTEGRITY in readme
    assert f"Chart.js {vendor_js.VERSION}" in readme
    for name in vendor_js.FILES.values():
        match = re.search(rf"`{re.escape(name)}` ([0-9a-f]{{64}})", readme)
        assert match, f"the README records no sha256 of {name}"
        assert hashlib.sha256((vendor_js.VENDOR_DIR / name).read_bytes()).hexdigest() == (
            match.group(1)
        )
    script = (vendor_js.VENDOR_DIR / "chart.umd.min.js").read_text()
    assert script.startswith(f"/*!\n * Chart.js v{vendor_js.VERSION}\n")


def _tarball(script: bytes) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for member, body in (
            ("package/dist/chart.umd.min.js", script),
            ("package/LICENSE.md", b"The MIT License (MIT)\n"),
        ):
            info = tarfile.TarInfo(member)
            info.size = len(body)
            archive.addfile(info, io.BytesIO(body))
    return buffer.getvalue()


class FakeRegistry:
    """registry.npmjs.org as far as vendor_js asks it: the version's metadata and a tarball."""

    def __init__(self) -> None:
        self.tarball = b""
        self.integrity = ""
        registry = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # http.server's name
                if self.path.endswith(".tgz"):
                    body = registry.tarball
                else:
                    dist = {"integrity": registry.integrity, "tarball": f"{registry.url}/c.tgz"}
                    body = json.dumps({"dist": dist}).encode()
                self.send_response(200)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def registry() -> Iterator[FakeRegistry]:
    fake = FakeRegistry()
    thread = threading.Thread(target=fake.server.serve_forever, daemon=True)
    thread.start()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


def test_it_writes_the_files_of_a_tarball_whose_sha512_matches(
    registry: FakeRegistry, tmp_path: Path
) -> None:
    registry.tarball = _tarball(b"/* chart */")
    registry.integrity = vendor_js.sri_sha512(registry.tarball)

    written = vendor_js.fetch(tmp_path, registry.url, registry.integrity)

    assert sorted(p.name for p in written) == ["chart.js-LICENSE.md", "chart.umd.min.js"]
    assert (tmp_path / "chart.umd.min.js").read_bytes() == b"/* chart */"


def test_it_refuses_a_tarball_that_is_not_the_one_pinned(
    registry: FakeRegistry, tmp_path: Path
) -> None:
    pinned = vendor_js.sri_sha512(_tarball(b"/* chart */"))
    registry.integrity = pinned  # the metadata agrees with the pin...
    registry.tarball = _tarball(b"/* chart, tampered */")  # ...the download does not

    with pytest.raises(SystemExit, match="tarball's sha512 is not"):
        vendor_js.fetch(tmp_path, registry.url, pinned)
    assert not (tmp_path / "chart.umd.min.js").exists()


def test_it_refuses_a_registry_that_names_another_integrity(
    registry: FakeRegistry, tmp_path: Path
) -> None:
    registry.tarball = _tarball(b"/* chart */")
    registry.integrity = vendor_js.sri_sha512(registry.tarball)

    with pytest.raises(SystemExit, match="the registry says"):
        vendor_js.fetch(tmp_path, registry.url, vendor_js.INTEGRITY)
