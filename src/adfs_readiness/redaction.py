"""The one redactor: no secret of a run leaves it, whatever a server echoes.

A hostile or careless server can echo what we send it: a token endpoint its client secret in an
error description, a domain controller the bind password in an attribute value, a proxy a URL
with its userinfo. Everything that is a secret in a run is therefore scrubbed from every output
(reports of every format, CSV, metrics, history, snapshot, lock names, ``-vv`` logs):

* the LDAP bind password (the environment variable ``directory.password_env``, or a password a
  probe registers on the run, e.g. from the keyring or a prompt: ``ctx.net.secrets.add``);
* the sign-in test account's password (``sign_in_test.password_env``);
* the Graph client secret (the environment variable ``cloud.client_secret_env``);
* the certificate (PFX) password;
* the userinfo (``user:password``) of every configured URL, and of any URL in any text (shown
  as ``***@``);
* the webhook URL's path and query (and each long path segment: the token part);
* PEM private-key blocks anywhere in a string;
* values under keys that name a secret (``password``, ``client_secret``, ``authorization``, ...).

Each secret is also matched in the forms a server is likely to echo it in: percent-encoded (URL
and form encoding), JSON-escaped and HTML/XML-escaped. Values shorter than 4 characters are not
searched for (they would redact innocent text everywhere).

Linear time: each string is searched once per secret form (``str.replace``, whose two-way search
is linear), and private-key blocks are found by forward scans (:mod:`adfs_readiness.pem`; the old
regex with a lazy ``.*?`` rescanned to the end from every BEGIN line: quadratic on a string full
of BEGIN lines).

Use: ``Redactor.for_run(config)``, then ``redactor.text(s)`` for a string, ``redactor.value(v)``
for JSON-ready data, ``redactor.result(run_result)`` for a whole run (the engine applies it where
the run's result is made, so every writer gets redacted data); :func:`protect_logs` makes the log
handlers of the CLI redact too.
"""

from __future__ import annotations

import dataclasses
import html
import json
import logging
import os
import re
import threading
from collections.abc import Iterable, Mapping
from enum import Enum
from typing import TYPE_CHECKING, Any, TypeVar, cast
from urllib.parse import quote, quote_plus, unquote, urlsplit

from adfs_readiness.pem import strip_pem_blocks

if TYPE_CHECKING:
    from adfs_readiness.settings import Settings

__all__ = ["REDACTED", "SECRET_KEYS", "Redactor", "url_secrets", "webhook_secrets", "RedactingFormatter",
           "protect_logs", "mask_url_userinfo", "redact_known"]

REDACTED = "[REDACTED]"
_T = TypeVar("_T")
#: Keys whose values are secrets whatever they hold (compared lower-case, "-" as "_").
SECRET_KEYS = frozenset({"password", "passwd", "pwd", "secret", "client_secret", "private_key", "privatekey",
                         "authorization", "proxy_authorization", "cookie", "set_cookie", "api_key", "apikey",
                         "access_token", "refresh_token", "bind_password", "credential", "credentials", "key_pem"})
_MIN_SECRET = 4
_PEM_BEGIN = re.compile(r"-----BEGIN [A-Z0-9 ]{0,64}PRIVATE KEY-----")
#: A webhook path segment at least this long is taken for its token part.
_TOKEN_SEGMENT = 16


def _forms(secret: str) -> set[str]:
    """The secret as written, percent-encoded, form-encoded, JSON-escaped and HTML-escaped."""
    forms = {secret, quote(secret, safe=""), quote_plus(secret, safe=""), json.dumps(secret)[1:-1],
             json.dumps(secret, ensure_ascii=False)[1:-1], html.escape(secret, quote=True)}
    return {f for f in forms if len(f) >= _MIN_SECRET}


