import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

# Web's metrics on their own port, when SELIXES_WEB_METRICS_PORT is set (imported
# after the application: it reads settings).
from observability.web_metrics import serve_from_settings  # noqa: E402

serve_from_settings()
