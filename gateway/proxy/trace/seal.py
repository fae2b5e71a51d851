"""TraceSealer: whether a request keeps a trace, and its envelope sealed under the day's data key.

Decision (snapshot["observability"]): the project's override when it has
one, else the org's `enabled`; no observability part at all is off. It is
taken once per request, in the redact stage, and with off the request
carries no TraceCapture: nothing about payloads changes.

Sealing: the org's data key of the request's UTC day (the day it arrived) is
opened from the snapshot with SELIXES_MASTER_KEYS and
crypto.data_key_context(org, day); opened keys are cached per (org, day,
sealed string) in a small bounded dict, so a key is opened once per process
and day, and a re-wrapped key (a new sealed string) is opened again. The
payload is sealed with traces.seal_trace under trace_context(org, day,
request id) and rides the usage event as a TraceEnvelope.

A trace that cannot be sealed is dropped and counted, never kept in clear
(selixes_traces_dropped{reason}): no_data_key (none published for the day),
key_unreadable (the sealed key does not open: a master key missing, or no
SELIXES_MASTER_KEYS), unserializable (a half that JSON cannot write). The
request is served all the same. Keys and payloads are never logged, and no
exception carrying them leaves this module.
"""

from __future__ import annotations

import time

from gateway.proxy import metrics
from gateway.proxy.context import RequestContext
from gateway.proxy.trace.capture import TraceCapture
from gateway.shared.crypto import CryptoError, MasterKeys, data_key_context
from gateway.shared.snapshot import KeyEntry, Snapshot
from gateway.shared.traces import DATA_KEY_BYTES, TraceEnvelope, seal_trace, trace_context
from gateway.shared.usage_event import UsageEvent

# Opened data keys kept per process: an org needs one a day (two around midnight).
MAX_OPENED_KEYS = 1024
_SECONDS_PER_DAY = 86_400


def wants_trace(tenant: Snapshot, key: KeyEntry | None) -> bool:
    """Whether observability is on for this request: the project's override, else the org's."""
    observability = tenant.get("observability")
    if observability is None:
        return False
    if key is not None:
        override = observability["projects"].get(key["project_id"])
        if override is not None:
            return override
    return observability["enabled"]


class TraceSealer:
    def __init__(self, master_keys: MasterKeys | None) -> None:
        self._master = master_keys
        # (org, day, sealed) -> the opened key, or None when it does not open.
        self._keys: dict[tuple[str, str, str], bytes | None] = {}
        self._day_index = -1
        self._day = ""

    @classmethod
    def from_settings(cls, master_keys: str) -> TraceSealer:
        """SELIXES_MASTER_KEYS ("" = none: every trace is dropped as key_unreadable)."""
        return cls(MasterKeys.parse(master_keys) if master_keys else None)

    def begin(self, ctx: RequestContext) -> None:
        """Give the request a TraceCapture when observability is on and the day's key opens.

        Without a usable key nothing is captured; the drop is counted when the
        request ends, if it reached a provider (settle()).
        """
        tenant = ctx.tenant
        if tenant is None or not wants_trace(tenant, ctx.key):
            return
        data_key, reason = self._data_key(tenant, self.day_of(ctx.arrived_at))
        if data_key is None:
            ctx.trace_dropped = reason
            return
        ctx.trace = TraceCapture()

    def settle(self, ctx: RequestContext, event: UsageEvent) -> None:
        """Put the sealed trace on the usage event, or count why there is none."""
        capture = ctx.trace
        if capture is None:
            if ctx.trace_dropped is not None and ctx.attempts:
                metrics.TRACES_DROPPED.labels(ctx.trace_dropped).inc()
            return
        if not capture.kept or ctx.tenant is None:
            return  # refused before any provider was asked: nothing crossed the gateway
        org_id = ctx.tenant["org_id"]
        day = self.day_of(ctx.arrived_at)
        data_key, reason = self._data_key(ctx.tenant, day)
        if data_key is None:  # opened at begin(): only a full cache evicted it since
            metrics.TRACES_DROPPED.labels(reason).inc()
            return
        try:
            plaintext, _ = capture.payload(ctx.usage)
        except (TypeError, ValueError):
            metrics.TRACES_DROPPED.labels("unserializable").inc()
            return
        finally:
            ctx.trace = None  # the plaintext buffers go with the request, now
        sealed = seal_trace(data_key, plaintext, trace_context(org_id, day, ctx.request_id))
        envelope: TraceEnvelope = {"day": day, "sealed": sealed}
        event["trace"] = envelope

    def day_of(self, ts: float) -> str:
        """The UTC day "YYYY-MM-DD" of unix time `ts`, formatted once a day."""
        index = int(ts // _SECONDS_PER_DAY)
        if index != self._day_index:
            self._day = time.strftime("%Y-%m-%d", time.gmtime(index * _SECONDS_PER_DAY))
            self._day_index = index
        return self._day

    def _data_key(self, tenant: Snapshot, day: str) -> tuple[bytes | None, str]:
        observability = tenant.get("observability")
        sealed = observability["data_keys"].get(day) if observability else None
        if not sealed:
            return None, "no_data_key"
        org_id = tenant["org_id"]
        cache_key = (org_id, day, sealed)
        if cache_key in self._keys:
            opened = self._keys[cache_key]
        else:
            opened = self._open(org_id, day, sealed)
            if len(self._keys) >= MAX_OPENED_KEYS:
                del self._keys[next(iter(self._keys))]  # the oldest
            self._keys[cache_key] = opened
        return (opened, "") if opened is not None else (None, "key_unreadable")

    def _open(self, org_id: str, day: str, sealed: str) -> bytes | None:
        if self._master is None:
            return None
        try:
            key = self._master.open(sealed, data_key_context(org_id, day))
        except CryptoError:
            return None
        return key if len(key) == DATA_KEY_BYTES else None