def url_secrets(url: str | None) -> list[str]:
    """The secret parts of a URL's userinfo: ``user:password`` and the password (as written and
    decoded); empty when the URL has none."""
    if not url:
        return []
    try:
        netloc = urlsplit(url).netloc
    except ValueError:
        netloc = url.partition("://")[2].partition("/")[0]
    if "@" not in netloc:
        return []
    userinfo = netloc.rsplit("@", 1)[0]
    password = userinfo.partition(":")[2]
    return [s for s in (userinfo, unquote(userinfo), password, unquote(password)) if s]


def webhook_secrets(url: str | None) -> list[str]:
    """The secret parts of a webhook URL: its path and query together, the query, and every path
    segment of 16 characters or more (the token of a Slack or Teams URL), plus any userinfo."""
    if not url:
        return []
    try:
        parts = urlsplit(url)
    except ValueError:
        return [url]
    found = url_secrets(url)
    path_query = parts.path + (f"?{parts.query}" if parts.query else "")
    if path_query.strip("/"):
        found.append(path_query)
    if parts.query:
        found.append(parts.query)
    found += [segment for segment in parts.path.split("/") if len(segment) >= _TOKEN_SEGMENT]
    return found


class Redactor:
    """Replaces a run's secrets with ``[REDACTED]`` (thread-safe; see the module docstring).

    Args:
        secrets: literal secret values (each also matched in its encoded forms).
    """

    def __init__(self, secrets: Iterable[str] = (), *, teach_logs: bool = False) -> None:
        self._lock = threading.Lock()
        self._forms: tuple[str, ...] = ()
        self._secrets: set[str] = set()
        self._teach_logs = teach_logs
        self.add(*secrets)

    @classmethod
    def for_run(cls, config: Settings, environ: Mapping[str, str] | None = None,
                extra: Iterable[str] = ()) -> Redactor:
        """The redactor of a run of ``config`` (a :class:`~adfs_readiness.settings.Settings`): the
        secrets listed in the module docstring that the configuration and ``environ`` (default:
        the process environment) name, plus ``extra``."""
        env = os.environ if environ is None else environ
        found: list[str] = list(extra)
        directory, cloud, sign_in = config.directory, config.cloud, config.sign_in_test
        variables = [directory.password_env, cloud.client_secret_env, config.certificate.password_env]
        if sign_in.password_source == "env":
            variables.append(sign_in.password_env)
        for variable in variables:
            if variable and env.get(variable):
                found.append(env[variable])
        if config.certificate.password:
            found.append(config.certificate.password)
        urls = [config.federation.metadata, directory.server, *config.endpoints.probe_urls]
        for url in urls:
            found += url_secrets(url)
        return cls(found)

    def add(self, *secrets: str | None) -> None:
        """Add secret values (None, empty and short ones are ignored); with ``teach_logs``, the
        redacting log handlers learn them too (:func:`protect_logs`)."""
        new = {s for s in secrets if isinstance(s, str) and len(s) >= _MIN_SECRET} - self._secrets
        if not new:
            return
        if self._teach_logs:
            protect_logs(*new)
        with self._lock:
            self._secrets |= new
            forms = set(self._forms)
            for secret in new:
                forms |= _forms(secret)
            # Longest first: a secret that contains another is replaced whole.
            self._forms = tuple(sorted(forms, key=len, reverse=True))

    @property
    def secrets(self) -> frozenset[str]:
        """The secret values known (for handing on to another redactor)."""
        return frozenset(self._secrets)

    def text(self, value: str) -> str:
        """``value`` with every secret form and private-key block replaced by ``[REDACTED]``, and
        the userinfo of every URL in it by ``***`` (:func:`mask_url_userinfo`)."""
        if not value:
            return value
        value = mask_url_userinfo(_without_private_keys(value))
        for form in self._forms:
            if form in value:
                value = value.replace(form, REDACTED)
        return value

    def value(self, value: Any, key: str | None = None) -> Any:
        """A copy of a JSON-ready value (or a tree of frozen dataclasses, as the engine's results
        are) with secrets replaced: strings scrubbed, values under secret-named keys replaced
        whole. Enums, numbers, dates and None are returned as they are."""
        if key is not None and _secret_key(key) and value not in (None, "", [], {}):
            return REDACTED
        if isinstance(value, Enum):
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {self.text(k) if isinstance(k, str) else k: self.value(v, k if isinstance(k, str) else None)
                    for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if isinstance(value, tuple):
            return tuple(self.value(v) for v in value)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            changes = {}
            for f in dataclasses.fields(value):
                if not f.init:
                    continue
                before = getattr(value, f.name)
                after = self.value(before, f.name)
                if after is not before:
                    changes[f.name] = after
            return dataclasses.replace(value, **changes) if changes else value
        return value

    def result(self, result: _T) -> _T:
        """A :class:`~adfs_readiness.model.RunResult` (or any dataclass tree) with secrets
        replaced in every string it holds: target, findings, reasons, facts, metadata, changes."""
        return cast(_T, self.value(result))


#: ``scheme://userinfo@``: a scheme (RFC 3986 3.1), then up to 512 characters without a space,
#: "/", "?", "#", "@" or a bracket before an "@". Bounded repetitions: linear time.
_URL_USERINFO = re.compile(r"\b([A-Za-z][A-Za-z0-9+.-]{0,30}://)[^\s/?#@\[\]]{1,512}@")


def mask_url_userinfo(text: str) -> str:
    """``text`` with the userinfo of every URL (``https://user:password@host``) shown as ``***@``
    (as :func:`adfs_readiness.net.policy.without_userinfo` shows a URL): credentials in a URL are
    a secret whoever wrote them there (a configuration, a redirect, an echoing server, an
    exception's message), RFC 3986 3.2.1."""
    if "://" not in text or "@" not in text:
        return text
    return _URL_USERINFO.sub(lambda m: f"{m.group(1)}***@", text)


def redact_known(text: str) -> str:
    """``text`` with every secret this process knows replaced: those the redacting log handlers
    were taught (a run teaches them all of its secrets, :func:`protect_logs`), URL userinfo and
    private keys. For text made outside a run's :class:`Redactor`: the one line of an unexpected
    exception, which reaches standard error and every report (crash.py)."""
    for handler in logging.getLogger().handlers:
        formatter = handler.formatter
        if isinstance(formatter, RedactingFormatter):
            text = formatter.redactor.text(text)
    return Redactor().text(text)


def _secret_key(key: str) -> bool:
    name = key.lower().replace("-", "_")
    return name in SECRET_KEYS or name.endswith(("_password", "_secret", "_token"))


def _without_private_keys(value: str) -> str:
    """PEM private-key blocks replaced (:func:`adfs_readiness.pem.strip_pem_blocks`, linear); a
    BEGIN line left without its END redacts the rest of the string: a truncated key is still key
    material."""
    if "PRIVATE KEY-----" not in value:
        return value
    value = strip_pem_blocks(value, "PRIVATE KEY", REDACTED)
    begin = _PEM_BEGIN.search(value)
    return value if begin is None else value[:begin.start()] + REDACTED


class RedactingFormatter(logging.Formatter):
    """A log formatter that passes everything it writes (the message and any traceback) through a
    :class:`Redactor`, and the message also through an optional ``finish`` function (terminal
    escaping: a traceback keeps its line breaks)."""

    def __init__(self, fmt: str, redactor: Redactor | None = None, finish: Any = None) -> None:
        super().__init__(fmt)
        self.redactor = redactor if redactor is not None else Redactor()
        self._finish = finish

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's name
        line = self.redactor.text(super().formatMessage(record))
        return self._finish(line) if self._finish is not None else line

    def format(self, record: logging.LogRecord) -> str:
        return self.redactor.text(super().format(record))


def protect_logs(*secrets: str | None) -> None:
    """Teach every redacting log handler of the process (the CLI's, see
    :class:`RedactingFormatter`) these secrets. Logging is process-wide by nature; nothing else
    here is."""
    for handler in logging.getLogger().handlers:
        formatter = handler.formatter
        if isinstance(formatter, RedactingFormatter):
            formatter.redactor.add(*secrets)
