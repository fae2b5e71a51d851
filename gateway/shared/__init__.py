"""What web and the proxy both rely on; Django-free, and it imports nothing else of ours.

Money, sealing and hashing of secrets, the snapshot's shapes and Redis keys,
the usage event, the budget key layout and windows, the managed-access and
SSRF rules both sides enforce, and the providers' names. The proxy imports it;
so does the control plane, instead of the proxy's internals (import-linter
contracts in pyproject.toml, run by `make check`, hold both rules).
"""
