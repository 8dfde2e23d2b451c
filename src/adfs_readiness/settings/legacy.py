"""Reading settings written by earlier releases: evidence snapshots (``collect``) made before the
settings took the shape of the TOML file stored one flat object; :func:`nest_flat_config` turns
it into the sectioned shape so those snapshots still ``assess``."""

from __future__ import annotations

from typing import Any, Mapping

__all__ = ["FLAT_CONFIG_KEYS", "nest_flat_config", "is_flat_config"]

#: Field of the old flat ``Config`` -> (section, key) of :class:`Settings`. Nested objects of the
#: old shape (``dns``, ``directory``, ``thresholds``, ``scope``, ``cloud``) kept their fields,
#: except ``cloud.federation_export`` (now ``cloud.entra_export``).
FLAT_CONFIG_KEYS: dict[str, tuple[str, str]] = {
    "service_name": ("federation", "service_name"),
    "expected_issuer": ("federation", "expected_issuer"),
    "federated_domains": ("federation", "domains"),
    "service_address": ("federation", "service_address"),
    "farm_nodes": ("federation", "farm_nodes"),
    "proxies": ("federation", "proxies"),
    "metadata_source": ("federation", "metadata"),
    "internal_resolvers": ("dns", "internal_resolvers"),
    "external_resolvers": ("dns", "external_resolvers"),
    "skip_checks": ("checks", "skip"),
    "ca_bundle": ("tls", "ca_bundle"),
    "external_ca_bundle": ("tls", "external_ca_bundle"),
    "certauth_port": ("tls", "certauth_port"),
    "timeout_seconds": ("network", "timeout_seconds"),
    "deadline_seconds": ("network", "deadline_seconds"),
    "max_download_bytes": ("network", "max_download_bytes"),
    "allow_link_local": ("network", "allow_link_local"),
    "certificate_file": ("certificate", "file"),
    "certificate_password": ("certificate", "password"),
    "history_path": ("history", "path"),
    "history_enabled": ("history", "enabled"),
    "suppressions_file": ("suppressions", "file"),
    "adfs_export": ("adfs", "export"),
    "adfs_source_anchor": ("adfs", "source_anchor"),
    "adfs_upn_attribute": ("adfs", "upn_attribute"),
    "endpoint_probe_urls": ("endpoints", "probe_urls"),
    "latency_samples": ("endpoints", "latency_samples"),
}

_KEPT_SECTIONS = ("dns", "directory", "thresholds", "scope", "cloud", "sign_in_test", "limits")


def is_flat_config(doc: Mapping[str, Any]) -> bool:
    """True when ``doc`` (a JSON-encoded configuration) has the old flat shape."""
    return any(key in doc for key in FLAT_CONFIG_KEYS) or "federation" not in doc and "network" not in doc


def nest_flat_config(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The sectioned JSON form of an old flat configuration document (unknown keys are kept at the
    top level, so the decoder names them)."""
    nested: dict[str, Any] = {}
    for name in _KEPT_SECTIONS:
        if isinstance(doc.get(name), Mapping):
            nested[name] = dict(doc[name])
    cloud = nested.get("cloud")
    if cloud is not None and "federation_export" in cloud:
        cloud["entra_export"] = cloud.pop("federation_export")
    for key, value in doc.items():
        if key == "adfs_export":
            value = [] if value is None else [value] if isinstance(value, str) else value  # now always a list
        if key in FLAT_CONFIG_KEYS:
            section, name = FLAT_CONFIG_KEYS[key]
            nested.setdefault(section, {})[name] = value
        elif key not in _KEPT_SECTIONS:
            nested[key] = value
    return nested
