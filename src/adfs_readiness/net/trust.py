"""TLS client contexts and the trust they carry, built once per run and shared by its requests.

An HTTPS request verifies the server against the system trust store, certifi's bundle (the
Mozilla roots, so a machine with an empty or outdated store still judges public certificates as
browsers do) and the optional ``tls.ca_bundle`` (an enterprise root). Loading those files is
this machine's business: when a bundle is missing, unreadable or not PEM, every HTTPS request of
the run is "not determined" with that local cause (``ProbeErrorKind.LOCAL``), never a failure of
the target's certificate.

An ``ssl.SSLContext`` is safe to share between threads once configured (CPython's ``ssl``
documentation, "SSL contexts"), so one context serves every request of the run.

A second context, the same trust with OpenSSL's ``SSL_OP_LEGACY_SERVER_CONNECT``, serves the
retry the HTTP client makes when a server does not support RFC 5746 secure renegotiation
(OpenSSL 3 refuses such servers by default; browsers and Windows' SChannel connect to them):
https://docs.openssl.org/3.0/man3/SSL_CTX_set_options/ ("Secure Renegotiation").
"""

from __future__ import annotations

import ssl
import threading
from pathlib import Path

import certifi

from adfs_readiness.facts import ProbeError, ProbeErrorKind

__all__ = ["TrustStores", "OP_LEGACY_SERVER_CONNECT"]

#: OpenSSL's SSL_OP_LEGACY_SERVER_CONNECT (``SSL_OP_BIT(2)`` in openssl/ssl.h, 1.0.x to 3.x);
#: Python exposes it as ``ssl.OP_LEGACY_SERVER_CONNECT`` only from 3.12 on.
OP_LEGACY_SERVER_CONNECT: int = getattr(ssl, "OP_LEGACY_SERVER_CONNECT", 0x4)


class TrustStores:
    """The run's TLS client contexts, built on first use and then reused.

    Args:
        ca_bundle: extra CA certificates (PEM) trusted besides the system store and certifi.
    """

    def __init__(self, ca_bundle: Path | None = None) -> None:
        self.ca_bundle = ca_bundle
        self._lock = threading.Lock()
        self._https: ssl.SSLContext | ProbeError | None = None
        self._legacy: ssl.SSLContext | ProbeError | None = None

    def https_context(self, *, legacy_renegotiation: bool = False) -> ssl.SSLContext | ProbeError:
        """The verifying client context for HTTPS (certificate and host name checked), or a
        ProbeError of kind ``local`` naming the bundle this machine could not load.

        Args:
            legacy_renegotiation: the same trust, but also connecting to servers without RFC 5746
                secure renegotiation (``SSL_OP_LEGACY_SERVER_CONNECT``); only for a retry after
                OpenSSL refused such a server, so the exchange can be marked.
        """
        with self._lock:
            if not legacy_renegotiation:
                if self._https is None:
                    self._https = self._build()
                return self._https
            if self._legacy is None:
                built = self._build()
                if isinstance(built, ssl.SSLContext):
                    built.options |= OP_LEGACY_SERVER_CONNECT
                self._legacy = built
            return self._legacy

    def _build(self) -> ssl.SSLContext | ProbeError:
        context = ssl.create_default_context()  # the system store
        for label, path in (("certifi's CA bundle", Path(certifi.where())), ("the CA bundle", self.ca_bundle)):
            if path is None:
                continue
            try:
                context.load_verify_locations(cafile=str(path))
            except FileNotFoundError:
                return ProbeError(ProbeErrorKind.LOCAL, f"{label} {path} is missing on this machine", str(path))
            except (ssl.SSLError, ValueError) as exc:  # before OSError: SSLError is one
                reason = getattr(exc, "reason", None) or exc
                return ProbeError(ProbeErrorKind.LOCAL, f"{label} {path} holds no usable PEM certificates "
                                  f"({reason})", str(path))
            except OSError as exc:
                return ProbeError(ProbeErrorKind.LOCAL, f"{label} {path} cannot be read on this machine "
                                  f"({exc.strerror or exc})", str(path))
        return context
