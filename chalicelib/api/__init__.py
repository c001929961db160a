"""HTTP surface: one Blueprint per resource plus the shared request pipeline."""
