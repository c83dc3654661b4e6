"""Which VMs are ScaleArc appliances, with which role and HA pair.

Defaults follow DESIGN.md: a custom attribute or vSphere tag category
``scalearc-role`` valued ``primary``, ``secondary`` or ``standalone``, and
``scalearc-ha-pair`` holding the pair id. A config file can select by name
pattern (named groups ``role`` and ``pair``) or by folder instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

import msgspec

from scalearc_lint.snapshot.model import Tag, VirtualMachine


class Role(StrEnum):
    """An appliance's HA role."""

    PRIMARY = "primary"
    SECONDARY = "secondary"
    STANDALONE = "standalone"

    @property
    def active(self) -> bool:
        """Primary and standalone appliances carry live traffic."""
        return self is not Role.SECONDARY


def fold(text: str) -> str:
    """An attribute name, tag category or value as identification compares it."""
    return text.strip().casefold()


class ApplianceSelection(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """How appliances are recognised (the ``appliances:`` section of the config file)."""

    by: Literal["attributes", "name", "folder"] = "attributes"
    role_attribute: str = "scalearc-role"
    pair_attribute: str = "scalearc-ha-pair"
    name_pattern: str | None = None
    folders: list[str] = []

    def __post_init__(self) -> None:
        if self.name_pattern is not None:
            try:
                pattern = re.compile(self.name_pattern)
            except re.error as exc:
                raise ValueError(f"name_pattern is not a valid regular expression: {exc}") from None
            if "role" not in pattern.groupindex and self.by == "name":
                raise ValueError("name_pattern needs a named group 'role', e.g. (?P<role>...)")
        if self.by == "name" and self.name_pattern is None:
            raise ValueError("by: name needs a name_pattern")
        if self.by == "folder" and not self.folders:
            raise ValueError("by: folder needs at least one entry in folders")


@dataclass(frozen=True, slots=True)
class Identity:
    """What identification says about one VM: its role (if a valid one) and its pair id."""

    role: Role | None
    pair: str | None
    raw_role: str | None


class Identifier:
    """Applies an :class:`ApplianceSelection` to VMs."""

    def __init__(self, selection: ApplianceSelection) -> None:
        self.selection = selection
        self._pattern = re.compile(selection.name_pattern) if selection.name_pattern else None
        self._folders = tuple(f.rstrip("/") + "/" for f in selection.folders)

    def identify(self, vm: VirtualMachine) -> Identity | None:
        """Role and pair of ``vm``, or ``None`` when it is not an appliance or pair member."""
        if vm.template:
            return None
        s = self.selection
        if s.by == "name":
            return self._from_name(vm)
        raw_role = self._attribute(vm, s.role_attribute)
        pair = self._attribute(vm, s.pair_attribute)
        if s.by == "folder":
            if not (vm.folder + "/").startswith(self._folders):
                return None
            from_name = self._from_name(vm) if self._pattern else None
            if raw_role is None and from_name is not None:
                return from_name
            # A VM in an appliance folder without a role is linted as the strictest kind.
            raw_role = raw_role if raw_role is not None else Role.STANDALONE.value
        if raw_role is None and pair is None:
            return None
        return Identity(_role(raw_role), pair, raw_role)

    def _from_name(self, vm: VirtualMachine) -> Identity | None:
        assert self._pattern is not None
        match = self._pattern.fullmatch(vm.name)
        if match is None:
            return None
        groups = match.groupdict()
        raw_role = groups.get("role")
        return Identity(_role(raw_role), groups.get("pair") or None, raw_role)

    @staticmethod
    def _attribute(vm: VirtualMachine, name: str) -> str | None:
        """A custom attribute's value, else the name of a tag in the category of that name."""
        value = vm.custom_attributes.get(name)
        if value is not None and value.strip():
            return value.strip()
        # min(), not sorted()[0]: this runs for every VM, and nearly all have no such tag.
        tags = [tag.name.strip() for tag in vm.tags if tag.category == name]
        return min(tags) if tags else None


def _role(raw: str | None) -> Role | None:
    if raw is None:
        return None
    try:
        return Role(raw.strip().lower())
    except ValueError:
        return None


def with_role(vm: VirtualMachine, selection: ApplianceSelection, role: Role) -> VirtualMachine:
    """``vm`` with ``role`` written wherever identification reads its role.

    Every custom attribute and tag of the role attribute's name (any case) is rewritten, so
    sources that agreed still agree; a VM with neither gets a tag in that category.
    """
    key = fold(selection.role_attribute)
    written = False
    attributes = dict(vm.custom_attributes)
    for name, value in vm.custom_attributes.items():
        if fold(name) == key and value.strip():
            attributes[name], written = role.value, True
    tags: list[Tag] = []
    for tag in vm.tags:
        if fold(tag.category) != key or not tag.name.strip():
            tags.append(tag)
        elif not any(fold(t.category) == key for t in tags):
            tags.append(Tag(category=tag.category, name=role.value))
            written = True
    if not written:
        tags.append(Tag(category=selection.role_attribute, name=role.value))
    return msgspec.structs.replace(vm, custom_attributes=attributes, tags=tags)
