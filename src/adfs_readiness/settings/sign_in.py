"""``[sign_in_test]``: the dedicated test account of ``endpoints.sign-in-test`` (docs/sign-in-test.md)."""

from __future__ import annotations

from dataclasses import dataclass

from adfs_readiness.settings._schema import setting
from adfs_readiness.settings.values import Choice, EnvName, Pattern, Text

__all__ = ["SignInTestSettings"]


@dataclass(frozen=True)
class SignInTestSettings:
    """The ``[sign_in_test]`` table (off unless ``upn`` is set). The password is never read from
    the file: it comes from the environment variable ``password_env``, a prompt, or the OS keyring
    (service ``keyring_service``, user ``upn``).

    Attributes:
        upn: the test account's userPrincipalName (a synchronised user without MFA for WS-Trust,
            in a federated domain); also ``--sign-in-upn``.
        password_source: "env", "prompt" or "keyring".
        password_env: the environment variable holding the password (password_source "env").
        keyring_service: the keyring service name (password_source "keyring").
        immutable_id: the ImmutableID Entra ID holds for the account (base64 of its source anchor);
            when set, the token's ImmutableID claim must equal it.
    """

    refused = {"password": "no password in the file: set password_env (an environment variable), "
                           "or password_source = \"prompt\" or \"keyring\""}

    upn: str | None = setting(None, Pattern(r"[^@\s]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+",
                                            "a user principal name such as sso-test@contoso.com"))
    password_source: str = setting("env", Choice(("env", "prompt", "keyring")))
    password_env: str = setting("ADFS_READINESS_SIGNIN_PASSWORD", EnvName())
    keyring_service: str = setting("adfs-readiness", Text())
    immutable_id: str | None = setting(None, Text("the account's ImmutableID (base64)"))

    @property
    def configured(self) -> bool:
        """True when a test account is configured (the sign-in test runs)."""
        return bool(self.upn)
