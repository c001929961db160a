"""Provider adapters: each vendor's operations behind one interface (see docs/adapters.md)."""
