#!/bin/sh
# Start the process named by SELIXES_SERVICE (web, proxy, worker, beat) on Railway.
set -eu
case "${SELIXES_SERVICE:?set SELIXES_SERVICE to web, proxy, worker or beat}" in
  # Web's and the worker's metrics likewise: :9092 and :9093 on the private network.
  web)    python manage.py migrate --noinput
          export SELIXES_WEB_METRICS_HOST="${SELIXES_WEB_METRICS_HOST:-::}"
          export SELIXES_WEB_METRICS_PORT="${SELIXES_WEB_METRICS_PORT:-9092}"
          export PROMETHEUS_MULTIPROC_DIR="${PROMETHEUS_MULTIPROC_DIR:-$(mktemp -d)}"
          exec gunicorn config.wsgi --bind "0.0.0.0:${PORT:-8000}" --workers 3 --threads 4 \
            --no-control-socket ;;
  # Metrics on their own port (CONTRACT.md section 5). Railway publishes only
  # $PORT, so binding :: opens 9091 to the project's private network alone
  # (proxy.railway.internal:9091 for a Prometheus service there), never to tenants.
  # The workers' counters meet in PROMETHEUS_MULTIPROC_DIR, summed by each scrape.
  proxy)  export SELIXES_METRICS_HOST="${SELIXES_METRICS_HOST:-::}"
          export PROMETHEUS_MULTIPROC_DIR="${PROMETHEUS_MULTIPROC_DIR:-$(mktemp -d)}"
          exec uvicorn gateway.proxy.asgi:app --host 0.0.0.0 --port "${PORT:-8080}" \
            --workers "${SELIXES_PROXY_WORKERS:-2}" --loop uvloop --http httptools --no-access-log \
            --no-proxy-headers --no-server-header ;;
  worker) export SELIXES_WORKER_METRICS_HOST="${SELIXES_WORKER_METRICS_HOST:-::}"
          export SELIXES_WORKER_METRICS_PORT="${SELIXES_WORKER_METRICS_PORT:-9093}"
          export PROMETHEUS_MULTIPROC_DIR="${PROMETHEUS_MULTIPROC_DIR:-$(mktemp -d)}"
          exec celery -A config worker --loglevel INFO --concurrency 4 ;;
  beat)   exec celery -A config beat --loglevel INFO --schedule /tmp/celerybeat-schedule ;;
  *)      echo "unknown SELIXES_SERVICE=$SELIXES_SERVICE" >&2; exit 2 ;;
esac
