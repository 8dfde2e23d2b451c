"""msal's HTTP through the run's client: the token endpoint (and any OpenID discovery msal makes)
gets the same caps, time limit, policy and trust as every other request.

msal accepts an ``http_client`` with ``get(url, params=None, headers=None, **kwargs)`` and
``post(url, params=None, data=None, headers=None, **kwargs)`` returning an object with
``status_code``, ``text``, ``headers`` and ``raise_for_status()``; it expects an exception for
transport failures (msal's ``oauth2cli/http.py``, "HttpClient" and "Response").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from adfs_readiness.facts import ProbeError, ProbeErrorKind
from adfs_readiness.net.budget import TimeBudget
from adfs_readiness.net.http import HttpAnswer, HttpClient
from adfs_readiness.settings import HostPort
from adfs_readiness.text import decode_text

__all__ = ["MsalHttpClient", "HttpFailure"]


class HttpFailure(Exception):
    """A request msal made failed before a usable answer: ``error`` says why (as data)."""

    def __init__(self, error: ProbeError) -> None:
        super().__init__(str(error))
        self.error = error


class _Response:
    """The answer in the shape msal reads."""

    def __init__(self, answer: HttpAnswer) -> None:
        self.status_code = answer.status or 0
        self.headers = dict(answer.headers)
        self.text = decode_text(answer.body)
        self._answer = answer

    def raise_for_status(self) -> None:
        if self.status_code >= 400:
            raise HttpFailure(ProbeError(ProbeErrorKind.HTTP, f"HTTP {self.status_code}", self._answer.exchange.url))


class MsalHttpClient:
    """An ``http_client`` for msal whose requests go through ``client`` within ``budget``.

    Args:
        client: the run's HTTP client.
        budget: the probe's time budget: each request (discovery, token) ends within one operation
            time (``network.timeout_seconds``), headers and body, and by the budget's deadline.
        pins: host name (lower case) -> address to connect to instead of resolving it (the
            configured ``[cloud]`` addresses, like curl --resolve).
    """

    def __init__(self, client: HttpClient, budget: TimeBudget, pins: Mapping[str, HostPort] | None = None) -> None:
        self._client, self._budget, self._pins = client, budget, dict(pins or {})

    def _pin(self, url: str) -> HostPort | None:
        return self._pins.get((urlsplit(url).hostname or "").lower())

    @staticmethod
    def _with_params(url: str, params: Mapping[str, Any] | None) -> str:
        if not params:
            return url
        parts = urlsplit(url)
        query = "&".join(q for q in (parts.query, urlencode(params)) if q)
        return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))

    @staticmethod
    def _checked(answer: HttpAnswer) -> _Response:
        if answer.error is not None:
            raise HttpFailure(answer.error)
        return _Response(answer)

    def get(self, url: str, params: Mapping[str, Any] | None = None, headers: Mapping[str, str] | None = None,
            **kwargs: Any) -> _Response:
        """GET for msal (redirects not followed: msal asks the URLs it means)."""
        url = self._with_params(url, params)
        return self._checked(self._client.get(url, budget=self._budget, headers=headers, max_redirects=0,
                                              accept="application/json", connect_address=self._pin(url),
                                              total_seconds=self._budget.operation_seconds))

    def post(self, url: str, params: Mapping[str, Any] | None = None, data: Any = None,
             headers: Mapping[str, str] | None = None, **kwargs: Any) -> _Response:
        """POST for msal: ``data`` a dict (sent form-encoded) or a string (sent as it is)."""
        url = self._with_params(url, params)
        extra = {k: v for k, v in (headers or {}).items() if k.lower() != "content-type"}
        given = next((v for k, v in (headers or {}).items() if k.lower() == "content-type"), None)
        if isinstance(data, Mapping):
            body, content_type = urlencode(data).encode("ascii"), "application/x-www-form-urlencoded"
        else:
            body = (data or "").encode("utf-8") if isinstance(data, str) else bytes(data or b"")
            content_type = "application/x-www-form-urlencoded"
        return self._checked(self._client.post(url, body, content_type=given or content_type, budget=self._budget,
                                               headers=extra, accept="application/json",
                                               connect_address=self._pin(url),
                                               total_seconds=self._budget.operation_seconds))

    def close(self) -> None:
        """Nothing to close: every request has its own connection."""
