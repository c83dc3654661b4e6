"""Which VMs are ScaleArc appliances, with which role and HA pair.

Defaults follow DESIGN.md: a custom attribute or vSphere tag category
``scalearc-role`` valued ``primary``, ``secondary`` or ``standalone``, and
``scalearc-ha-pair`` holding the pair id. A config file can select by name
pattern (named groups ``role`` and ``pair``) or by folder instead.

Attribute and tag-category names match case-insensitively; values are trimmed
and case-folded, so ``ScaleArc-Role: " Primary "`` is the role ``primary`` and
pair ids ``Orders`` and ``orders`` are one pair. Identification never guesses:
a VM whose sources disagree (attribute ``secondary``, tag ``primary``), that
carries several role or pair values, whose role value is not a role, or that
names a pair but no role, is :class:`Identity` with a ``problem`` — reported as
ID001, and every result that depends on its role is ``unknown``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
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
    #: vCenters (names as in the snapshot's ``source.vcenter``, any case) that run no
    #: appliance: finding none there is not an ID001 failure.
    none_expected_in: list[str] = []

    def __post_init__(self) -> None:
        # Messages start with the key they are about: the config loader points at its line.
        if self.name_pattern is not None:
            try:
                pattern = re.compile(self.name_pattern)
            except re.error as exc:
                raise ValueError(f"name_pattern: not a valid regular expression: {exc}") from None
            if "role" not in pattern.groupindex and self.by == "name":
                raise ValueError("name_pattern: needs a named group 'role', e.g. (?P<role>...)")
        if self.by == "name" and self.name_pattern is None:
            raise ValueError("by: name needs a name_pattern")
        if self.by == "folder" and not self.folders:
            raise ValueError("by: folder needs at least one entry in folders")
        for key in ("role_attribute", "pair_attribute"):
            if not fold(getattr(self, key)):
                raise ValueError(f"{key}: must not be empty")
        if fold(self.role_attribute) == fold(self.pair_attribute):
            raise ValueError(
                "pair_attribute: must differ from role_attribute (names match in any case)"
            )
        if any(not name.strip() for name in self.none_expected_in):
            raise ValueError("none_expected_in: expected vCenter names, got an empty one")

    def expects_appliances(self, vcenter: str) -> bool:
        """Whether a vCenter without any identified appliance is a finding (ID001)."""
        return fold(vcenter) not in {fold(name) for name in self.none_expected_in}

    def describe(self) -> str:
        """The selectors in words, for a finding that says what was looked for."""
        names = (
            f"custom attribute or tag category {self.role_attribute!r} (any case) valued "
            f"primary, secondary or standalone, pair id in {self.pair_attribute!r}"
        )
        if self.by == "name":
            return f"VM names matching {self.name_pattern!r} (groups role, pair)"
        if self.by == "folder":
            pattern = f", else names matching {self.name_pattern!r}" if self.name_pattern else ""
            return (
                f"VMs in folder(s) {', '.join(self.folders)}; role from {names}{pattern} "
                "(none: standalone)"
            )
        return names


@dataclass(frozen=True, slots=True)
class Identity:
    """What identification says about one VM the selectors pick up.

    Either ``role`` (and ``pair``, if any) are known, or ``problem`` says why they cannot
    be told; ``claimed_pairs`` then lists every pair id the VM names, so each of those
    pairs is in doubt too.
    """

    role: Role | None
    pair: str | None
    problem: str | None = None
    claimed_pairs: tuple[str, ...] = ()


#: A value found for the role or pair: (where, e.g. "custom attribute 'scalearc-role'", value).
_Found = tuple[str, str]
_ROLE, _PAIR = 1, 2
_ROLE_VALUES = frozenset(role.value for role in Role)


class Identifier:
    """Applies an :class:`ApplianceSelection` to VMs."""

    def __init__(self, selection: ApplianceSelection) -> None:
        self.selection = selection
        self._pattern = re.compile(selection.name_pattern) if selection.name_pattern else None
        self._folders = tuple(f.rstrip("/") + "/" for f in selection.folders)
        self._role_key = fold(selection.role_attribute)
        self._pair_key = fold(selection.pair_attribute)
        # Attribute names and tag categories repeat across every VM of a vCenter: fold
        # each distinct one once, not once per VM (this runs for every VM of the run).
        self._kinds: dict[str, int] = {}

    def identify(self, vm: VirtualMachine) -> Identity | None:
        """Role and pair of ``vm``; ``None`` when the selectors do not pick it up."""
        if vm.template:
            return None
        if self.selection.by == "name":
            named = self._name_values(vm)
            return _judge(*named) if named is not None else None
        if not vm.custom_attributes and not vm.tags:
            # The common case: nothing to read. A folder selection still picks the VM up.
            roles: list[_Found] = []
            pairs: list[_Found] = []
        else:
            roles, pairs = self._values(vm)
        if self.selection.by == "folder":
            if not (vm.folder + "/").startswith(self._folders):
                return None
            named = self._name_values(vm) if not roles and self._pattern else None
            if named is not None:
                roles, pairs = named[0], pairs or named[1]
            if not roles:
                # A VM in an appliance folder without a role is linted as the strictest kind.
                roles = [("the folder selection (no role given)", Role.STANDALONE.value)]
        if not roles and not pairs:
            return None
        return _judge(roles, pairs)

    def _kind(self, name: str) -> int:
        kind = self._kinds.get(name)
        if kind is None:
            folded = fold(name)
            kind = _ROLE if folded == self._role_key else _PAIR if folded == self._pair_key else 0
            self._kinds[name] = kind
        return kind

    def _values(self, vm: VirtualMachine) -> tuple[list[_Found], list[_Found]]:
        """Every non-empty role and pair value the VM's attributes and tags carry."""
        # This runs for most VMs of every vCenter, and most carry none: nothing is
        # allocated until a value is found, and known names are one dict lookup.
        kinds = self._kinds
        found: tuple[list[_Found], list[_Found], list[_Found]] | None = None
        for name, value in vm.custom_attributes.items():
            kind = kinds.get(name)
            if kind is None:
                kind = self._kind(name)
            if kind and value.strip():
                found = found or ([], [], [])
                found[kind].append((f"custom attribute {name!r}", value))
        for tag in vm.tags:
            kind = kinds.get(tag.category)
            if kind is None:
                kind = self._kind(tag.category)
            if kind and tag.name.strip():
                found = found or ([], [], [])
                found[kind].append((f"tag in category {tag.category!r}", tag.name))
        return (found[_ROLE], found[_PAIR]) if found is not None else ([], [])

    def _name_values(self, vm: VirtualMachine) -> tuple[list[_Found], list[_Found]] | None:
        """Role and pair from the name pattern's groups; ``None`` when the name does not match."""
        assert self._pattern is not None
        match = self._pattern.fullmatch(vm.name)
        if match is None:
            return None
        groups = match.groupdict()
        where = f"the name pattern {self._pattern.pattern!r}"
        role, pair = groups.get("role"), groups.get("pair")
        return (
            [(where, role)] if role and role.strip() else [],
            [(where, pair)] if pair and pair.strip() else [],
        )

    def look_alikes(self, vms: Iterable[VirtualMachine]) -> list[str]:
        """Attribute names and tag categories resembling the configured ones (a likely typo)."""
        wanted = {_letters(self._role_key), _letters(self._pair_key)}
        seen: set[str] = set()
        for vm in vms:
            seen.update(vm.custom_attributes)
            seen.update(tag.category for tag in vm.tags)
        return sorted(
            name
            for name in seen
            if _letters(fold(name)) in wanted or "scalearc" in _letters(fold(name))
        )


def _letters(text: str) -> str:
    return "".join(c for c in text if c.isalnum())


def _judge(roles: list[_Found], pairs: list[_Found]) -> Identity:
    """One role and at most one pair id from what the sources say, or the problem."""
    pair_values = sorted({fold(value) for _, value in pairs})
    problems = []
    role_values = {fold(value) for _, value in roles}
    if len(role_values) > 1:
        problems.append(f"role sources disagree: {_listing(roles)}")
    elif not role_values:
        problems.append(f"it names HA pair {pair_values[0]!r} but has no role")
    else:
        (value,) = role_values
        if value not in _ROLE_VALUES:
            raw = roles[0][1].strip()
            problems.append(f"role {raw!r} is not primary, secondary or standalone ({roles[0][0]})")
    if len(pair_values) > 1:
        problems.append(f"HA pair id sources disagree: {_listing(pairs)}")
    if problems:
        return Identity(None, None, "; ".join(problems), tuple(pair_values))
    (role_value,) = role_values
    pair = pair_values[0] if pair_values else None
    return Identity(Role(role_value), pair, None, (pair,) if pair else ())


def _listing(found: list[_Found]) -> str:
    return ", ".join(f"{where} = {value.strip()!r}" for where, value in found)


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
