"""A webhook receiver on loopback for the notification tests: records every POST (path and JSON
body) and answers with a chosen status, like a Teams or Slack incoming webhook would.

Over plain HTTP by default; over HTTPS with ``certificate`` (a chain PEM and a key PEM, e.g. issued
by a private lab CA). Run as a script (``python webhook_receiver.py HOST PORT POSTS [CHAIN KEY]``)
it serves in a process of its own, e.g. inside a network namespace, writes each post as one JSON
line to POSTS and prints "listening" once it accepts connections.
"""

from __future__ import annotations

import ipaddress
import json
import ssl
import sys
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def private_ca_receiver_certificate(folder: Path, address: str) -> tuple[Path, Path, Path]:
    """A private CA of its own (not the lab's: the lab's CA keys are shared by every LabPki of the
    process) and a server certificate it signed for the IP ``address``. Returns (the CA's PEM, the
    server's chain PEM, the server's key PEM), written in ``folder``."""
    now = datetime.now(timezone.utc)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Fabrikam Private Webhook CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
          .not_valid_after(now + timedelta(days=30))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    leaf = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, address)]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(address))]),
                           critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    ca_pem, chain, key_pem = folder / "webhook-ca.pem", folder / "webhook-chain.pem", folder / "webhook-key.pem"
    ca_pem.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    chain.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_pem.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    return ca_pem, chain, key_pem


class WebhookReceiver:
    """``with WebhookReceiver() as hook: ... hook.url ... hook.posts`` (list of (path, body))."""

    def __init__(self, status: int = 200, *, host: str = "127.0.0.1", port: int = 0,
                 certificate: tuple[Path, Path] | None = None, record: Path | None = None) -> None:
        self.status = status
        self.posts: list[tuple[str, dict]] = []
        self.scheme = "https" if certificate is not None else "http"
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length) or b"null")
                receiver.posts.append((self.path, body))
                if record is not None:
                    with record.open("a", encoding="utf-8") as out:
                        out.write(json.dumps([self.path, body]) + "\n")
                self.send_response(receiver.status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer((host, port), Handler)
        if certificate is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(str(certificate[0]), str(certificate[1]))
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"{self.scheme}://{host}:{port}/webhookb2/secret-token-123"

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


if __name__ == "__main__":
    host, port, posts = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
    pem = (Path(sys.argv[4]), Path(sys.argv[5])) if len(sys.argv) > 5 else None
    with WebhookReceiver(host=host, port=port, certificate=pem, record=posts):
        print("listening", flush=True)
        sys.stdin.read()  # serve until the test closes our standard input
