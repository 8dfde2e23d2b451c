"""TLS client contexts and the trust they carry, built once per run and shared by its requests.

An HTTPS request verifies the server against the system trust store, certifi's bundle (the
Mozilla roots, so a machine with an empty or outdated store still judges public certificates as
browsers do) and the optional ``tls.ca_bundle`` (an enterprise root). Loading those files is
this machine's business: when a bundle is missing, unreadable or not PEM, every HTTPS request of
the run is "not determined" with that local cause (``ProbeErrorKind.LOCAL``), never a failure of
the target's certificate.

An ``ssl.SSLContext`` is safe to share between threads once configured (CPython's ``ssl``
documentation, "SSL contexts"), so one context serves every request of the run.
"""

from __future__ import annotations

import ssl
import threading
from pathlib import Path

import certifi

from adfs_readiness.facts import ProbeError, ProbeErrorKind

__all__ = ["TrustStores"]


class TrustStores:
    """The run's TLS client contexts, built on first use and then reused.

    Args:
        ca_bundle: extra CA certificates (PEM) trusted besides the system store and certifi.
    """

    def __init__(self, ca_bundle: Path | None = None) -> None:
        self.ca_bundle = ca_bundle
        self._lock = threading.Lock()
        self._https: ssl.SSLContext | ProbeError | None = None

    def https_context(self) -> ssl.SSLContext | ProbeError:
        """The verifying client context for HTTPS (certificate and host name checked), or a
        ProbeError of kind ``local`` naming the bundle this machine could not load."""
        with self._lock:
            if self._https is None:
                self._https = self._build()
            return self._https

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
