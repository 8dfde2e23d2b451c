"""The scope of a run: what it was asked to judge, and so which checks may move its verdict.

A run is graded on what it was asked (issue 11, "Verdict semantics"). ``check --certificate FILE``
asks about a certificate before it is deployed; ``check --metadata FILE`` about a metadata
document; a run without such a file asks about the live deployment (DNS, TLS, endpoints, the
published metadata, the directory, Entra ID, the AD FS export). The scope is derived from the
inputs, never from check ids, so the rule is the same for built-in and third-party checks:

* a check is in scope when it reads the scope's facts and requires nothing else (a file run
  judges only the facts read from its files; the live scope judges every fact);
* a check outside the scope is not run at all: it is reported as ``skip`` naming the scope, its
  probes are not started (a certificate-file run sends no DNS query), and it can never move the
  verdict;
* inside the scope each check's declared ``blocker`` flag decides, as grading always does: a
  failed blocker is NOT_READY. Checks whose whole purpose is a file run (``certificate-file.*``)
  therefore declare themselves blockers: a certificate that would break sign-in once deployed is
  exactly the answer such a run was asked for.

The federation service name and federated domains of a file run are expectations (the names a
certificate must carry, the host an entityID should name), not targets to probe.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from adfs_readiness.api import Check
from adfs_readiness.facts import METADATA_FACT
from adfs_readiness.facts.tls import CERTIFICATE_FILE_FACT
from adfs_readiness.settings import Settings

__all__ = ["RunScope", "run_scope", "scope_target", "is_local_metadata"]


@dataclass(frozen=True)
class RunScope:
    """What a run judges.

    Attributes:
        kind: "deployment" (the live federation service and everything configured around it),
            "certificate-file", "metadata-file", or "files" (a certificate and a metadata file).
        facts: the fact keys the run judges; None = every fact (the deployment scope).
        description: the scope in words, for skip reasons and the report ("the certificate file
            new.pfx").
    """

    kind: str
    facts: frozenset[str] | None
    description: str

    def covers(self, check: Check) -> bool:
        """True when ``check`` judges what this scope judges: the deployment scope covers every
        check; a file scope covers a check that reads at least one of its files (required or
        optional) and requires nothing else."""
        if self.facts is None:
            return True
        reads = set(check.meta.requires) | set(check.meta.optional)
        return set(check.meta.requires) <= self.facts and bool(reads & self.facts)

    def skip_reason(self) -> str:
        """Why a check outside the scope is not run."""
        return f"Not part of this run: it judges {self.description} only."

    def as_dict(self) -> dict[str, object]:
        """JSON-ready: kind, the facts judged (None = all) and the description."""
        return {"kind": self.kind, "facts": sorted(self.facts) if self.facts is not None else None,
                "description": self.description}


def is_local_metadata(source: str | None) -> bool:
    """True when the metadata source is a local file (not an http(s) URL)."""
    return bool(source) and not source.lower().startswith(("http://", "https://"))  # type: ignore[union-attr]


def run_scope(config: Settings) -> RunScope:
    """The scope of a run of ``config`` (see the module docstring): a certificate file and/or a
    local metadata file make a file run judging only those; otherwise the deployment."""
    facts: set[str] = set()
    parts: list[str] = []
    if config.certificate.file is not None:
        facts.add(CERTIFICATE_FILE_FACT)
        parts.append(f"the certificate file {Path(config.certificate.file).name}")
    if is_local_metadata(config.federation.metadata):
        facts.add(METADATA_FACT)
        parts.append(f"the metadata file {Path(str(config.federation.metadata)).name}")
    if not facts:
        return RunScope("deployment", None, "the federation deployment")
    kind = "files" if len(facts) > 1 else ("certificate-file" if CERTIFICATE_FILE_FACT in facts else "metadata-file")
    return RunScope(kind, frozenset(facts), " and ".join(parts))


def scope_target(scope: RunScope, facts: Mapping[str, Any]) -> str | None:
    """What a file run checked, by identity rather than by file name (two partners' files both
    called FederationMetadata.xml are two targets): the SHA-1 thumbprint of a certificate file's
    certificate, the entityID of a metadata file. None for the deployment scope (its target is the
    federation service name) and when the file's content could not be identified (an unreadable
    file is not an observation of anything, and is never recorded in the history)."""
    if scope.facts is None:
        return None
    if CERTIFICATE_FILE_FACT in scope.facts:
        fact = facts.get(CERTIFICATE_FILE_FACT)
        leaf = getattr(fact, "leaf", None)
        if leaf is not None and getattr(leaf, "decodable", False) and leaf.sha1:
            return str(leaf.sha1)
        return None
    fact = facts.get(METADATA_FACT)
    document = getattr(fact, "document", None)
    entity_id = getattr(document, "entity_id", None)
    return str(entity_id) if entity_id else None
