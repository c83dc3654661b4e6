"""The exporter's reading of vCenter events, on pyVmomi event objects (no server needed):
which events are kept, as what kind, with which chain and hosts. The end-to-end test
against vcsim is tests/e2e/test_export_fidelity.py."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from scalearc_lint.exporter._vmomi import vim
from scalearc_lint.exporter.events import EVENT_TYPE_IDS, event_from_vim
from scalearc_lint.snapshot.model import EVENT_TYPES

NOW = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)


def _vm() -> Any:
    return vim.event.VmEventArgument(vm=vim.VirtualMachine("vm-7"), name="sa-1")


def _host(moid: str) -> Any:
    return vim.event.HostEventArgument(host=vim.HostSystem(moid), name=f"{moid}.example")


def _base(**extra: Any) -> dict[str, Any]:
    return {"key": 42, "chainId": 40, "createdTime": NOW, "userName": "u", "vm": _vm(), **extra}


def test_the_query_selects_every_recorded_type() -> None:
    assert set(EVENT_TYPES) <= set(EVENT_TYPE_IDS)
    assert "EventEx" in EVENT_TYPE_IDS  # vcsim matches EventEx by class name only


@pytest.mark.parametrize(
    ("raw", "kind", "live", "source", "dest"),
    [
        (
            vim.event.DrsVmMigratedEvent(**_base(host=_host("h2"), sourceHost=_host("h1"))),
            "drs-migrate",
            True,
            "h1",
            "h2",
        ),
        (
            vim.event.VmMigratedEvent(**_base(host=_host("h2"), sourceHost=_host("h1"))),
            "migrate",
            None,
            "h1",
            "h2",
        ),
        (
            vim.event.VmBeingHotMigratedEvent(**_base(host=_host("h1"), destHost=_host("h2"))),
            "hot-migrate",
            True,
            "h1",
            "h2",
        ),
        (
            vim.event.VmBeingMigratedEvent(**_base(host=_host("h1"), destHost=_host("h2"))),
            "cold-migrate",
            False,
            "h1",
            "h2",
        ),
        (
            vim.event.VmBeingRelocatedEvent(**_base(host=_host("h1"), destHost=_host("h2"))),
            "cold-migrate",
            False,
            "h1",
            "h2",
        ),
        (
            vim.event.EventEx(
                **_base(host=_host("h1")),
                eventTypeId="com.vmware.vc.vm.VmHotMigratingWithEncryptionEvent",
            ),
            "hot-migrate",
            True,
            "h1",
            None,
        ),
        (
            vim.event.EventEx(
                **_base(host=_host("h3")), eventTypeId="com.vmware.vc.vm.DstVmMigratedEvent"
            ),
            "cross-vcenter-migrate",
            True,
            None,
            "h3",
        ),
        (
            vim.event.EventEx(
                **_base(host=_host("h1")), eventTypeId="com.vmware.vc.vm.SrcVmMigratedEvent"
            ),
            "cross-vcenter-migrate",
            True,
            "h1",
            None,
        ),
        (
            vim.event.EventEx(
                **_base(host=_host("h4")), eventTypeId="com.vmware.vc.ha.VmRestartedByHAEvent"
            ),
            "ha-restart",
            None,
            None,
            "h4",
        ),
    ],
)
def test_event_kinds_liveness_and_hosts(
    raw: Any, kind: str, live: bool | None, source: str | None, dest: str | None
) -> None:
    event = event_from_vim(raw)
    assert event is not None
    assert (event.kind, event.live, event.source_host, event.dest_host) == (
        kind,
        live,
        source,
        dest,
    )
    assert event.chain_id == 40
    assert event.vm == "vm-7"
    assert event.source_host_name == (f"{source}.example" if source else "")


def test_an_eventex_of_another_id_is_not_kept() -> None:
    raw = vim.event.EventEx(**_base(), eventTypeId="com.vmware.vc.vm.VmPoweredOnEvent")
    assert event_from_vim(raw) is None


def test_an_eventex_names_its_vm_by_object_when_it_has_no_vm_argument() -> None:
    raw = vim.event.EventEx(
        key=1,
        chainId=1,
        createdTime=NOW,
        userName="",
        eventTypeId="com.vmware.vc.vm.VmStateRevertedToSnapshot",
        objectType=vim.VirtualMachine,
        objectId="vm-9",
        objectName="sa-9",
    )
    event = event_from_vim(raw)
    assert event is not None
    assert (event.kind, event.vm, event.vm_name) == ("revert", "vm-9", "sa-9")


def test_other_classes_are_not_kept() -> None:
    assert event_from_vim(vim.event.VmPoweredOnEvent(**_base())) is None
