"""Run the mock provider: `python -m gateway.mock_provider --host 127.0.0.1 --port 9090`."""

from __future__ import annotations

import argparse

import uvicorn


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and serve the mock with uvicorn until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m gateway.mock_provider")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9090)
    # Each worker keeps its own recorder: tests reading /_mock/requests want one.
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)
    uvicorn.run(
        "gateway.mock_provider.app:build_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level=args.log_level,
    )


if __name__ == "__main__":
    main()
