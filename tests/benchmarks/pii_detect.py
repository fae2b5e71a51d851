"""Microbenchmark of `detect()` with every validator entity on: p50/p99 per call.

    .venv/bin/python -m tests.benchmarks.pii_detect [--iterations N]

Rows: a typical 500-byte chat prompt without PII; the same with an email
address and a phone number; a 500-byte prompt full of everyday digits
(dates, prices, an order id); a 10 KB document mixing all of these; and the
email + phone prompt again with only the six types `make bench`'s policy
asks for (detectors and prefilter checks of other types are skipped). Each
row is timed call by call with time.perf_counter_ns after a warm-up, so the
percentiles are of single calls. Issue 5's target: at most 100 us p50 for
the typical prompt. The machine is shared: compare the rows of one run.
"""

from __future__ import annotations

import sys
import time

from gateway.proxy.pii import detect

ITERATIONS = 3000
WARMUP = 200

PLAIN = (
    "Hi! I'm refactoring a small Python service that sends invoices to our customers "
    "and I'd like a second opinion. Right now the retry logic lives inside the HTTP "
    "client wrapper, which makes it hard to test and even harder to reason about when "
    "the upstream API is slow. Could you suggest a cleaner structure? I was thinking of "
    "a separate policy object with exponential backoff and jitter, injected into the "
    "client. Please keep the answer short, show the key classes, and explain the trade-offs."
)
WITH_CONTACT = PLAIN.replace(
    "Please keep the answer short",
    "Mail me at dana.whitfield@example.com or call (415) 555-2671. Keep it short",
)
WITH_DIGITS = (
    "Order #A-10023-77 was placed on 2024-03-18 and shipped on 03/21/2024 for $1,249.99 "
    "plus $18.50 shipping. The second order, 88412093, came to EUR 312.40 on 21.03.2024. "
    "We refunded 2 of the 5 items (version 3.11.4 of the app showed 12 instead of 7). "
    "Can you draft a polite reply explaining that the refund of $499.95 will arrive "
    "within 5 to 7 business days, that order 88412093 is unaffected, and that the next "
    "delivery window opens at 10:30 on April 2nd? Keep it under 120 words."
)
DOCUMENT = "\n\n".join(
    [PLAIN, WITH_DIGITS, WITH_CONTACT]
    + [
        "Ticket 4471 from the billing team: the customer's card 4111 1111 1111 1111 was "
        "charged twice on 2024-02-02; their IBAN is DE89 3704 0044 0532 0130 00 and the "
        "request came from 192.168.10.24. " + PLAIN
    ]
    * 6
    + [WITH_DIGITS, PLAIN, WITH_CONTACT] * 3
)[:10240]

ROWS = (
    ("chat prompt, no PII", PLAIN),
    ("chat prompt, email + phone", WITH_CONTACT),
    ("chat prompt, everyday digits", WITH_DIGITS),
    ("10 KB document", DOCUMENT),
)
# The entity types of make bench's PII policy (tests/benchmarks/run.py).
BENCH_POLICY_TYPES = frozenset({"EMAIL", "PHONE", "CREDIT_CARD", "US_SSN", "IBAN", "IP_ADDRESS"})
POLICY_ROWS = (("email + phone, bench policy", WITH_CONTACT),)


def _percentile(ordered: list[int], fraction: float) -> int:
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def measure(
    text: str, iterations: int, entities: frozenset[str] | None = None
) -> tuple[float, float]:
    """Return the p50 and p99 of detect(text, entities), in microseconds."""
    for _ in range(WARMUP):
        detect(text, entities)
    samples: list[int] = []
    clock = time.perf_counter_ns
    for _ in range(iterations):
        started = clock()
        detect(text, entities)
        samples.append(clock() - started)
    samples.sort()
    return _percentile(samples, 0.5) / 1000, _percentile(samples, 0.99) / 1000


def main(argv: list[str]) -> int:
    iterations = int(argv[argv.index("--iterations") + 1]) if "--iterations" in argv else ITERATIONS
    print(
        f"detect(), all validator entities (the last row: the policy's), {iterations} calls per row"
    )
    print(f"{'':<32} {'bytes':>6} {'p50 us':>9} {'p99 us':>9}")
    for name, text in ROWS:
        p50, p99 = measure(text, iterations if len(text) < 2000 else max(1, iterations // 10))
        print(f"{name:<32} {len(text.encode()):>6} {p50:>9.1f} {p99:>9.1f}")
    for name, text in POLICY_ROWS:
        p50, p99 = measure(text, iterations, BENCH_POLICY_TYPES)
        print(f"{name:<32} {len(text.encode()):>6} {p50:>9.1f} {p99:>9.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
