"""Builders tests share: one module per area, imported from here, never from another test module.

A builder makes what a test needs the way a user or the system would (through
the API, a real proxy, a Lua script's own keys) and returns what the test
asserts on. Constants that several tests' data hinge on live beside them.
"""
