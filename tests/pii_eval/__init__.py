"""PII detection evaluation: a seeded labeled corpus and `make pii-eval`.

Nothing here is a test module: the report is run by hand, never by pytest.
"""
