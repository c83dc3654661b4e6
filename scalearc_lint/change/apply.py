"""Carrying a plan out against vCenter: validate all, then step by step, re-reading first.

:func:`apply_steps` is the whole procedure; the vSphere side is a :class:`Backend`
(:mod:`scalearc_lint.vcenter.backend`), so this module decides and the backend only
reads and writes:

1. Nothing is written before the whole plan has validated: the live vCenter is read,
   the objects ``fix`` recorded (``observed:``) must look as they did, and the plan is
   lived on the live state (a step vCenter would refuse is a plan error).
2. Before each step the objects it touches are re-read and compared with the state the
   simulation expects at that step; any difference stops the run (exit 2).
3. Each step's task is waited for; the first failure stops the run (exit 1).
4. A person carries out manual steps (a switchover, the vendor's service steps, an
   outage confirmation): the run pauses with the instructions (exit 4 when nobody can
   answer); ``--resume`` confirms the step it stopped at.

The journal (JSON, rewritten atomically after every step) records the plan's digest,
every step done with the inverse that undoes it where one exists, and where the run
stopped, so ``apply --resume JOURNAL`` continues a stopped plan.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import msgspec

from scalearc_lint.change.observed import (
    Facts,
    ObjectKey,
    check_observed,
    differences,
    object_facts,
    touched,
)
from scalearc_lint.change.plan import Plan, StepOutcome, apply_plan, load_plan
from scalearc_lint.errors import InputError
from scalearc_lint.io.outputs import write_atomic
from scalearc_lint.snapshot.identification import ApplianceSelection
from scalearc_lint.snapshot.model import Snapshot

EXIT_DONE, EXIT_FAILED, EXIT_INPUT, EXIT_MANUAL = 0, 1, 2, 4


class StepFailed(Exception):
    """A vSphere call or task of a step failed."""


class Backend(Protocol):
    """What ``apply`` needs of vCenter."""

    def export(self) -> Snapshot:
        """The whole live inventory."""

    def read(self, keys: Sequence[ObjectKey], base: Snapshot) -> Snapshot:
        """``base`` with the live state of ``keys``."""

    def call(self, outcome: StepOutcome) -> str:
        """The call that carries the step out, as text."""

    def perform(self, outcome: StepOutcome) -> Mapping[str, str]:
        """Carry the step out and wait for it (StepFailed on failure); the moids vCenter gave
        the objects it created, by the simulation's placeholder moid."""


#: What a person does for each manual step kind (besides the step's own note).
INSTRUCTIONS = {
    "switchover": "Perform a manual HA switchover of pair {target} from the ScaleArc GUI of "
    "its HA secondary, and check that the former secondary now carries the traffic.",
    "stop_services": "On {target}: sudo service heartbeat stop; /etc/init.d/idblb stop; "
    "/etc/init.d/idb_watchdog stop; /etc/init.d/analytics stop (vendor steps 2-3).",
    "check_connectivity": "On {target}: check all network connectivity, including the "
    "database servers and the primary ScaleArc (vendor step 5).",
    "check_ha_lag": "Monitor the response lag between the primary and {target}; go on only "
    "when it is within the HA-configured parameters (vendor step 6).",
    "start_services": "On {target}: sudo service heartbeat start; /etc/init.d/idblb start; "
    "/etc/init.d/idb_watchdog start; /etc/init.d/analytics start (vendor step 7).",
    "confirm_outage": "{target} goes down in the next steps: confirm the maintenance window.",
}


class JournalStep(msgspec.Struct, frozen=True, omit_defaults=True):
    """One step as the journal records it."""

    index: int
    op: str
    summary: str
    status: str  # done | confirmed | failed | paused | drifted
    at: str
    call: str = ""
    inverse: str = ""
    message: str = ""


