"""Appliance identification (attributes, tags, name pattern, folder; pairs, orphans, doubt)
and the estate that joins several vCenters."""

from __future__ import annotations

from typing import Any

import pytest

from scalearc_lint.snapshot.builder import InventoryBuilder
from scalearc_lint.snapshot.identification import (
    ApplianceSelection,
    Identifier,
    Identity,
    Role,
    with_role,
)
from scalearc_lint.snapshot.inventory import Estate, Inventory
from scalearc_lint.snapshot.model import Tag
from scalearc_lint.snapshot.sketch import build, build_estate


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


def test_unknown_role_value_is_unidentified_and_puts_its_pair_in_doubt() -> None:
    snapshot = build({"appliances": {"sa-a": {"role": "secundary", "pair": "p"}}})
    inventory = Inventory(snapshot)
    assert inventory.appliances == {}
    unsure = inventory.unidentified["vm-1"]
    assert "role 'secundary' is not primary, secondary or standalone" in unsure.problem
    assert inventory.pairs["p"].members == ()
    assert [u.vm.name for u in inventory.pairs["p"].unidentified] == ["sa-a"]


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


def identify(
    attributes: dict[str, str] | None = None,
    tags: list[tuple[str, str]] | None = None,
    selection: ApplianceSelection | None = None,
) -> Identity | None:
    """What the identifier says about one VM carrying these attributes and tags."""
    b = InventoryBuilder()
    host = b.host("esx-1", b.cluster("cl", b.datacenter("dc")))
    moid = b.vm(
        "vm",
        host,
        custom_attributes=attributes or {},
        tags=[Tag(category=c, name=n) for c, n in tags or []],
        folder="/dc/vm/ScaleArc",
    )
    return Identifier(selection or ApplianceSelection()).identify(b.build().vms[moid])


@pytest.mark.parametrize(
    ("attributes", "tags", "role", "pair"),
    [
        ({"ScaleArc-Role": " Primary ", "SCALEARC-HA-PAIR": " Orders "}, [], "primary", "orders"),
        ({}, [("Scalearc-Role", "SECONDARY"), ("scalearc-ha-pair", "x")], "secondary", "x"),
        ({"scalearc-role": "standalone"}, [("SCALEARC-ROLE", " standalone")], "standalone", None),
        ({}, [("scalearc-role", "Primary"), ("scalearc-role", "primary ")], "primary", None),
        (
            {"scalearc-ha-pair": "P1"},
            [("scalearc-role", "primary"), ("scalearc-ha-pair", "p1")],
            "primary",
            "p1",
        ),
        (
            {"scalearc-role": "  ", "owner": "x"},
            [("scalearc-role", "secondary")],
            "secondary",
            None,
        ),
    ],
    ids=[
        "attribute-any-case",
        "tag-any-case",
        "attribute-and-tag-agree",
        "two-tags-agree",
        "pair-agrees-in-any-case",
        "blank-attribute-ignored",
    ],
)
def test_sources_that_agree_identify(
    attributes: dict[str, str], tags: list[tuple[str, str]], role: str, pair: str | None
) -> None:
    identity = identify(attributes, tags)
    assert identity is not None and identity.problem is None
    assert (identity.role, identity.pair) == (Role(role), pair)


@pytest.mark.parametrize(
    ("attributes", "tags", "problem", "claimed"),
    [
        (
            {"scalearc-role": "secondary"},
            [("scalearc-role", "primary")],
            "role sources disagree: custom attribute 'scalearc-role' = 'secondary', "
            "tag in category 'scalearc-role' = 'primary'",
            (),
        ),
        (
            {},
            [("scalearc-role", "primary"), ("ScaleArc-Role", "secondary")],
            "role sources disagree",
            (),
        ),
        (
            {"scalearc-role": "primary", "ScaleArc-Role": "secondary"},
            [],
            "role sources disagree",
            (),
        ),
        (
            {"scalearc-role": "primary", "scalearc-ha-pair": "a"},
            [("scalearc-ha-pair", "b")],
            "HA pair id sources disagree",
            ("a", "b"),
        ),
        (
            {"scalearc-role": "primray"},
            [],
            "role 'primray' is not primary, secondary or standalone",
            (),
        ),
        ({"scalearc-ha-pair": "p1"}, [], "it names HA pair 'p1' but has no role", ("p1",)),
        (
            {"scalearc-role": "primary", "scalearc-ha-pair": "a"},
            [("scalearc-role", "secondary"), ("scalearc-ha-pair", "b")],
            "role sources disagree",
            ("a", "b"),
        ),
    ],
    ids=[
        "attribute-vs-tag",
        "two-tags",
        "two-attributes-by-case",
        "two-pairs",
        "not-a-role",
        "pair-without-role",
        "both-disagree",
    ],
)
def test_identification_never_guesses(
    attributes: dict[str, str],
    tags: list[tuple[str, str]],
    problem: str,
    claimed: tuple[str, ...],
) -> None:
    identity = identify(attributes, tags)
    assert identity is not None
    assert (identity.role, identity.pair) == (None, None)
    assert identity.problem is not None and problem in identity.problem
    assert identity.claimed_pairs == claimed


def test_a_vm_carrying_neither_name_is_not_picked_up() -> None:
    assert identify({"owner": "dba", "scalearc_role": "primary"}, [("role", "primary")]) is None


def test_configured_names_match_in_any_case() -> None:
    selection = ApplianceSelection(role_attribute="Proxy-Role", pair_attribute="PROXY-PAIR")
    identity = identify({"proxy-role": "primary"}, [("proxy-pair", "p")], selection)
    assert identity is not None and (identity.role, identity.pair) == (Role.PRIMARY, "p")


