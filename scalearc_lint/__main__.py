"""``python -m scalearc_lint``."""

from scalearc_lint.cli import console_main

console_main()
