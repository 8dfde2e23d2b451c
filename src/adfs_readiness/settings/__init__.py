"""The configuration, shaped like the TOML file: one section per table, one validator per value,
used by the file (:func:`load_settings`) and by the command-line flags (:func:`apply_flags`) alike.

Layout:

* :mod:`.values` — the validators (host names, addresses, numbers, paths, check selectors, ...);
* :mod:`.federation`, :mod:`.directory`, :mod:`.limits`, :mod:`.outputs`, :mod:`.cloud` — the
  sections, each a frozen dataclass whose fields are the table's keys (made with ``setting()``:
  default + validator + an old name still accepted);
* :mod:`.model` — :class:`Settings`, one attribute per table;
* :mod:`.loader` — TOML file -> Settings, every problem of the file reported at once;
* :mod:`.flags` — the flags that set keys (:data:`SETTINGS_FLAGS`) and :func:`apply_flags`;
* :mod:`.example` — what ``adfs-readiness init`` writes.

Passwords and secrets are never read from a file: ``[directory] password`` and ``[cloud]
client_secret`` are refused, saying where the secret goes instead.
"""

from adfs_readiness.settings._problems import COMMAND_LINE, SettingProblem, SettingsError
from adfs_readiness.settings.cloud import AdfsSettings, CloudSettings, EndpointsSettings
from adfs_readiness.settings.directory import ADFS_VERSIONS, DirectorySettings
from adfs_readiness.settings.example import EXAMPLE_CONFIG
from adfs_readiness.settings.federation import DnsSettings, FederationSettings
from adfs_readiness.settings.flags import SETTINGS_FLAGS, SettingsFlag, apply_flags
from adfs_readiness.settings.lab import LabSettings
from adfs_readiness.settings.limits import (MAX_DEADLINE_SECONDS, MAX_DOWNLOAD_BYTES, MAX_TIMEOUT_SECONDS,
                                            ChecksSettings, Limits, NetworkSettings, Scope, Thresholds,
                                            selector_matches)
from adfs_readiness.settings.loader import load_settings, settings_from_mapping
from adfs_readiness.settings.model import SECTIONS, Settings
from adfs_readiness.settings.outputs import CertificateSettings, HistorySettings, SuppressionsSettings, TlsSettings
from adfs_readiness.settings.sign_in import SignInTestSettings
from adfs_readiness.settings.values import HostPort, is_hostname, parse_host_port

__all__ = [
    "Settings", "SECTIONS", "SettingsError", "SettingProblem", "COMMAND_LINE",
    "FederationSettings", "DnsSettings", "DirectorySettings", "Thresholds", "Scope", "ChecksSettings",
    "NetworkSettings", "TlsSettings", "HistorySettings", "SuppressionsSettings", "CertificateSettings",
    "CloudSettings", "AdfsSettings", "EndpointsSettings", "SignInTestSettings", "Limits", "LabSettings",
    "ADFS_VERSIONS",
    "load_settings", "settings_from_mapping", "apply_flags", "SETTINGS_FLAGS", "SettingsFlag",
    "HostPort", "parse_host_port", "is_hostname", "selector_matches", "EXAMPLE_CONFIG",
    "MAX_TIMEOUT_SECONDS", "MAX_DEADLINE_SECONDS", "MAX_DOWNLOAD_BYTES",
]