class Journal(msgspec.Struct, omit_defaults=True):
    """What ``apply`` did to one vCenter with one plan."""

    plan: str
    plan_sha256: str
    vcenter: str
    started: str
    steps: list[JournalStep] = []
    stopped_at: int | None = None
    stopped_because: str = ""

    def done_through(self) -> int:
        """The last step index done (or confirmed) without a gap; 0 when none."""
        done = 0
        for entry in self.steps:
            if entry.status in ("done", "confirmed") and entry.index == done + 1:
                done = entry.index
        return done


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def plan_digest(path: str | Path) -> str:
    """The SHA-256 of the plan file's bytes (a resumed journal must name the same plan)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def save_journal(path: str | Path, journal: Journal) -> None:
    """Write the journal atomically (a crash leaves the previous one whole)."""
    write_atomic(path, msgspec.json.format(msgspec.json.encode(journal), indent=2) + b"\n")


def load_journal(path: str | Path) -> Journal:
    """Read a journal; a broken one is bad input."""
    try:
        return msgspec.json.decode(Path(path).read_bytes(), type=Journal)
    except OSError as exc:
        raise InputError(f"{path}: cannot read the journal ({exc.strerror})") from None
    except msgspec.DecodeError as exc:
        raise InputError(f"{path}: not a scalearc-lint apply journal ({exc})") from None


def inverse(outcome: StepOutcome) -> str:
    """The step that undoes ``outcome``'s step, as plan text, or why there is none."""
    s = outcome.step
    before = outcome.before.snapshot
    vm = before.vms.get(outcome.vm or "")
    if s.op == "set_mac" and vm is not None:
        nic = next(
            (
                n
                for n in vm.nics
                if str(n.key) == str(s.params["nic"]) or n.label == str(s.params["nic"])
            ),
            None,
        )
        if nic is not None:
            return f"set_mac: {vm.name}, nic: {nic.key}, mac: {nic.mac} (was {nic.address_type})"
    if s.op in ("power_off", "power_on") and vm is not None:
        return f"{'power_on' if s.op == 'power_off' else 'power_off'}: {vm.name}"
    if s.op == "migrate" and vm is not None and vm.host:
        mode = s.params["mode"]
        return f"migrate: {vm.name}, to: {before.hosts[vm.host].name}, mode: {mode}"
    if s.op == "move_to_pool" and vm is not None and vm.resource_pool:
        return f"move_to_pool: {vm.name}, pool: {vm.resource_pool}"
    if s.op == "drs_override" and vm is not None:
        cluster = before.clusters.get(vm.cluster or "")
        old = cluster.drs.vm_overrides.get(vm.moid) if cluster is not None else None
        setting = "inherit" if old is None else "disabled" if old.enabled is False else old.behavior
        return f"drs_override: {vm.name}, behavior: {setting or 'inherit'}"
    if s.op == "drs_vm_overrides":
        changed = [
            before.clusters[moid]
            for kind, moid in touched(before, outcome.after.snapshot)
            if kind == "cluster"
        ]
        if not changed:
            return "none: the step changed nothing"
        switch = changed[0].drs.enable_vm_behavior_overrides
        if switch is None:
            return "by hand: the snapshot did not record the cluster's VM overrides switch"
        return f"drs_vm_overrides: {s.target}, enabled: {str(switch).lower()}"
    if s.op == "ha_override" and vm is not None:
        cluster = before.clusters.get(vm.cluster or "")
        old_ha = cluster.ha.vm_overrides.get(vm.moid) if cluster is not None else None
        priority = old_ha.restart_priority if old_ha is not None else None
        return f"ha_override: {vm.name}, restart_priority: {priority or 'inherit'}"
    if s.op == "add_anti_affinity":
        return f"remove_anti_affinity: {s.target}"
    if s.op == "enable_anti_affinity":
        return f"by hand: disable the anti-affinity rule {s.target}"
    if s.op == "create_pool":
        return f"by hand: delete the resource pool {s.target} (after moving its VMs out)"
    if s.op in ("set_reservation", "remove_limit", "portgroup_policy"):
        keys = touched(before, outcome.after.snapshot)
        restore = "; ".join(
            f"{kind} {moid}: {facts}"
            for kind, moid in keys
            if (facts := object_facts(before, (kind, moid))) is not None
        )
        return f"by hand: restore {restore}"
    if s.op == "take_snapshot":
        return f"remove_snapshot: {outcome.vm}, name: {s.params.get('name', '')}"
    if s.op in ("maintenance", "exit_maintenance"):
        return f"{'exit_maintenance' if s.op == 'maintenance' else 'maintenance'}: {s.target}"
    if s.op == "remove_snapshot":
        return "none: a removed snapshot cannot be brought back"
    if s.op == "consolidate":
        return "none: consolidated disks cannot be split again (nothing to undo)"
    return "none: a manual step"


