"""How a cluster's vSphere HA settings resolve for one VM: would HA restart it by itself?

The one statement of those semantics: rules, ``whatif`` and ``fix`` call
:func:`effective_ha_restart` (through ``Inventory.ha_restart``, which also knows what the
snapshot could not record).

vSphere HA restarts the VMs of a failed host on the cluster's other hosts when HA is on in the
cluster (``dasConfig.enabled``), in the order of their restart priority: the VM's override
(``dasVmConfig[].dasSettings.restartPriority``) unless that is unset or
``clusterRestartPriority``, else the cluster's default
(``dasConfig.defaultVmSettings.restartPriority``), which is ``medium`` when unset. Priority
``disabled`` is the only one that leaves a VM down.
"""

from __future__ import annotations

from dataclasses import dataclass

from scalearc_lint.snapshot.model import Cluster

#: The priority that keeps HA from restarting a VM.
DISABLED = "disabled"
#: What a VM override says when it defers to the cluster's default.
CLUSTER_RESTART_PRIORITY = "clusterRestartPriority"
#: What vSphere uses when the cluster's default is unset.
UNSET_DEFAULT = "medium"


@dataclass(frozen=True, slots=True)
class HaRestart:
    """Whether vSphere HA would restart one VM by itself after its host fails.

    ``restarts`` is ``None`` when the snapshot cannot tell; ``priority`` is the effective
    restart priority, ``None`` when HA does not act on the VM or it cannot be told.
    """

    restarts: bool | None
    priority: str | None
    reason: str


def effective_ha_restart(
    cluster: Cluster, vm_moid: str, *, default_recorded: bool = True
) -> HaRestart:
    """Resolve vSphere HA for a VM as vSphere does: cluster switch, VM override, default.

    ``default_recorded`` false means the snapshot does not hold the cluster's default
    restart priority (exported before schema 3): a VM that defers to it is unknown.
    """
    ha = cluster.ha
    if not ha.enabled:
        return HaRestart(False, None, f"vSphere HA is off in cluster {cluster.name}")
    override = ha.vm_overrides.get(vm_moid)
    own = override.restart_priority if override is not None else None
    if own and own != CLUSTER_RESTART_PRIORITY:
        return HaRestart(own != DISABLED, own, f"VM override in cluster {cluster.name}")
    if not default_recorded:
        return HaRestart(
            None,
            None,
            f"no VM override, and the snapshot does not record cluster {cluster.name}'s "
            "default restart priority (exported by an older scalearc-lint: export again)",
        )
    default = ha.default_restart_priority or UNSET_DEFAULT
    reason = (
        f"cluster {cluster.name}'s default"
        if ha.default_restart_priority
        else f"cluster {cluster.name}'s default (unset = {UNSET_DEFAULT})"
    )
    return HaRestart(default != DISABLED, default, reason)
