"""Client-facing wire formats and the SSE framing they share; canonical form is OpenAI's."""
