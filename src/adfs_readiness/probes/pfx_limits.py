"""How much work a PFX / PKCS#12 file (RFC 7292) asks for, read before it is opened.

Opening a PFX derives keys from the password: once for the integrity MAC (``MacData.iterations``)
and once per password-encrypted part (the certificates' ``encryptedData``, each
``pkcs8ShroudedKeyBag``), each with the iteration count the *file* chooses. A file with a count
of 2^31 keeps ``cryptography`` busy for many minutes inside one call that cannot be interrupted
(and holds the run's deadline hostage). So the structure is parsed first with asn1crypto (no
key derivation, no decryption) and the file is refused when a count is over the cap, when it asks
for too many derivations, or when it nests its contents deeper than any real file does.

Windows' Export-PfxCertificate writes 2,000 iterations (MAC 2,000), OpenSSL 3 2,048, cryptography
2,048 for the MAC; the cap (``limits.max_pfx_iterations``, 600,000) is far above any of them.

What cannot be seen without the password: bags *inside* an ``encryptedData`` part. Real files keep
only certificates there (the key is a shrouded bag in a plain ``data`` part); a shrouded key
hidden inside the encrypted part is derived by cryptography with its own count, which is not
checked here (docs/hardening.md).
"""

from __future__ import annotations

from typing import Any

__all__ = ["pfx_refusal", "MAX_DERIVATIONS", "MAX_NESTING"]

#: Password-derived keys a file may ask for (a normal file asks for 3: MAC, certificates, key).
MAX_DERIVATIONS = 8
#: safeContentsBag nesting (RFC 7292 4.2.6); real files do not nest at all.
MAX_NESTING = 4
_MAX_BAGS = 1000


class _Refused(Exception):
    pass


def pfx_refusal(data: bytes, max_iterations: int, setting: str) -> str | None:
    """None when ``data`` parses as PKCS#12 and its key derivations are within bounds; else the
    reason to refuse it, naming the cap and ``setting`` when a count is too high.

    Never raises. A file asn1crypto cannot parse as PKCS#12 at all returns None (it is then not a
    PFX; the caller's other readers judge it).
    """
    from asn1crypto import pkcs12

    try:
        pfx = pkcs12.Pfx.load(data, strict=False)
        auth_safe = pfx["auth_safe"]
        auth_safe["content_type"].native  # noqa: B018 - parse now: a non-PKCS#12 file fails here
    except Exception:  # noqa: BLE001 - asn1crypto raises many types for non-DER input
        return None
    counter = _Counter(max_iterations, setting)
    try:
        mac = pfx["mac_data"]
        if mac.native is not None:
            counter.derivation("its integrity MAC", mac["iterations"].native)
        if auth_safe["content_type"].native != "data":
            return None  # public-key integrity (signedData): no password derivation to bound here
        for index, part in enumerate(pfx.authenticated_safe):
            kind = part["content_type"].native
            if kind == "encrypted_data":
                algorithm = part["content"]["encrypted_content_info"]["content_encryption_algorithm"]
                counter.derivation(f"its encrypted part {index + 1}", _iterations(algorithm))
            elif kind == "data":
                _bags(pkcs12.SafeContents.load(part["content"].native), counter, 0)
    except _Refused as refused:
        return str(refused)
    except Exception as exc:  # noqa: BLE001 - a damaged structure is a reason, not a crash
        return f"its PKCS#12 structure is damaged ({type(exc).__name__}: {exc})"
    return None


class _Counter:
    def __init__(self, max_iterations: int, setting: str) -> None:
        self.max_iterations, self.setting = max_iterations, setting
        self.derivations = 0
        self.bags = 0

    def derivation(self, what: str, iterations: Any) -> None:
        self.derivations += 1
        if self.derivations > MAX_DERIVATIONS:
            raise _Refused(f"it asks for more than {MAX_DERIVATIONS} password-derived keys (a real PFX needs 3)")
        if iterations is None:
            return
        if not isinstance(iterations, int) or iterations > self.max_iterations:
            shown = f"{iterations:,}" if isinstance(iterations, int) else repr(iterations)
            raise _Refused(f"the iteration count of {what} is {shown}, over the cap of {self.max_iterations:,} "
                           f"(raise it with {self.setting} only for a file you trust)")


def _iterations(algorithm: Any) -> int | None:
    try:
        return int(algorithm.kdf_iterations)
    except (ValueError, KeyError, TypeError):
        return None  # not a password-based algorithm asn1crypto knows: nothing derived here


def _bags(contents: Any, counter: _Counter, depth: int) -> None:
    from asn1crypto import pkcs12

    if depth > MAX_NESTING:
        raise _Refused(f"its contents are nested more than {MAX_NESTING} levels deep")
    for bag in contents:
        counter.bags += 1
        if counter.bags > _MAX_BAGS:
            raise _Refused(f"it holds more than {_MAX_BAGS} bags")
        kind = bag["bag_id"].native
        if kind == "pkcs8_shrouded_key_bag":
            counter.derivation("its private key", _iterations(bag["bag_value"]["encryption_algorithm"]))
        elif kind == "safe_contents":
            _bags(bag["bag_value"] if isinstance(bag["bag_value"], pkcs12.SafeContents)
                  else pkcs12.SafeContents.load(bag["bag_value"].dump()), counter, depth + 1)
