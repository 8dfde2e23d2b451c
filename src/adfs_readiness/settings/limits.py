"""``[thresholds]`` (day and second limits of the checks), ``[scope]`` (features in use),
``[checks]`` (what not to run) and ``[network]`` (time and size limits of the run)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from adfs_readiness.settings._schema import setting
from adfs_readiness.settings.values import Boolean, CheckSelector, ListOf, Number

__all__ = ["Thresholds", "Scope", "ChecksSettings", "NetworkSettings", "Limits", "MAX_TIMEOUT_SECONDS",
           "MAX_DEADLINE_SECONDS", "MAX_DOWNLOAD_BYTES", "selector_matches"]

#: Upper bounds of the network settings (file and command line): beyond them a value is a typo or
#: an attempt to switch a limit off, not a wish.
MAX_TIMEOUT_SECONDS = 3600
MAX_DEADLINE_SECONDS = 86400
MAX_DOWNLOAD_BYTES = 1024 * 1024 * 1024

_DAYS = Number(0, integer=True, unit="of days")
_SECONDS = Number(0, integer=True, unit="of seconds")


@dataclass(frozen=True)
class Thresholds:
    """The ``[thresholds]`` table; defaults are CHECKS.md's rules (days unless said otherwise).

    Attributes:
        token_signing_fail_days / token_signing_warn_days: token-signing.expiry (14 / 90).
        token_decrypting_fail_days / token_decrypting_warn_days: token-decrypting.expiry (14 / 90).
        rollover_warn_days: token-signing.rollover: warn when the primary has fewer days and no
            successor is published (AD FS CertificateGenerationThreshold, 20).
        tls_fail_days / tls_warn_days: tls.certificate-expiry (14 / 90).
        trust_certificate_warn_days: adfs.trust-certificates (30).
        clock_skew_warn_seconds / clock_skew_fail_seconds: 60 / 300 (Kerberos' default tolerance:
            Microsoft Learn, "Maximum tolerance for computer clock synchronization").
        latency_warn_ms: endpoints.latency (1500).
        min_rsa_bits: token-signing.key and tls.certificate-key (2048).
        update_warn_days / update_fail_days: adfs.update-age: the newest installed update on a
            server is older than this (60 / 180).
        os_support_warn_days: adfs.os-support warns this many days before a Windows Server
            version's end of extended support (180).
        mfa_certificate_warn_days: adfs.mfa-adapter-certificate (60).
        proxy_trust_warn_days: adfs.proxy-trust: the WAP proxy-trust certificate expires within
            this many days of the export (3; WAP issues it for two weeks and renews it itself, so a
            certificate this close to its end means renewal is failing).
        upn_blocking_percent: directory.upn-routable blocks single sign-on (NOT_READY) when at
            least this share of the enabled users with a UPN have a non-routable UPN suffix (10):
            they cannot sign in through AD FS at all, and a cutover that locks out a tenth of the
            workforce is not ready; below it the users are listed as a failure that does not block.
    """

    token_signing_fail_days: int = setting(14, _DAYS)
    token_signing_warn_days: int = setting(90, _DAYS)
    token_decrypting_fail_days: int = setting(14, _DAYS)
    token_decrypting_warn_days: int = setting(90, _DAYS)
    rollover_warn_days: int = setting(20, _DAYS)
    tls_fail_days: int = setting(14, _DAYS)
    tls_warn_days: int = setting(90, _DAYS)
    trust_certificate_warn_days: int = setting(30, _DAYS)
    clock_skew_warn_seconds: int = setting(60, _SECONDS)
    clock_skew_fail_seconds: int = setting(300, _SECONDS)
    latency_warn_ms: int = setting(1500, Number(0, integer=True, unit="of milliseconds"))
    min_rsa_bits: int = setting(2048, Number(0, integer=True, unit="of bits"))
    update_warn_days: int = setting(60, _DAYS)
    update_fail_days: int = setting(180, _DAYS)
    os_support_warn_days: int = setting(180, _DAYS)
    mfa_certificate_warn_days: int = setting(60, _DAYS)
    proxy_trust_warn_days: int = setting(3, _DAYS)
    upn_blocking_percent: int = setting(10, Number(0, 100, integer=True, unit="of percent"))

    def cross_check(self) -> Iterator[tuple[str, int, str]]:
        """(key, value, expected) for each fail limit that is laxer than its warn limit."""
        for low, high in (("token_signing_fail_days", "token_signing_warn_days"),
                          ("token_decrypting_fail_days", "token_decrypting_warn_days"),
                          ("tls_fail_days", "tls_warn_days"),
                          ("clock_skew_warn_seconds", "clock_skew_fail_seconds"),
                          ("update_warn_days", "update_fail_days")):
            if getattr(self, low) > getattr(self, high):
                yield low, getattr(self, low), f"a value not above thresholds.{high} ({getattr(self, high)})"


@dataclass(frozen=True)
class Scope:
    """The ``[scope]`` table: which Microsoft 365 / AD FS features are in use; checks for a
    feature out of scope report ``skip``."""

    certificate_authentication: bool = setting(False, Boolean())
    device_registration: bool = setting(False, Boolean())
    exchange_online: bool = setting(True, Boolean())


def selector_matches(selector: str, check_id: str, area: str) -> bool:
    """True when ``selector`` (a check id, ``prefix.*`` or ``area.*``) selects the check
    ``check_id`` of area ``area`` (``Area.value``)."""
    if selector == check_id:
        return True
    if selector.endswith(".*"):
        name = selector[:-2]
        return name == check_id.split(".", 1)[0] or name == area
    return False


@dataclass(frozen=True)
class ChecksSettings:
    """The ``[checks]`` table.

    Attributes:
        skip: check ids, ``prefix.*`` (``token-signing.*``) or ``area.*`` (``dns.*``) not to run;
            they are reported as ``skip``. ``--skip`` adds to the list.
        skip_from_command_line: the part of ``skip`` that ``--skip`` added (not a file key), so a
            skipped finding says where its skip came from.
    """

    skip: tuple[str, ...] = setting((), ListOf(CheckSelector(), example='["metadata.claims-offered", "dns.*"]'))
    skip_from_command_line: tuple[str, ...] = ()

    def skips(self, check_id: str, area: str) -> bool:
        """True when ``skip`` selects the check ``check_id`` of area ``area``."""
        return any(selector_matches(s, check_id, area) for s in self.skip)

    def skipped_by(self, check_id: str, area: str) -> tuple[list[str], list[str]]:
        """The selectors that skip the check ``check_id`` of area ``area``: (those given with
        ``--skip`` on the command line, those of the configuration: the file's ``checks.skip`` or
        what a lab adds), each in order."""
        rest = list(self.skip)
        for s in self.skip_from_command_line:
            if s in rest:
                rest.remove(s)
        flags = [s for s in dict.fromkeys(self.skip_from_command_line) if selector_matches(s, check_id, area)]
        configured = [s for s in dict.fromkeys(rest) if selector_matches(s, check_id, area)]
        return flags, configured


@dataclass(frozen=True)
class NetworkSettings:
    """The ``[network]`` table (and ``--timeout``, ``--deadline``).

    Attributes:
        timeout_seconds: per network operation (connect, read, one DNS query); 0.1 .. 3600.
        deadline_seconds: the whole run; 1 .. 86400.
        max_download_bytes: cap on any HTTP body read; 1024 .. 1 GiB.
        allow_link_local: connect to link-local and cloud metadata addresses too (169.254.0.0/16,
            fe80::/10, fd00:ec2::254, ...); refused by default (net/policy.py).
    """

    timeout_seconds: float = setting(10.0, Number(0.1, MAX_TIMEOUT_SECONDS, unit="of seconds"))
    deadline_seconds: float = setting(120.0, Number(1, MAX_DEADLINE_SECONDS, unit="of seconds"))
    max_download_bytes: int = setting(10 * 1024 * 1024, Number(1024, MAX_DOWNLOAD_BYTES, integer=True,
                                                               unit="of bytes"))
    allow_link_local: bool = setting(False, Boolean())


@dataclass(frozen=True)
class Limits:
    """The ``[limits]`` table: caps on what the tool reads and writes (docs/hardening.md). Hostile
    or damaged input is refused at these sizes with an error naming the cap and this key, instead
    of costing minutes and gigabytes.

    Attributes:
        max_input_bytes: the largest file read: AD FS and Entra exports, evidence snapshots, CA
            bundles, certificate and key files (64 MiB; 1 kB .. 4 GiB). Also ``--max-input-bytes``.
        max_export_items: the longest list an AD FS / Entra export or a snapshot may hold (relying
            party trusts, endpoints, certificates, ...; 20 000). A real farm has hundreds.
        max_pfx_iterations: the highest PKCS#12 MAC or key-derivation iteration count accepted in a
            PFX file before it is opened (600 000; Windows writes 2 000, OpenSSL 2 048).
        max_report_rows: findings of one check shown in the reports (HTML, JSON, text, JUnit,
            Markdown); the rest are counted there and all are in the CSV report (100).
    """

    max_input_bytes: int = setting(64 * 1024 * 1024, Number(1024, 4 * 1024 ** 3, integer=True, unit="of bytes"))
    max_export_items: int = setting(20_000, Number(10, 10_000_000, integer=True))
    max_pfx_iterations: int = setting(600_000, Number(1, 100_000_000, integer=True))
    max_report_rows: int = setting(100, Number(1, 1_000_000, integer=True))
