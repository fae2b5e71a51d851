"""The budget engine: periods, Redis layout, and the admit/settle scripts around a request."""
