"""Credentials at rest: Fernet with key rotation (the first key encrypts, every key decrypts)."""

from __future__ import annotations

from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from service.errors import ConfigurationError


class CredentialCipher:
    def __init__(self, keys: Sequence[bytes]) -> None:
        if not keys:
            raise ConfigurationError("at least one secret key is needed to encrypt credentials")
        self._fernet = MultiFernet([Fernet(key) for key in keys])

    def encrypt(self, plaintext: str) -> bytes:
        return self._fernet.encrypt(plaintext.encode())

    def decrypt(self, token: bytes) -> str:
        try:
            return self._fernet.decrypt(token).decode()
        except InvalidToken as exc:
            raise ConfigurationError(
                "stored credentials cannot be decrypted with the configured secret keys"
            ) from exc

    def rotate(self, token: bytes) -> bytes:
        """Re-encrypt under the primary key, for key rotation."""
        return self._fernet.rotate(token)
