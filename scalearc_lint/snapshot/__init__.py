"""The snapshot: its typed model, loader and schema, builders, and the inventory view rules read."""
