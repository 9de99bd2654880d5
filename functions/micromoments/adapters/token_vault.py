"""KMS envelope encryption of refresh tokens (docs/google-access.md, "Per-person OAuth").

`seal` asks KMS for a fresh AES-256 data key (``GenerateDataKey``), encrypts the token with
it (AES-GCM, the person's address as associated data), keeps only the KMS-encrypted copy of
the data key next to the ciphertext and drops the plaintext key. `open` asks KMS to decrypt
the data key (``Decrypt``) and opens the token. Both pass the encryption context
``{"purpose": "google-refresh-token", "person": <address>}``, so a sealed token copied to
another person does not open. The site function may only seal (kms:GenerateDataKey); only
the scan and pair functions may open (kms:Decrypt, template.yaml).
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from micromoments.domain.grants import SealedGrant

PURPOSE = "google-refresh-token"
_NONCE_BYTES = 12


class VaultError(Exception):
    """A sealed token cannot be opened (or sealed); the message never holds the token."""


def _context(email: str) -> dict[str, str]:
    return {"purpose": PURPOSE, "person": email.strip().lower()}


class TokenVault:
    """Seals and opens refresh tokens with the KMS key ``key_id``."""

    def __init__(self, key_id: str, client: Any = None) -> None:
        if client is None:
            import boto3

            client = boto3.client("kms")
        self._kms = client
        self.key_id = key_id

    def seal(
        self, email: str, refresh_token: str, scopes: tuple[str, ...], now: datetime
    ) -> SealedGrant:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            answer = self._kms.generate_data_key(
                KeyId=self.key_id, KeySpec="AES_256", EncryptionContext=_context(email)
            )
        except (BotoCoreError, ClientError) as exc:
            raise VaultError(f"KMS GenerateDataKey failed: {type(exc).__name__}") from None
        nonce = os.urandom(_NONCE_BYTES)
        sealed = AESGCM(answer["Plaintext"]).encrypt(
            nonce, refresh_token.encode(), email.strip().lower().encode()
        )
        del answer["Plaintext"]
        return SealedGrant(
            email=email.strip().lower(),
            key_id=str(answer.get("KeyId") or self.key_id),
            encrypted_key=bytes(answer["CiphertextBlob"]),
            ciphertext=nonce + sealed,
            scopes=tuple(scopes),
            connected_at=now,
        )

    def open(self, grant: SealedGrant) -> str:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            answer = self._kms.decrypt(
                CiphertextBlob=grant.encrypted_key,
                KeyId=grant.key_id,
                EncryptionContext=_context(grant.email),
            )
        except (BotoCoreError, ClientError) as exc:
            raise VaultError(
                f"KMS Decrypt of {grant.email}'s grant failed: {type(exc).__name__}"
            ) from None
        nonce, sealed = grant.ciphertext[:_NONCE_BYTES], grant.ciphertext[_NONCE_BYTES:]
        try:
            return AESGCM(answer["Plaintext"]).decrypt(nonce, sealed, grant.email.encode()).decode()
        except InvalidTag:
            raise VaultError(f"{grant.email}'s sealed grant does not open") from None
