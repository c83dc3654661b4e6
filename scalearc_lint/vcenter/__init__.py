"""The vSphere side of ``apply``: re-reading the objects a step touches, and the one call
(or task) that carries out each kind of step.

The connection (TLS, govc's variables, passwords, deadlines) and every read are the
exporter's: this package adds only the writes, which the exporter never makes. Each
write is worked out from what the simulation did (the step's state before and after),
so a step's objects are resolved once, by the same code ``whatif`` and ``fix`` use.
"""
