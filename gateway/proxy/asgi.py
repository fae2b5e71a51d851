"""The proxy's ASGI entry point for the server: `uvicorn gateway.proxy.asgi:app`."""

from gateway.proxy.app import build_app
from gateway.proxy.config import ProxySettings

app = build_app(ProxySettings.from_env())
