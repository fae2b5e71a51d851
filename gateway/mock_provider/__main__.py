"""Run the mock provider: `python -m gateway.mock_provider --host 127.0.0.1 --port 9090`."""

from __future__ import annotations

import argparse
import inspect

import uvicorn

from gateway.mock_provider import app, scenarios


def _body(module_doc: str | None) -> str:
    """A module docstring without its one-line summary (empty under python -OO)."""
    return inspect.cleandoc(module_doc or "").partition("\n\n")[2]


def help_epilog() -> str:
    """What --help says after the options: the failure modes, then the endpoints.

    Read from the docstrings of scenarios.py and app.py, so the grammar and the
    routes are written down once, where the code that implements them lives.
    """
    return (
        "Failure modes and answer shapes (scenarios):\n\n"
        f"{_body(scenarios.__doc__)}\n\n"
        "Endpoints, per provider dialect:\n\n"
        f"{_body(app.__doc__)}\n\n"
        "Through the proxy, put the terms in a deployment's model name, e.g. a route\n"
        "whose deployment model is gpt-4o-mock-error-503 fails over on every request;\n"
        "called directly, send the header, e.g.\n"
        "  curl localhost:9090/v1/chat/completions -H 'authorization: Bearer any' \\\n"
        "       -H 'x-mock-scenario: error:429,retry-after:2' \\\n"
        '       -d \'{"model": "m", "messages": [{"role": "user", "content": "hi"}]}\''
    )


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and serve the mock with uvicorn until interrupted."""
    parser = argparse.ArgumentParser(
        prog="python -m gateway.mock_provider",
        description="An offline LLM provider speaking the OpenAI, Azure OpenAI, Anthropic"
        " and Gemini wire formats, answering deterministically and failing on demand.",
        epilog=help_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
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