@dataclass
class ApplyRun:
    """How to carry the plan out and where to report."""

    plan_path: str
    backend: Backend
    selection: ApplianceSelection
    execute: bool
    journal_path: str
    #: Ask before each step (None: --yes); ask whether a manual step is done (None: nobody
    #: can answer, so the run stops there).
    ask_step: Callable[[str], bool] | None
    ask_manual: Callable[[str], bool] | None
    say: Callable[[str], None]
    resume_command: str
    journal: Journal | None = None
    plan: Plan | None = field(default=None, repr=False)


def apply_steps(run: ApplyRun) -> int:
    """Validate the whole plan against live vCenter, then carry it out (see the module)."""
    plan = load_plan(run.plan_path)
    digest = plan_digest(run.plan_path)
    live = run.backend.export()
    if plan.vcenter is not None and plan.vcenter != live.source.vcenter:
        raise InputError(
            f"{plan.where('vcenter')}: the plan is for vCenter {plan.vcenter!r}, --server "
            f"reached {live.source.vcenter!r}"
        )
    journal = run.journal
    start = 0
    if journal is not None:
        if journal.plan_sha256 != digest:
            raise InputError(
                f"{run.journal_path}: the journal is of another version of {run.plan_path} "
                "(its SHA-256 differs): the plan was edited since"
            )
        start = journal.done_through()
        if journal.stopped_at is not None and journal.stopped_because == "manual":
            entry = plan.steps[journal.stopped_at - 1]
            journal.steps.append(
                JournalStep(entry.index, entry.op, entry.summary, "confirmed", _now())
            )
            run.say(f"step {entry.index}: confirmed by --resume ({entry.summary})")
            start = journal.done_through()
        journal.stopped_at, journal.stopped_because = None, ""
    else:
        check_observed(plan.observed, live, where=plan.where("observed"), now="vCenter")
        journal = Journal(run.plan_path, digest, live.source.vcenter, _now())
    remaining = replace(plan, steps=plan.steps[start:])
    if not remaining.steps:
        run.say("every step of the plan is done")
        return EXIT_DONE
    # The whole rest of the plan is lived on the live state before anything is written.
    lived = apply_plan(live, remaining, selection=run.selection, at=datetime.now(UTC))
    total = len(plan.steps)
    if not run.execute:
        for outcome in lived.outcomes:
            s = outcome.step
            verb = "pause for a person" if s.manual else "call"
            run.say(
                f"step {s.index}/{total} ({s.location}) {s.summary}: would {verb}: "
                f"{run.backend.call(outcome)}"
            )
        run.say(
            f"dry run: {len(lived.outcomes)} step(s) validated against vCenter; nothing "
            "was changed (--execute carries them out)"
        )
        return EXIT_DONE
    if run.journal is None:
        save_journal(run.journal_path, journal)
    # Objects the plan creates get their moids from vCenter: the simulation's placeholders
    # (``resgroup-whatif-N``) are translated when states are compared.
    aliases: dict[str, str] = {}
    for outcome in lived.outcomes:
        s = outcome.step
        head = f"step {s.index}/{total} ({s.location}) {s.summary}"
        if s.manual:
            text = " ".join(
                t
                for t in (INSTRUCTIONS.get(s.op, "").format(target=s.target), s.params.get("note"))
                if t
            )
            run.say(f"{head}: MANUAL: {text}")
            if run.ask_manual is None or not run.ask_manual(f"step {s.index} done? [y/N] "):
                journal.stopped_at, journal.stopped_because = s.index, "manual"
                journal.steps.append(JournalStep(s.index, s.op, s.summary, "paused", _now()))
                save_journal(run.journal_path, journal)
                run.say(f"stopped at manual step {s.index}; when it is done: {run.resume_command}")
                return EXIT_MANUAL
            journal.steps.append(JournalStep(s.index, s.op, s.summary, "confirmed", _now()))
            save_journal(run.journal_path, journal)
            continue
        keys = list(
            dict.fromkeys(
                [
                    *touched(outcome.before.snapshot, outcome.after.snapshot),
                    *([("vm", outcome.vm)] if outcome.vm else []),
                ]
            )
        )
        expected_state = outcome.before.snapshot
        live_keys = [(kind, aliases.get(moid, moid)) for kind, moid in keys]
        now = run.backend.read(live_keys, _renamed(expected_state, aliases))
        for key, live_key in zip(keys, live_keys, strict=True):
            expected = _aliased(object_facts(expected_state, key), aliases)
            changed = list(differences(expected, object_facts(now, live_key)))
            if changed:
                message = (
                    f"{key[0]} {key[1]} is not as the plan expects before this step: "
                    f"{'; '.join(changed[:3])}; someone changed vCenter meanwhile"
                )
                journal.stopped_at, journal.stopped_because = s.index, "drifted"
                journal.steps.append(
                    JournalStep(s.index, s.op, s.summary, "drifted", _now(), message=message)
                )
                save_journal(run.journal_path, journal)
                raise InputError(
                    f"{head}: {message}; nothing more was done (journal {run.journal_path})"
                )
        call = run.backend.call(outcome)
        if run.ask_step is not None and not run.ask_step(
            f"{head}: {call}\ncarry out step {s.index}? [y/N] "
        ):
            journal.stopped_at, journal.stopped_because = s.index, "declined"
            save_journal(run.journal_path, journal)
            run.say(f"stopped before step {s.index}; to go on: {run.resume_command}")
            return EXIT_MANUAL
        try:
            aliases.update(run.backend.perform(outcome))
        except StepFailed as exc:
            journal.stopped_at, journal.stopped_because = s.index, "failed"
            journal.steps.append(
                JournalStep(s.index, s.op, s.summary, "failed", _now(), call, message=str(exc))
            )
            save_journal(run.journal_path, journal)
            run.say(
                f"{head}: FAILED: {exc}; stopped (journal {run.journal_path}; after fixing "
                f"the cause: {run.resume_command})"
            )
            return EXIT_FAILED
        journal.steps.append(
            JournalStep(s.index, s.op, s.summary, "done", _now(), call, inverse(outcome))
        )
        save_journal(run.journal_path, journal)
        run.say(f"{head}: done")
    run.say(f"the plan is complete: {total} step(s); journal {run.journal_path}")
    return EXIT_DONE


def _aliased(facts: Facts | None, aliases: Mapping[str, str]) -> Facts | None:
    if facts is None or not aliases:
        return facts
    result = {}
    for key, value in facts.items():
        for placeholder, moid in aliases.items():
            value = value.replace(placeholder, moid)
        result[key] = value
    return result


def _renamed(state: Snapshot, aliases: Mapping[str, str]) -> Snapshot:
    """``state`` with created objects under the moids vCenter gave them."""
    if not aliases:
        return state
    pools = {
        aliases.get(k, k): msgspec.structs.replace(v, moid=aliases.get(k, k)) if k in aliases else v
        for k, v in state.resource_pools.items()
    }
    return msgspec.structs.replace(state, resource_pools=pools)


def as_json(value: Any) -> str:
    """Plain JSON text (for messages)."""
    return msgspec.json.encode(value).decode()
