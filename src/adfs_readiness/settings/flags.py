"""The command-line flags that set configuration keys, and how they apply: each flag names the key
it sets and goes through that key's own validator (:mod:`adfs_readiness.settings.values`), so
``--timeout 0`` and ``timeout_seconds = 0`` are refused by the same rule with the same words.

The CLI turns :data:`SETTINGS_FLAGS` into argparse options that keep the text as given; it calls
:func:`apply_flags` with what was given, which raises one :class:`SettingsError` listing every bad
flag.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal, Mapping, Sequence

from adfs_readiness.settings._problems import COMMAND_LINE, SettingProblem, SettingsError
from adfs_readiness.settings._schema import spec_of
from adfs_readiness.settings.model import SECTIONS, Settings
from adfs_readiness.settings.values import Invalid, ListOf, ValueContext

__all__ = ["SettingsFlag", "SETTINGS_FLAGS", "flag", "apply_flags", "parse_flag"]


@dataclass(frozen=True)
class SettingsFlag:
    """A flag that sets the key ``key`` (``section.field``).

    Attributes:
        option: the flag, e.g. ``--service-name``.
        key: the dotted key it sets.
        help: one line for ``--help``.
        metavar: the placeholder shown in ``--help`` (None for a switch).
        mode: ``set`` (the flag's value replaces the file's), ``append`` (repeatable; the values
            replace the file's list), ``extend`` (repeatable; added to the file's list) or
            ``switch_off`` (no value; sets the boolean key to false).
        group: the ``--help`` group it is listed under.
    """

    option: str
    key: str
    help: str
    metavar: str | None = None
    mode: Literal["set", "append", "extend", "switch_off"] = "set"
    group: str = "target"

    @property
    def dest(self) -> str:
        """The argparse destination name (``--service-name`` -> ``service_name``)."""
        return self.option.lstrip("-").replace("-", "_")


SETTINGS_FLAGS: tuple[SettingsFlag, ...] = (
    SettingsFlag("--service-name", "federation.service_name", "federation service name, e.g. sts.contoso.com",
                 "NAME"),
    SettingsFlag("--domain", "federation.domains", "federated domain, e.g. contoso.com (repeatable; replaces "
                 "federation.domains)", "DOMAIN", "append"),
    SettingsFlag("--service-address", "federation.service_address",
                 "connect the federation service name to this address (like curl --resolve)", "HOST[:PORT]"),
    SettingsFlag("--metadata", "federation.metadata", "read federation metadata from a file or URL", "PATH|URL"),
    SettingsFlag("--ca-bundle", "tls.ca_bundle", "extra trusted CA certificates (PEM)", "PATH"),
    SettingsFlag("--certificate", "certificate.file",
                 "judge a new SSL certificate before deployment (PEM, DER or PFX/PKCS#12)", "FILE"),
    SettingsFlag("--certificate-password-env", "certificate.password_env",
                 "environment variable holding the PFX / key password (else a prompt when interactive)", "VAR"),
    SettingsFlag("--csv-dir", "directory.csv_dir",
                 "write every object-level directory problem to DIR/directory-problems.csv", "DIR"),
    SettingsFlag("--adfs-export", "adfs.export",
                 "an AD FS or WAP server export written by the collector (adfs-readiness collector); repeat it "
                 "for each server, or give a folder of them (replaces adfs.export)", "FILE|DIR", "append"),
    SettingsFlag("--sign-in-upn", "sign_in_test.upn",
                 "run endpoints.sign-in-test with this test account (password from ADFS_READINESS_SIGNIN_PASSWORD "
                 "or [sign_in_test] password_source)", "UPN"),
    SettingsFlag("--entra-export", "cloud.entra_export",
                 "Entra federation settings: Get-MgDomainFederationConfiguration ... | ConvertTo-Json", "FILE"),
    SettingsFlag("--skip", "checks.skip", "do not run this check, 'prefix.*' or 'area.*' (repeatable; adds to "
                 "checks.skip)", "CHECK", "extend", "run"),
    SettingsFlag("--deadline", "network.deadline_seconds", "finish the whole run within this many seconds "
                 "(1 to 86400; default 120)", "SECONDS", group="run"),
    SettingsFlag("--timeout", "network.timeout_seconds", "per network operation (0.1 to 3600 seconds; default 10)",
                 "SECONDS", group="run"),
    SettingsFlag("--max-input-bytes", "limits.max_input_bytes", "largest export, snapshot, CA bundle or key file "
                 "read (default 64 MiB)", "BYTES", group="run"),
    SettingsFlag("--history", "history.path", "run history database (default: history.path of the config, else "
                 "the user data folder)", "PATH", group="scheduled runs"),
    SettingsFlag("--no-history", "history.enabled", "do not record this run nor compare with the last one",
                 mode="switch_off", group="scheduled runs"),
    SettingsFlag("--suppressions", "suppressions.file", "accepted risks file (TOML, see docs/scheduling.md)",
                 "PATH", group="scheduled runs"),
)


def flag(option: str) -> SettingsFlag:
    """The flag spelled ``option``. Raises KeyError for an unknown one."""
    for f in SETTINGS_FLAGS:
        if f.option == option:
            return f
    raise KeyError(option)


def _field(key: str) -> dataclasses.Field[Any]:
    section, name = key.split(".", 1)
    return {f.name: f for f in dataclasses.fields(SECTIONS[section])}[name]


def apply_flags(settings: Settings, given: Mapping[str, Any],
                flags: Sequence[SettingsFlag] = SETTINGS_FLAGS) -> Settings:
    """``settings`` with the flags in ``given`` applied (flags win over the file).

    ``given`` maps an option (``--timeout``) to what argparse kept: the text for ``set``, a list
    of texts for ``append``/``extend``, True for ``switch_off``; None or absent = not given.
    Relative paths are taken relative to the working directory.

    Raises:
        SettingsError: every bad flag at once (source "command line", key = the flag).
    """
    ctx = ValueContext(base_dir=None)
    problems: list[SettingProblem] = []
    changes: dict[str, dict[str, Any]] = {}
    for f in flags:
        raw = given.get(f.option)
        if raw is None or raw is False or raw == []:
            continue
        section, name = f.key.split(".", 1)
        spec = spec_of(_field(f.key))
        assert spec is not None, f.key
        try:
            if f.mode == "switch_off":
                value: Any = False
            elif f.mode in ("append", "extend"):
                assert isinstance(spec.value, ListOf), f.key
                value = spec.value.parse_items(list(raw), ctx)
                if f.mode == "extend":
                    if f.key == "checks.skip":  # remembered, so a skipped finding names --skip
                        changes.setdefault(section, {})["skip_from_command_line"] = (
                            tuple(settings.checks.skip_from_command_line) + tuple(value))
                    value = tuple(getattr(getattr(settings, section), name)) + tuple(value)
            else:
                value = spec.value.from_text(str(raw), ctx)
        except Invalid as exc:
            shown = raw if exc.part is None else exc.part
            if isinstance(shown, list) and len(shown) == 1:
                shown = shown[0]
            problems.append(SettingProblem(COMMAND_LINE, f.option, shown, exc.expected, exc.fix))
            continue
        changes.setdefault(section, {})[name] = value
    if problems:
        raise SettingsError.of(problems)
    if not changes:
        return settings
    return settings.with_changes(**changes)


def parse_flag(option: str, text: str) -> Any:
    """The value of one ``set`` flag's ``text`` through its key's validator, for commands that
    take the flag without a whole settings object (``demo --deadline``).

    Raises:
        SettingsError: the text is refused (source "command line", key = the flag).
        KeyError: ``option`` is not a settings flag.
    """
    spec = spec_of(_field(flag(option).key))
    assert spec is not None
    try:
        return spec.value.from_text(text, ValueContext(base_dir=None))
    except Invalid as exc:
        raise SettingsError(COMMAND_LINE, option, text, exc.expected, exc.fix) from None
