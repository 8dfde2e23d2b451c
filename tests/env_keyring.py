"""A keyring backend for tests: the password of any (service, user) is the value of the
environment variable TEST_KEYRING_PASSWORD. Selected in a child process with keyring's own
setting, ``PYTHON_KEYRING_BACKEND=env_keyring.EnvironmentKeyring`` (and this folder on
PYTHONPATH), so the tool reads it through the real keyring package."""

from __future__ import annotations

import os

from keyring.backend import KeyringBackend


class EnvironmentKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]  # keyring declares it as a classproperty

    def get_password(self, service: str, username: str) -> str | None:
        return os.environ.get("TEST_KEYRING_PASSWORD")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise NotImplementedError("read-only test keyring")

    def delete_password(self, service: str, username: str) -> None:
        raise NotImplementedError("read-only test keyring")
