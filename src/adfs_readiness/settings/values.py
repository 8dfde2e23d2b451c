"""The value kinds of the configuration: one validator per kind, used by the TOML file and by the
command-line flags alike, so a value is accepted or refused by the same rule wherever it is given.

A validator's :meth:`Value.parse` takes what TOML gave (str, int, float, bool, list, table) and
returns the typed value or raises :class:`Invalid` (what is expected, and the fix when it can be
said). :meth:`Value.from_text` is the command line's door: it turns the flag's text into what TOML
would have given (a number, a boolean) and then calls the same :meth:`parse`.

Host names follow RFC 1123 (letters, digits, hyphens; ``_`` tolerated for SRV-style labels); a URL
given where a host belongs is recognised and the host inside it suggested. Names under
``.invalid`` never resolve (RFC 6761 section 6.4): they are the placeholders ``init`` writes and
are refused until edited.
"""

from __future__ import annotations

import ipaddress
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence
from urllib.parse import urlsplit

__all__ = [
    "Invalid", "ValueContext", "Value", "Text", "Choice", "Boolean", "Number", "HostName", "Address",
    "LdapUrl", "HttpUrl", "FilePath", "Location", "ListOf", "TableOf", "EnvName", "Account",
    "CheckSelector", "Pattern", "OneOrList", "CaseChoice", "BACKSLASH_FIX", "HostPort", "parse_host_port",
    "is_hostname", "PLACEHOLDER_SUFFIX",
]

#: The reserved top-level domain of the placeholders ``init`` writes (RFC 6761: never resolves).
PLACEHOLDER_SUFFIX = ".invalid"

_HOSTNAME = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?\.)*"
                       r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?\.?$")
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class Invalid(ValueError):
    """A value does not fit: ``expected`` says what would, ``fix`` what to write (or None)."""

    def __init__(self, expected: str, fix: str | None = None, *, part: Any = None) -> None:
        super().__init__(expected)
        self.expected = expected
        self.fix = fix
        #: The offending element of a list or table (None = the whole value).
        self.part = part


@dataclass(frozen=True)
class ValueContext:
    """Where a value comes from: ``base_dir`` anchors relative paths (the configuration file's
    folder; None = the working directory, as for command-line flags)."""

    base_dir: Path | None = None


@dataclass(frozen=True)
class HostPort:
    """An address to connect to: ``host`` (name, IPv4 or IPv6 without brackets) and ``port`` (int)."""

    host: str
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


def is_hostname(text: str) -> bool:
    """True when ``text`` is a syntactically valid DNS host name (RFC 1123, ``_`` tolerated)."""
    return bool(_HOSTNAME.match(text))


def parse_host_port(text: str, default_port: int, *, require_ip: bool = False) -> HostPort:
    """Parse ``host``, ``host:port``, ``ip``, ``ip:port``, ``[v6]`` or ``[v6]:port``.

    Raises ValueError with the reason when the text is not such an address (or, with
    ``require_ip``, when the host is not an IP address).
    """
    text = text.strip()
    if not text:
        raise ValueError("empty address")
    host, port_text = text, None
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise ValueError("unclosed '[' in IPv6 address")
        host, rest = text[1:end], text[end + 1:]
        if rest:
            if not rest.startswith(":"):
                raise ValueError("expected ':port' after ']'")
            port_text = rest[1:]
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    port = default_port
    if port_text is not None:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise ValueError(f"port {port_text!r} is not a number from 1 to 65535")
        port = int(port_text)
    try:
        ipaddress.ip_address(host)
        is_ip = True
    except ValueError:
        is_ip = False
    if require_ip and not is_ip:
        raise ValueError(f"{host!r} is not an IP address")
    if not is_ip and not is_hostname(host):
        raise ValueError(f"{host!r} is neither a host name nor an IP address")
    return HostPort(host, port)


