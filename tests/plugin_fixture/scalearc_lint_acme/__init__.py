"""A plugin distribution with one rule, discovered through the entry point group."""
