"""Budgets and rate limits: what an org may spend, and how fast; the proxy enforces them."""