class Value:
    """A validator: :meth:`parse` for TOML values, :meth:`from_text` for command-line text.

    Subclasses set ``expected`` (shown when a value is refused) and implement :meth:`parse`.
    """

    expected: str = "a value"

    def parse(self, raw: Any, ctx: ValueContext) -> Any:
        """The typed value of ``raw``; raises :class:`Invalid`."""
        raise NotImplementedError

    def from_text(self, text: str, ctx: ValueContext) -> Any:
        """The typed value of a flag's ``text`` (strings by default); raises :class:`Invalid`."""
        return self.parse(text, ctx)


def _string(raw: Any, expected: str) -> str:
    if not isinstance(raw, str):
        raise Invalid(expected)
    return raw.strip()


@dataclass(frozen=True)
class Text(Value):
    """A non-empty string without control characters (empty means "not set")."""

    expected: str = "a string"

    def parse(self, raw: Any, ctx: ValueContext) -> str | None:
        text = _string(raw, self.expected)
        if _CONTROL.search(text):
            raise Invalid(f"{self.expected} without control characters")
        return text or None


@dataclass(frozen=True)
class Choice(Value):
    """One of a fixed set of strings (compared as given, after trimming)."""

    options: tuple[str, ...] = ()

    @property
    def expected(self) -> str:  # type: ignore[override]
        quoted = [f'"{o}"' for o in self.options]
        return (", ".join(quoted[:-1]) + " or " + quoted[-1]) if len(quoted) > 1 else quoted[0]

    def parse(self, raw: Any, ctx: ValueContext) -> str:
        text = raw.strip() if isinstance(raw, str) else raw
        if text not in self.options:
            fix = f'write "{raw}" in quotes' if not isinstance(raw, str) and str(raw) in self.options else None
            raise Invalid(self.expected, fix)
        return text


@dataclass(frozen=True)
class Boolean(Value):
    """true or false (TOML booleans; on the command line also yes/no, on/off, 1/0)."""

    expected: str = "true or false"

    def parse(self, raw: Any, ctx: ValueContext) -> bool:
        if not isinstance(raw, bool):
            raise Invalid(self.expected, 'write true or false without quotes' if isinstance(raw, str) else None)
        return raw

    def from_text(self, text: str, ctx: ValueContext) -> bool:
        words = {"true": True, "yes": True, "on": True, "1": True, "false": False, "no": False, "off": False,
                 "0": False}
        if text.strip().lower() not in words:
            raise Invalid(self.expected)
        return words[text.strip().lower()]


@dataclass(frozen=True)
class Number(Value):
    """A finite number from ``minimum`` to ``maximum`` (``integer``: whole numbers only).

    TOML (and float()) accept inf and nan; they are refused: a limit of "infinity" is a typo or an
    attempt to switch a safeguard off, not a wish.
    """

    minimum: float = 0
    maximum: float | None = None
    integer: bool = False
    unit: str = ""

    @property
    def expected(self) -> str:  # type: ignore[override]
        what = "a whole number" if self.integer else "a finite number"
        unit = f" {self.unit}" if self.unit else ""
        if self.maximum is not None:
            return f"{what}{unit} from {_number(self.minimum)} to {_number(self.maximum)}"
        return f"{what}{unit} >= {_number(self.minimum)}"

    def parse(self, raw: Any, ctx: ValueContext) -> int | float:
        kinds = (int,) if self.integer else (int, float)
        # bool is a subclass of int: refuse it where a number is expected.
        if isinstance(raw, bool) or not isinstance(raw, kinds):
            fix = "write the number without quotes" if isinstance(raw, str) and _is_number(raw) else None
            raise Invalid(self.expected, fix)
        # nan compares False with everything: test finiteness first.
        if not math.isfinite(raw) or raw < self.minimum or (self.maximum is not None and raw > self.maximum):
            raise Invalid(self.expected)
        return raw if self.integer else float(raw)

    def from_text(self, text: str, ctx: ValueContext) -> int | float:
        try:
            value: int | float = int(text) if self.integer else float(text)
        except ValueError:
            raise Invalid(self.expected) from None
        return self.parse(value, ctx)


