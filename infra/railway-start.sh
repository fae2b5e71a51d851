#!/bin/sh
# Start the process named by SELIXES_SERVICE (web, proxy, worker, beat) on Railway.
set -eu
case "${SELIXES_SERVICE:?set SELIXES_SERVICE to web, proxy, worker or beat}" in
  web)    python manage.py migrate --noinput
          exec gunicorn config.wsgi --bind "0.0.0.0:${PORT:-8000}" --workers 3 --threads 4 ;;
  proxy)  exec uvicorn gateway.proxy.asgi:app --host 0.0.0.0 --port "${PORT:-8080}" \
            --workers "${SELIXES_PROXY_WORKERS:-2}" --loop uvloop --http httptools --no-access-log \
            --no-proxy-headers --no-server-header ;;
  worker) exec celery -A config worker --loglevel INFO --concurrency 4 ;;
  beat)   exec celery -A config beat --loglevel INFO --schedule /tmp/celerybeat-schedule ;;
  *)      echo "unknown SELIXES_SERVICE=$SELIXES_SERVICE" >&2; exit 2 ;;
esac
