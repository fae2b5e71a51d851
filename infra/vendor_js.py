"""Re-fetch the dashboard's vendored JavaScript (Chart.js) from the npm registry, checked.

`make vendor-js` runs this. The dashboard serves Chart.js from its own static
files (no CDN, nothing downloaded at run time); this is how those files were
made and how to make them again: the package's tarball from registry.npmjs.org,
its sha512 compared with both the registry's metadata (dist.integrity) and the
value pinned here, so a tampered tarball or a changed registry answer stops the
update instead of reaching the repository. Only the standard library: no npm.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import sys
import tarfile
import urllib.request
from pathlib import Path

PACKAGE = "chart.js"
VERSION = "4.6.1"
# dist.integrity of chart.js@4.6.1 on registry.npmjs.org (npm view chart.js@4.6.1 dist).
INTEGRITY = (
    "sha512-hJyniucsFmq//EvXYvJ6c6mahPoI3kaxdjVH8awTaJ/fDNWeSqqqArixMJWkWNN6"
    "fcYvPU3HneSANFNYtRi61g=="
)
REGISTRY = "https://registry.npmjs.org"
# tarball member -> file under VENDOR_DIR
FILES = {
    "package/dist/chart.umd.min.js": "chart.umd.min.js",
    "package/LICENSE.md": "chart.js-LICENSE.md",
}
VENDOR_DIR = (
    Path(__file__).resolve().parent.parent / "dashboard" / "static" / "dashboard" / "vendor"
)


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310  # the registry's https URL
        body: bytes = response.read()
    return body


def sri_sha512(data: bytes) -> str:
    """The Subresource Integrity form npm records: "sha512-" + base64 of the digest."""
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def fetch(
    target: Path = VENDOR_DIR, registry: str = REGISTRY, integrity: str = INTEGRITY
) -> list[Path]:
    """Download the pinned tarball, check its sha512 twice, and write FILES under `target`."""
    metadata = json.loads(_get(f"{registry}/{PACKAGE}/{VERSION}"))
    dist = metadata["dist"]
    if dist["integrity"] != integrity:
        raise SystemExit(
            f"{PACKAGE}@{VERSION}: the registry says {dist['integrity']}, pinned {integrity}"
        )
    tarball = _get(dist["tarball"])
    if sri_sha512(tarball) != integrity:
        raise SystemExit(f"{PACKAGE}@{VERSION}: the tarball's sha512 is not {integrity}")
    target.mkdir(parents=True, exist_ok=True)
    written = []
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        for member, name in FILES.items():
            extracted = archive.extractfile(member)
            if extracted is None:
                raise SystemExit(f"{PACKAGE}@{VERSION}: {member} is not a file in the tarball")
            path = target / name
            path.write_bytes(extracted.read())
            written.append(path)
    return written


if __name__ == "__main__":
    for path in fetch():
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        sys.stdout.write(f"{path.relative_to(VENDOR_DIR.parents[3])}  sha256 {digest}\n")
