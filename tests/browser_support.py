"""Debian's Chromium as the browser tests and the browser benchmark start it."""

from __future__ import annotations

import os

CHROMIUM = os.environ.get("SCALEARC_LINT_CHROMIUM", "/usr/bin/chromium")
#: No sandbox (CI runs as root), no GPU, and nothing that calls off this machine.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
