"""The in-repo mock LLM provider: OpenAI, Azure OpenAI, Anthropic and Gemini on the wire.

Used by `make run` (port 9090), the tests and the benchmarks. A pure ASGI app
(app.py) that answers deterministically (answers.py) in each provider's own
format (openai_wire.py, anthropic_wire.py, gemini_wire.py), fails on demand
(scenarios.py holds the grammar) and records what reached it (recorder.py).
Run it with `python -m gateway.mock_provider --port 9090`. Never imports Django.
"""
