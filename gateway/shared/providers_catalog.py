"""The providers a deployment may name: the one list web validates against.

The proxy keeps its own adapter registry (gateway.proxy.providers); the names
here must stay identical to its keys, since the snapshot carries them as is.
"""

from __future__ import annotations

PROVIDERS: tuple[str, ...] = (
    "openai",
    "azure",
    "anthropic",
    "gemini",
    "openai_compatible",
    "mistral",
    "groq",
    "deepseek",
    "xai",
    "together",
    "vllm",
    "ollama",
)

PROVIDER_LABELS: dict[str, str] = {
    "openai": "OpenAI",
    "azure": "Azure OpenAI",
    "anthropic": "Anthropic",
    "gemini": "Google Gemini",
    "openai_compatible": "OpenAI-compatible",
    "mistral": "Mistral",
    "groq": "Groq",
    "deepseek": "DeepSeek",
    "xai": "xAI",
    "together": "Together AI",
    "vllm": "vLLM",
    "ollama": "Ollama",
}

# Self-hosted servers have no public endpoint: a deployment must say where they run.
NEEDS_API_BASE = frozenset({"azure", "openai_compatible", "vllm", "ollama"})
# Azure OpenAI addresses a deployment by api-version as well as by URL.
NEEDS_API_VERSION = frozenset({"azure"})

PROVIDER_CHOICES: list[tuple[str, str]] = [(p, PROVIDER_LABELS[p]) for p in PROVIDERS]


def platform_key_variable(provider: str) -> str:
    """The environment variable holding the platform's (managed) key for a provider."""
    return f"SELIXES_PLATFORM_KEY_{provider.upper()}"
