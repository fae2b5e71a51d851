# The two commands of CONTRACT.md section 1, and the habits around them.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test check lint lint-imports format typecheck migrations-check bench bench-drain bench-storage pii-eval lock clean wipe vendor-js

$(STAMP): requirements.lock
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q --disable-pip-version-check uv==0.13.8
	@$(VENV)/bin/uv pip install -q --python $(PY) -r requirements.lock
	@touch $(STAMP)

run: $(STAMP)
	@$(PY) -m infra.run

# In parallel: one pytest-xdist worker per CPU (at most 8, one Redis database
# each; infra/testenv.py). --dist loadfile keeps a file's tests on one worker,
# so a module's servers (two proxies, a Redis Cluster) start once, not once per
# worker. A CI log gets every failure's output plus the slowest tests; logging
# capture stays on (tests read logs through caplog). PYTEST_ARGS comes last and
# wins: `make test PYTEST_ARGS="-n 0"` runs serially.
TEST_WORKERS ?= auto
test: $(STAMP)
	@$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile --durations=15 $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .

# Who may import whom: the contracts in pyproject.toml ([tool.importlinter]).
lint-imports: $(STAMP)
	$(VENV)/bin/lint-imports --no-cache --no-logo

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# The django-stubs plugin imports settings; it needs values, not services.
TYPECHECK_ENV := DJANGO_SECRET_KEY=typecheck SELIXES_HASH_KEY=typecheck SELIXES_MASTER_KEYS=k:x \
	DATABASE_URL=postgresql://typecheck@localhost/typecheck REDIS_URL=redis://localhost:1/0

typecheck: $(STAMP)
	$(TYPECHECK_ENV) $(PY) -m mypy .

migrations-check: $(STAMP)
	$(PY) manage.py makemigrations --check --dry-run

check: lint lint-imports typecheck migrations-check test

bench: $(STAMP)
	@$(PY) -m tests.benchmarks.run

# Usage events per second one drain worker writes (log, traces, rollups, ledger).
BENCH_EVENTS ?= 100000
bench-drain: $(STAMP)
	@$(PY) -m tests.benchmarks.drain --events $(BENCH_EVENTS)

# Request-log pages and the 30-day usage aggregation over ROWS generated rows
# of one org (seeded once into the embedded database, reused by later runs).
ROWS ?= 10000000
bench-storage: $(STAMP)
	@$(PY) -m tests.benchmarks.storage --rows $(ROWS)

# PII detection quality and speed on the committed corpus (tests/pii_eval).
pii-eval: $(STAMP)
	@$(PY) -m tests.pii_eval.run

# Re-pin the whole dependency tree after editing pyproject.toml.
lock: $(STAMP)
	$(VENV)/bin/uv pip compile -q --python-version 3.11 --extra dev --generate-hashes \
		pyproject.toml -o requirements.lock

# The dashboard's vendored Chart.js, fetched again from the npm registry with its
# sha512 checked (infra/vendor_js.py; dashboard/static/dashboard/vendor/README.md).
vendor-js: $(STAMP)
	$(PY) -m infra.vendor_js

# Stop the embedded services (make run stops them on Ctrl-C; this is for strays).
clean: $(STAMP)
	@$(PY) -c "from infra import embedded; embedded.stop()"

# Stop the embedded services and delete their data.
wipe: $(STAMP)
	@$(PY) -c "from infra import embedded; embedded.wipe()"
