"""Check modules used by the engine and registry tests (loaded through EntryPoint objects)."""

from __future__ import annotations

from adfs_readiness.api import Area, CannotDetermine, Outcome, Reference, Severity, Status, check

REF = (Reference("RFC 1", "https://www.rfc-editor.org/rfc/rfc1"),)


@check(id="sample.first", title="First", area=Area.METADATA, severity=Severity.HIGH, blocker=True,
       requires=("sample.fact",), rule="r", remediation="do x", references=REF)
def first(ctx):
    return Outcome(Status.PASS, f"value is {ctx.fact('sample.fact')}", evidence={"value": ctx.fact("sample.fact")})


@check(id="sample.second", title="Second", area=Area.METADATA, severity=Severity.LOW, blocker=False,
       requires=(), rule="r", remediation="do y", references=REF)
def second(ctx):
    return [Outcome(Status.WARN, "one", target="a"), Outcome(Status.PASS, "two", target="b")]


@check(id="sample.crashes", title="Crashes", area=Area.METADATA, severity=Severity.LOW, blocker=False,
       requires=(), rule="r", remediation="z", references=REF)
def crashes(ctx):
    raise ZeroDivisionError("boom in check")


@check(id="sample.undetermined", title="Undetermined", area=Area.METADATA, severity=Severity.MEDIUM,
       blocker=True, requires=(), rule="r", remediation="z", references=REF)
def undetermined(ctx):
    raise CannotDetermine("the document has no signing certificate", evidence={"certs": 0})


@check(id="sample.returns-nothing", title="Nothing", area=Area.METADATA, severity=Severity.LOW,
       blocker=False, requires=(), rule="r", remediation="z", references=REF)
def returns_nothing(ctx):
    return None