def _number(value: float) -> str:
    """1073741824 as written, not 1.07374e+09; 0.1 as 0.1."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _url_hint(text: str, with_port: bool) -> str | None:
    """When ``text`` is a URL, the fix naming the host (and port) inside it."""
    if not _URL.match(text):
        return None
    try:
        parts = urlsplit(text)
        host, port = parts.hostname, parts.port
    except ValueError:
        return "write only the host name, without scheme and path"
    if not host:
        return "write only the host name, without scheme and path"
    shown = f"[{host}]" if ":" in host else host
    if with_port and port:
        shown = f"{shown}:{port}"
    return f"this is a URL; write only the host: \"{shown}\""


def _placeholder_fix(name: str) -> str | None:
    if name.endswith(PLACEHOLDER_SUFFIX) or name == PLACEHOLDER_SUFFIX[1:]:
        return ("this is the placeholder written by 'adfs-readiness init' (.invalid never resolves): "
                "replace it with your own value")
    return None


@dataclass(frozen=True)
class HostName(Value):
    """A DNS name, lower-cased, trailing dot removed. ``fqdn``: at least two labels.
    ``example`` is shown in the message ("sts.contoso.com")."""

    example: str = "sts.contoso.com"
    what: str = "a fully qualified host name"
    fqdn: bool = True

    @property
    def expected(self) -> str:  # type: ignore[override]
        return f"{self.what} such as {self.example} (no scheme, no path)"

    def parse(self, raw: Any, ctx: ValueContext) -> str | None:
        text = _string(raw, self.expected)
        if not text:
            return None
        hint = _url_hint(text, with_port=False)
        if hint:
            raise Invalid(self.expected, hint)
        name = text.rstrip(".").lower()
        if not is_hostname(name) or (self.fqdn and "." not in name):
            raise Invalid(self.expected)
        placeholder = _placeholder_fix(name)
        if placeholder:
            raise Invalid(self.expected, placeholder)
        return name


@dataclass(frozen=True)
class Address(Value):
    """``host[:port]`` (or ``ip[:port]`` with ``require_ip``), as a :class:`HostPort`."""

    default_port: int = 443
    require_ip: bool = False
    what: str = "host[:port]"

    @property
    def expected(self) -> str:  # type: ignore[override]
        return self.what

    def parse(self, raw: Any, ctx: ValueContext) -> HostPort | None:
        text = _string(raw, self.expected)
        if not text:
            return None
        hint = _url_hint(text, with_port=True)
        if hint:
            raise Invalid(self.expected, hint)
        try:
            address = parse_host_port(text, self.default_port, require_ip=self.require_ip)
        except ValueError as exc:
            raise Invalid(f"{self.expected} ({exc})") from None
        placeholder = _placeholder_fix(address.host.rstrip(".").lower())
        if placeholder:
            raise Invalid(self.expected, placeholder)
        return address


@dataclass(frozen=True)
class LdapUrl(Value):
    """``ldaps://host[:port]`` or ``ldap://host[:port]`` (nothing after the host)."""

    expected: str = "an LDAP URL such as ldaps://dc1.corp.contoso.com or ldap://10.0.0.4:389"

    def parse(self, raw: Any, ctx: ValueContext) -> str | None:
        text = _string(raw, self.expected)
        if not text:
            return None
        if not re.match(r"^ldaps?://[^/\s]+/?$", text, re.I):
            fix = None
            if not _URL.match(text) and is_hostname(text.split(":")[0]):
                fix = f'write "ldaps://{text}" (LDAP over TLS) or "ldap://{text}"'
            raise Invalid(self.expected, fix)
        host = urlsplit(text).hostname or ""
        placeholder = _placeholder_fix(host)
        if placeholder:
            raise Invalid(self.expected, placeholder)
        return text


@dataclass(frozen=True)
class HttpUrl(Value):
    """An http:// or https:// URL with a host and a path."""

    expected: str = "a URL such as http://adfs1.corp.contoso.com/adfs/probe"

    def parse(self, raw: Any, ctx: ValueContext) -> str | None:
        text = _string(raw, self.expected)
        if not text:
            return None
        if not re.match(r"^https?://[^/\s]+/\S*$", text):
            raise Invalid(self.expected)
        return text


