"""Appliance identification: attributes, tags, name pattern, folder; pairs and orphans."""

from __future__ import annotations

from scalearc_lint.snapshot.identification import ApplianceSelection, Role
from scalearc_lint.snapshot.inventory import Inventory
from scalearc_lint.snapshot.sketch import build


def test_attributes_and_tags_identify_appliances() -> None:
    snapshot = build(
        {
            "appliances": {
                "sa-a": {"role": "primary", "pair": "p"},
                "sa-b": {"role": "secondary", "pair": "p", "by": "tags"},
                "sa-c": {"role": "standalone", "by": "tags"},
            },
            "vms": {"web": {}},
        }
    )
    inventory = Inventory(snapshot)
    roles = {a.vm.name: (a.role, a.pair) for a in inventory.appliances.values()}
    assert roles == {
        "sa-a": (Role.PRIMARY, "p"),
        "sa-b": (Role.SECONDARY, "p"),
        "sa-c": (Role.STANDALONE, None),
    }
    assert list(inventory.pairs) == ["p"]
    assert [a.active for a in inventory.appliances.values()] == [True, False, True]


def test_role_values_are_case_and_space_insensitive() -> None:
    snapshot = build({"appliances": {"sa-a": {"role": " Primary ", "pair": "p"}}})
    assert Inventory(snapshot).appliances["vm-1"].role is Role.PRIMARY


def test_unknown_role_value_is_not_an_appliance_but_stays_in_its_pair() -> None:
    snapshot = build({"appliances": {"sa-a": {"role": "secundary", "pair": "p"}}})
    inventory = Inventory(snapshot)
    assert inventory.appliances == {}
    assert inventory.pairs["p"].members[0].raw_role == "secundary"


def test_primary_without_pair_id_gets_a_stand_in_pair() -> None:
    inventory = Inventory(build({"appliances": {"sa-a": {"role": "primary"}}}))
    assert list(inventory.pairs) == ["(no pair id) sa-a"]
    assert inventory.pairs["(no pair id) sa-a"].orphan


def test_name_pattern_selection() -> None:
    snapshot = build(
        {"vms": {"scalearc-blue-primary": {}, "scalearc-blue-secondary": {}, "web-1": {}}}
    )
    selection = ApplianceSelection(
        by="name", name_pattern=r"scalearc-(?P<pair>\w+)-(?P<role>primary|secondary)"
    )
    inventory = Inventory(snapshot, selection=selection)
    assert sorted((a.vm.name, a.role.value, a.pair) for a in inventory.appliances.values()) == [
        ("scalearc-blue-primary", "primary", "blue"),
        ("scalearc-blue-secondary", "secondary", "blue"),
    ]


def test_folder_selection_defaults_to_standalone() -> None:
    snapshot = build({"vms": {"db-proxy": {}}})
    selection = ApplianceSelection(by="folder", folders=["/dc-1/vm"])
    appliance = next(iter(Inventory(snapshot, selection=selection).appliances.values()))
    assert appliance.role is Role.STANDALONE


def test_folder_selection_matches_whole_path_segments() -> None:
    snapshot = build({"vms": {"db-proxy": {}}})
    selection = ApplianceSelection(by="folder", folders=["/dc-1/v"])
    assert Inventory(snapshot, selection=selection).appliances == {}


def test_custom_attribute_names() -> None:
    snapshot = build({"appliances": {"sa-a": {"role": "primary", "pair": "p"}}})
    selection = ApplianceSelection(role_attribute="other-role")
    assert Inventory(snapshot, selection=selection).appliances == {}
