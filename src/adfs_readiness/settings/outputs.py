"""``[tls]`` (trust stores), ``[history]``, ``[suppressions]`` and ``[certificate]`` (a certificate
file to judge before deployment)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from adfs_readiness.settings._schema import setting
from adfs_readiness.settings.values import Boolean, EnvName, FilePath, Number, Text

__all__ = ["TlsSettings", "HistorySettings", "SuppressionsSettings", "CertificateSettings"]

_CA_FILE = FilePath("PEM file of CA certificates", must_exist=True)


@dataclass(frozen=True)
class TlsSettings:
    """The ``[tls]`` table.

    Attributes:
        ca_bundle: extra CA certificates (PEM) trusted for HTTPS in addition to the system store.
        external_ca_bundle: CA certificates (PEM) treated as publicly trusted in the external TLS
            view, in addition to the system store and certifi (a lab, or a service used only by
            managed devices that all trust this CA). None = only public roots.
        certauth_port: the port AD FS serves certificate authentication on (49443) when
            ``scope.certificate_authentication`` is set.
    """

    ca_bundle: Path | None = setting(None, _CA_FILE)
    external_ca_bundle: Path | None = setting(None, _CA_FILE)
    certauth_port: int = setting(49443, Number(1, 65535, integer=True, unit="(port)"))


@dataclass(frozen=True)
class HistorySettings:
    """The ``[history]`` table: the run history database (see history.py).

    Attributes:
        enabled: record runs and compare with the last one (``--no-history`` turns it off).
        path: the SQLite file; None = the default in the user data folder.
    """

    enabled: bool = setting(True, Boolean())
    path: Path | None = setting(None, FilePath("a file path for the history database"))


@dataclass(frozen=True)
class SuppressionsSettings:
    """The ``[suppressions]`` table: ``file`` = the accepted risks (TOML, see suppressions.py)."""

    file: Path | None = setting(None, FilePath("suppressions file (TOML)", must_exist=True))


@dataclass(frozen=True)
class CertificateSettings:
    """The ``[certificate]`` table (and ``--certificate``): a certificate to judge before deployment.

    Attributes:
        file: PEM, DER or PFX/PKCS#12.
        password_env: the environment variable holding the PFX / key password (else a prompt when
            interactive).
        password: the password itself, filled in when the run starts (never from a file or a
            flag; never shown, never compared, never stored in a snapshot).
    """

    refused = {"password": "no password in the file: name an environment variable with password_env"}

    file: Path | None = setting(None, FilePath("certificate file", must_exist=True))
    password_env: str | None = setting(None, EnvName())
    password: str | None = setting(None, Text(), in_file=False, repr=False, compare=False)