@dataclass(frozen=True)
class FilePath(Value):
    """A path, relative to the configuration file's folder when given in a file. ``must_exist``:
    refused unless it is an existing file; ``what`` names it in the message."""

    what: str = "a file path"
    must_exist: bool = False
    allow_dir: bool = False

    @property
    def expected(self) -> str:  # type: ignore[override]
        folder = " or a folder of them" if self.allow_dir else ""
        return f"an existing {self.what}{folder}" if self.must_exist else self.what

    def parse(self, raw: Any, ctx: ValueContext) -> Path | None:
        text = _string(raw, self.expected)
        if not text:
            return None
        path = Path(text).expanduser()
        if not path.is_absolute() and ctx.base_dir is not None:
            path = ctx.base_dir / path
        if self.must_exist and not (path.is_file() or self.allow_dir and path.is_dir()):
            reason = ("it is a folder" if path.is_dir() else "not a regular file" if path.exists()
                      else "no such file")
            raise Invalid(self.expected, f"{reason}: {path}")
        return path


@dataclass(frozen=True)
class Location(Value):
    """A URL (http/https, kept as given) or a file path (anchored like :class:`FilePath`).
    ``must_exist``: a path is refused unless it is an existing file (as :class:`FilePath` refuses
    one), so a mistyped path is one configuration error naming the option, not a run whose every
    check says "No such file or directory"; ``what`` names the file in the message."""

    what: str = "file"
    must_exist: bool = False

    @property
    def expected(self) -> str:  # type: ignore[override]
        return f"an existing {self.what} or an https:// URL" if self.must_exist else "a file path or an https:// URL"

    def parse(self, raw: Any, ctx: ValueContext) -> str | None:
        text = _string(raw, self.expected)
        if not text:
            return None
        if _URL.match(text):
            return text
        path = Path(text).expanduser()
        if not path.is_absolute() and ctx.base_dir is not None:
            path = ctx.base_dir / path
        if self.must_exist and not path.is_file():
            reason = ("it is a folder" if path.is_dir() else "not a regular file" if path.exists()
                      else "no such file")
            raise Invalid(self.expected, f"{reason}: {path}")
        return str(path)


@dataclass(frozen=True)
class EnvName(Value):
    """The name of an environment variable (letters, digits, underscores; not starting with a digit)."""

    expected: str = "an environment variable name such as ADFS_READINESS_LDAP_PASSWORD"

    def parse(self, raw: Any, ctx: ValueContext) -> str | None:
        text = _string(raw, self.expected)
        if not text:
            return None
        if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", text):
            raise Invalid(self.expected, "name the variable, not its value" if len(text) > 8 else None)
        return text


@dataclass(frozen=True)
class Account(Value):
    """A Windows account as typed by admins: ``DOMAIN\\user``, a UPN (``user@corp.contoso.com``)
    or a sAMAccountName. A control character means TOML read a backslash in "..." as an escape
    (``"CORP\\new"`` holds a newline): refused with how to write it."""

    expected: str = "an account such as 'CORP\\svc-readiness' or svc-readiness@corp.contoso.com"

    def parse(self, raw: Any, ctx: ValueContext) -> str | None:
        text = _string(raw, self.expected)
        if not text:
            return None
        if _CONTROL.search(text):
            raise Invalid(self.expected, BACKSLASH_FIX)
        return text


#: How to write DOMAIN\user in TOML (shown for escapes and for a TOML syntax error on such a line).
BACKSLASH_FIX = ("in TOML a backslash inside \"...\" starts an escape: write 'CORP\\svc' in single quotes, "
                 "or \"CORP\\\\svc\", or the UPN svc@corp.contoso.com")


@dataclass(frozen=True)
class CheckSelector(Value):
    """What ``checks.skip``, ``--skip`` and ``--only`` take: a check id (``metadata.signature``),
    an id prefix (``token-signing.*``) or an area (``dns.*``). Whether it names a real check is
    judged against the registry when a run starts (:func:`adfs_readiness.app.selection`)."""

    expected: str = 'a check id such as "metadata.signature", or "prefix.*" / "area.*" such as "dns.*"'

    def parse(self, raw: Any, ctx: ValueContext) -> str:
        text = _string(raw, self.expected).lower()
        if not re.match(r"^[a-z0-9-]+\.([a-z0-9-]+|\*)$", text):
            fix = None
            if re.match(r"^[a-z0-9-]+$", text):
                fix = f'write "{text}.*" for the whole area'
            raise Invalid(self.expected, fix)
        return text


