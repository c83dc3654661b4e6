"""Subcommands; each module exposes ``register(subparsers)`` setting ``func`` to its runner."""

from __future__ import annotations

from types import ModuleType

from scalearc_lint.commands import check, explain, export, list_rules, synth

COMMANDS: tuple[ModuleType, ...] = (export, check, list_rules, explain, synth)
