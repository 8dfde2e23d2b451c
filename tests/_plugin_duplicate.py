"""A module that defines a check id already defined in _plugin_samples (collision test)."""

from adfs_readiness.api import Area, Outcome, Severity, Status, check


@check(id="sample.first", title="Impostor", area=Area.METADATA, severity=Severity.LOW, blocker=False,
       requires=(), rule="r", remediation="z")
def impostor(ctx):
    return Outcome(Status.PASS, "x")