@dataclass(frozen=True)
class ListOf(Value):
    """A TOML list of ``item`` values, returned as a tuple (empty items refused)."""

    item: Value = Text()
    example: str = '["a", "b"]'

    @property
    def expected(self) -> str:  # type: ignore[override]
        return f"a list of {self.item.expected}, e.g. {self.example}"

    def parse(self, raw: Any, ctx: ValueContext) -> tuple[Any, ...]:
        if isinstance(raw, str):
            raise Invalid(self.expected, f"put it in brackets: [{raw!r}]".replace("'", '"'))
        if not isinstance(raw, list):
            raise Invalid(self.expected)
        items = []
        for element in raw:
            if isinstance(element, str) and not element.strip():
                raise Invalid(f"{self.expected} (no empty strings)", part=element)
            try:
                value = self.item.parse(element, ctx)
            except Invalid as exc:
                raise Invalid(exc.expected, exc.fix, part=element) from None
            if value is not None:
                items.append(value)
        return tuple(items)

    def parse_items(self, texts: Sequence[str], ctx: ValueContext) -> tuple[Any, ...]:
        """A flag given several times: each text is one item (validated like a list element)."""
        items = []
        for text in texts:
            try:
                value = self.item.from_text(text, ctx)
            except Invalid as exc:
                raise Invalid(exc.expected, exc.fix, part=text) from None
            if value is not None:
                items.append(value)
        return tuple(items)


@dataclass(frozen=True)
class OneOrList(ListOf):
    """Like :class:`ListOf`, and a single value stands for a list of one (``export = "a.json"``
    and ``export = ["a.json", "b.json"]`` both work)."""

    def parse(self, raw: Any, ctx: ValueContext) -> tuple[Any, ...]:
        return super().parse([raw] if isinstance(raw, str) else raw, ctx)

    @property
    def expected(self) -> str:  # type: ignore[override]
        return f"{self.item.expected}, or a list of them, e.g. {self.example}"


@dataclass(frozen=True)
class CaseChoice(Value):
    """One of ``options``, compared without regard to letter case, returned as spelled in
    ``options`` (an attribute name such as ms-DS-ConsistencyGuid)."""

    options: tuple[str, ...] = ()

    @property
    def expected(self) -> str:  # type: ignore[override]
        return Choice(self.options).expected

    def parse(self, raw: Any, ctx: ValueContext) -> str | None:
        text = _string(raw, self.expected)
        if not text:
            return None
        for option in self.options:
            if option.lower() == text.lower():
                return option
        raise Invalid(self.expected)


@dataclass(frozen=True)
class TableOf(Value):
    """A TOML table ``key = value``: keys through ``key``, values through ``value``."""

    key: Value = Text()
    value: Value = Text()
    example: str = '"contoso.com" = "MS=ms12345678"'

    @property
    def expected(self) -> str:  # type: ignore[override]
        return f"a table of {self.example}"

    def parse(self, raw: Any, ctx: ValueContext) -> dict[Any, Any]:
        if not isinstance(raw, dict):
            raise Invalid(self.expected)
        parsed = {}
        for k, v in raw.items():
            try:
                parsed[self.key.parse(k, ctx)] = self.value.parse(v, ctx)
            except Invalid as exc:
                raise Invalid(exc.expected, exc.fix, part={k: v}) from None
        return parsed


@dataclass(frozen=True)
class Pattern(Value):
    """A string matching ``regex`` (after trimming); ``expected`` says what it looks like."""

    regex: str = ".*"
    expected: str = "a string"
    normalise: Callable[[str], str] | None = None

    def parse(self, raw: Any, ctx: ValueContext) -> str | None:
        text = _string(raw, self.expected)
        if not text:
            return None
        if not re.fullmatch(self.regex, text):
            raise Invalid(self.expected)
        return self.normalise(text) if self.normalise else text