def test_name_pattern_role_is_case_folded_and_pair_too() -> None:
    selection = ApplianceSelection(by="name", name_pattern=r"sa-(?P<pair>\w+)-(?P<role>\w+)")
    b = InventoryBuilder()
    host = b.host("esx-1", b.cluster("cl", b.datacenter("dc")))
    b.vm("sa-Blue-Primary", host)
    b.vm("sa-BLUE-secondary", host)
    b.vm("sa-blue-spare", host)
    inventory = Inventory(b.build(), selection=selection)
    assert sorted((a.role.value, a.pair) for a in inventory.appliances.values()) == [
        ("primary", "blue"),
        ("secondary", "blue"),
    ]
    assert [u.vm.name for u in inventory.unidentified.values()] == ["sa-blue-spare"]


def test_folder_selection_takes_the_role_from_the_name_when_attributes_have_none() -> None:
    selection = ApplianceSelection(
        by="folder", folders=["/dc/vm/ScaleArc"], name_pattern=r"(?P<role>\w+)"
    )
    b = InventoryBuilder()
    host = b.host("esx-1", b.cluster("cl", b.datacenter("dc")))
    b.vm("primary", host, folder="/dc/vm/ScaleArc", custom_attributes={"scalearc-ha-pair": "p"})
    b.vm("other", host, folder="/dc/vm/ScaleArc", custom_attributes={"scalearc-role": "secondary"})
    inventory = Inventory(b.build(), selection=selection)
    assert sorted((a.vm.name, a.role.value, a.pair) for a in inventory.appliances.values()) == [
        ("other", "secondary", None),
        ("primary", "primary", "p"),
    ]


def test_role_and_pair_attribute_must_differ_in_any_case() -> None:
    with pytest.raises(ValueError, match="pair_attribute: must differ"):
        ApplianceSelection(role_attribute="x-role", pair_attribute="X-Role ")


@pytest.mark.parametrize(
    ("attributes", "tags"),
    [
        ({"scalearc-role": "primary"}, []),
        ({}, [("ScaleArc-Role", "primary")]),
        (
            {"SCALEARC-ROLE": "primary"},
            [("scalearc-role", "Primary"), ("scalearc-role", "primary")],
        ),
    ],
    ids=["attribute", "tag", "attribute-and-two-tags"],
)
def test_switching_a_role_rewrites_every_source(
    attributes: dict[str, str], tags: list[tuple[str, str]]
) -> None:
    b = InventoryBuilder()
    host = b.host("esx-1", b.cluster("cl", b.datacenter("dc")))
    moid = b.vm(
        "vm", host, custom_attributes=attributes, tags=[Tag(category=c, name=n) for c, n in tags]
    )
    selection = ApplianceSelection()
    switched = with_role(b.build().vms[moid], selection, Role.SECONDARY)
    identity = Identifier(selection).identify(switched)
    assert identity is not None and identity.problem is None
    assert identity.role is Role.SECONDARY


# -- one estate ---------------------------------------------------------------------------


def two_vcenters(sketch_b: dict[str, Any], sketch_a: dict[str, Any]) -> list[Inventory]:
    snapshots = build_estate({**sketch_a, "vcenters": {"vc-b.example": sketch_b}})
    return list(Estate([Inventory(s) for s in snapshots]).inventories)


def test_a_pair_split_across_vcenters_is_one_pair_judged_once() -> None:
    a, b = two_vcenters(
        {"appliances": {"sa-s": {"role": "secondary", "pair": "p"}}},
        {"appliances": {"sa-p": {"role": "primary", "pair": "P"}}},
    )
    assert a.pairs["p"] is b.pairs["p"]
    pair = a.pairs["p"]
    assert [(m.vm.name, m.vcenter) for m in pair.members] == [
        ("sa-s", "vc-b.example"),
        ("sa-p", "vcenter.lab.example"),
    ]
    # Both members have moid vm-1 in their own vCenter.
    assert {m.vm.moid for m in pair.members} == {"vm-1"}
    assert pair.home is b
    assert [s[1] for s in b.subjects("pair")] == ["p"]
    assert list(a.subjects("pair")) == []


def test_stand_in_pairs_stay_in_their_own_vcenter() -> None:
    a, b = two_vcenters(
        {"appliances": {"sa-x": {"role": "primary"}}},
        {"appliances": {"sa-x": {"role": "primary"}}},
    )
    assert [s[1] for s in a.subjects("pair")] == ["(no pair id) sa-x"]
    assert [s[1] for s in b.subjects("pair")] == ["(no pair id) sa-x"]
    assert a.pairs["(no pair id) sa-x"].home is a


def test_the_mac_index_spans_the_estate() -> None:
    a, b = two_vcenters(
        {"vms": {"web-1": {"nics": [{"mac": "00-50-56-01-02-03"}]}}},
        {"appliances": {"sa-1": {"nics": [{"mac": "00:50:56:01:02:03"}]}}},
    )
    appliance = next(iter(a.appliances.values()))
    shown, total = a.estate.other_users(appliance.vm, appliance.vm.nics[0])
    assert [(r.vm.name, r.vcenter) for r in shown] == [("web-1", "vc-b.example")]
    assert total == 1
    assert a.nics_by_appliance_mac is b.nics_by_appliance_mac


def test_an_inventory_belongs_to_one_estate() -> None:
    a, b = two_vcenters({}, {})
    assert Estate.of([a, b]) is a.estate
    assert Estate.of([b]) is a.estate
    with pytest.raises(ValueError, match="already"):
        Estate([a])
    lone = Inventory(build({}))
    with pytest.raises(ValueError, match="already judged in another estate"):
        Estate.of([a, lone])
