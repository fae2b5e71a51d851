"""Upstream stage (innermost): send to each candidate deployment in order; stream the answer back.

    failover.py  the stage: the client-disconnect watcher, the failover loop
                 over the candidates, and one attempt (build, send, refuse)
    relay.py     the answer in the canonical path: whole, or streamed through
                 the adapter's decoder and the client's encoder, cut on overrun
    native.py    the answer of a body passed through in the provider's own
                 format: forwarded byte for byte, usage read on the way

The budget steps these take (move on failover, cut on overrun, price and
tell) are gateway.proxy.budget.hold's.
"""

from gateway.proxy.stages.upstream.failover import UpstreamStage

__all__ = ["UpstreamStage"]
