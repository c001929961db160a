"""Cross-cutting building blocks: settings, AWS clients, errors, request context."""
