"""PII policy: what the proxy masks, pseudonymizes, blocks or allows, per org and per project."""
