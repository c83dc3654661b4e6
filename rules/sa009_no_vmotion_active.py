"""SA009 no-vmotion-active: no live migration of an active appliance in the event window.

Applies to active appliances (primary, standalone). DRS migrations and hot
migrations are live by definition; a plain migrate/relocate event whose record
does not tell live from cold makes the result ``unknown`` rather than ``pass``.

Events carry no role, so each is judged with the roles of the snapshot the
events were exported with (``Inventory.as_recorded``), never with roles a
``whatif`` plan gives later: a planned switchover neither fixes a past vMotion
of the then-primary nor turns a past vMotion of the then-secondary into one of
a primary. A primary's vMotion that its partner's own later vMotion follows
matches the vendor's procedure for moving a pair (move the secondary, switch
over, move the new secondary), in which today's primary was moved while it was
still secondary; that case is ``unknown`` (the switchover cannot be seen in
vCenter events), not ``fail``.

PASS: events were exported and show no migration of the appliance.
FAIL: an event shows a live migration (vMotion) of it.
UNKNOWN: events were not exported, only migrations of unknown kind were seen, or
the migrations fit the pair-move procedure.
"""

from __future__ import annotations

from scalearc_lint.engine.rule import (
    Example,
    NoOptions,
    Rule,
    Severity,
    Status,
    Verdict,
    failed,
    passed,
    unknown,
)
from scalearc_lint.snapshot.identification import Role
from scalearc_lint.snapshot.inventory import Appliance, Inventory
from scalearc_lint.snapshot.model import Event

MIGRATIONS = {"migrate", "relocate", "hot-migrate", "drs-migrate"}
ALWAYS_LIVE = {"hot-migrate", "drs-migrate"}


def _is_live(event: Event) -> bool:
    return event.live is True or event.kind in ALWAYS_LIVE


def _fits_pair_move_procedure(
    appliance: Appliance, inventory: Inventory, live: list[Event]
) -> bool:
    """Whether every live move of this primary was followed by a live move of its partner."""
    if appliance.role is not Role.PRIMARY or appliance.pair is None:
        return False
    pair = inventory.pairs.get(appliance.pair)
    if pair is None:
        return False
    items = inventory.snapshot.events.items
    partner_moves = [
        items[i].created
        for member in pair.members
        if member.vm.moid != appliance.vm.moid
        for i in inventory.events_by_vm.get(member.vm.moid, [])
        if items[i].kind in MIGRATIONS and _is_live(items[i])
    ]
    return all(any(t > event.created for t in partner_moves) for event in live)


def check(appliance: Appliance, inventory: Inventory, options: NoOptions) -> Verdict | None:
    """Fail on a live migration event of an active appliance."""
    # Judge the events with the roles of their time, not with a planned state's.
    inventory = inventory.as_recorded
    recorded = inventory.appliances.get(appliance.vm.moid)
    if recorded is None or not recorded.active:
        return None
    appliance = recorded
    log = inventory.snapshot.events
    if not log.collected or inventory.unreadable("events", "", ""):
        return unknown("events were not exported, so migrations cannot be ruled out")
    events = [log.items[i] for i in inventory.events_by_vm.get(appliance.vm.moid, [])]
    migrations = [e for e in events if e.kind in MIGRATIONS]
    live = [e for e in migrations if _is_live(e)]
    if live and _fits_pair_move_procedure(appliance, inventory, live):
        listed = ", ".join(f"{e.type} at {e.created.isoformat()}" for e in live[:5])
        return unknown(
            f"vMotion(s) at {listed}, each followed by a vMotion of its HA partner: this fits "
            "moving the pair by the procedure (secondary, switchover, new secondary); confirm "
            "the switchover came between them"
        )
    if live:
        listed = ", ".join(f"{e.type} at {e.created.isoformat()}" for e in live[:5])
        return failed(
            f"{len(live)} live migration(s) of an active {appliance.role} appliance: {listed}"
        )
    undetermined = [e for e in migrations if e.live is None]
    if undetermined:
        listed = ", ".join(f"{e.type} at {e.created.isoformat()}" for e in undetermined[:5])
        return unknown(f"migration(s) whose events do not say live or cold: {listed}")
    window = ""
    if log.window_start is not None:
        window = f" since {log.window_start.date().isoformat()}"
    return passed(f"no live migration{window}")


RULE = Rule(
    id="SA009",
    name="no-vmotion-active",
    title="Active appliances are never vMotioned",
    severity=Severity.ERROR,
    scope="appliance",
    rationale=(
        "vMotion of an active appliance loses database updates, causes application errors and "
        "can corrupt records; in an HA pair it risks split brain. A past vMotion is evidence "
        "that the procedure is not being followed."
    ),
    reference=(
        '"ScaleArc does not recommend or support voluntary or automatic vMotion of an active '
        '(that is, HA Primary or standalone ScaleArc) appliance from one ESX server to another."'
    ),
    remediation=(
        "Check the appliance and its database traffic now; find who or what moved it (DRS: see "
        "SA006). To move an HA primary, switch over first and move it as secondary; move a "
        "standalone cold (shut down first)."
    ),
    check=check,
    examples=(
        Example("no events", {"appliances": {"sa-1": {}}}, {"sa-1": Status.PASS}),
        Example(
            "DRS moved the primary",
            {
                "appliances": {
                    "sa-p": {"role": "primary", "pair": "p1"},
                    "sa-s": {"role": "secondary", "pair": "p1"},
                },
                "events": [{"vm": "sa-p", "kind": "drs-migrate"}],
            },
            {"sa-p": Status.FAIL},
        ),
        Example(
            "the secondary may be vMotioned",
            {
                "appliances": {
                    "sa-p": {"role": "primary", "pair": "p1"},
                    "sa-s": {"role": "secondary", "pair": "p1"},
                },
                "events": [{"vm": "sa-s", "kind": "hot-migrate", "live": True}],
            },
            {"sa-p": Status.PASS},
        ),
        Example(
            "events not exported",
            {"appliances": {"sa-1": {}}, "events_collected": False},
            {"sa-1": Status.UNKNOWN},
        ),
        Example(
            "today's primary was moved as secondary, then its partner: the pair-move procedure",
            {
                "appliances": {
                    "sa-p": {"role": "primary", "pair": "p1"},
                    "sa-s": {"role": "secondary", "pair": "p1"},
                },
                "events": [
                    {"vm": "sa-p", "kind": "hot-migrate", "live": True, "age": "5h"},
                    {"vm": "sa-s", "kind": "hot-migrate", "live": True, "age": "4h"},
                ],
            },
            {"sa-p": Status.UNKNOWN},
        ),
        Example(
            "the primary moved after its partner: no procedure explains it",
            {
                "appliances": {
                    "sa-p": {"role": "primary", "pair": "p1"},
                    "sa-s": {"role": "secondary", "pair": "p1"},
                },
                "events": [
                    {"vm": "sa-s", "kind": "hot-migrate", "live": True, "age": "5h"},
                    {"vm": "sa-p", "kind": "hot-migrate", "live": True, "age": "4h"},
                ],
            },
            {"sa-p": Status.FAIL},
        ),
    ),
)
