"""Traces: what crossed the gateway for one request, captured in memory and sealed before it leaves.

With observability on for the request's project (or its org), CONTRACT.md
section 6, the proxy keeps:

    request   the body as sent to the provider (after PII redaction, in the
              provider's own format; with failover, the last attempt's)
    response  the answer as the caller got it, after the answer-side PII
              redaction but before restore_in_response put originals back;
              a stream assembled into one answer (assemble.py); a failed
              request's last provider error body, redacted like an answer

    capture.py   TraceCapture: the per-request buffers, bounded, and the JSON
                 with each half capped at traces.PART_MAX_BYTES (truncated)
    assemble.py  a client SSE stream (OpenAI or Anthropic) into one answer
    seal.py      TraceSealer: the per-request decision, the data key of the
                 UTC day (opened once, cached), and the sealed envelope on
                 the usage event; dropped traces counted, never kept in clear

With observability off nothing here runs: ctx.trace stays None and every
hook is one attribute check.
"""
