"""Azure OpenAI: OpenAI's wire format behind per-deployment URLs and an `api-key` header.

Classic paths name the Azure deployment in the URL and pin an api-version:
`{api_base}/openai/deployments/{model}/chat/completions?api-version=...`.
The v1 API (`api_version` "v1", or an api_base ending in /openai/v1) takes
OpenAI's own paths with the model in the body.
"""

from __future__ import annotations

from urllib.parse import quote

from gateway.proxy.providers.common import api_base
from gateway.proxy.providers.openai import Flavor, OpenAIAdapter
from gateway.shared.snapshot import DeploymentEntry

# The latest GA data-plane version when this was written; a deployment may pin another.
DEFAULT_API_VERSION = "2024-10-21"


class AzureOpenAIAdapter(OpenAIAdapter):
    def __init__(self) -> None:
        super().__init__(Flavor("azure", None))

    def _headers(self, api_key: str) -> dict[str, str]:
        return {
            "content-type": "application/json",
            "accept": "application/json",
            "api-key": api_key,
        }

    def _url(self, deployment: DeploymentEntry, operation: str) -> str:
        base = api_base(deployment, None)
        version = deployment.get("api_version") or DEFAULT_API_VERSION
        if version == "v1" or base.endswith("/openai/v1"):
            root = base if base.endswith("/openai/v1") else base + "/openai/v1"
            return f"{root}/{operation}"
        name = quote(deployment["model"], safe="")
        return f"{base}/openai/deployments/{name}/{operation}?api-version={quote(version, safe='')}"

    def chat_url(self, deployment: DeploymentEntry) -> str:
        return self._url(deployment, "chat/completions")

    def embeddings_url(self, deployment: DeploymentEntry) -> str:
        return self._url(deployment, "embeddings")
