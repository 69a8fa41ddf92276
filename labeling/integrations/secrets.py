"""Secrets at rest (webhook signing secrets, storage credentials): Fernet, keyed from the setting
INTEGRATIONS_SECRET_KEY, or derived from SECRET_KEY when that is unset."""

import base64
import hashlib
from functools import lru_cache

from django.conf import settings


@lru_cache(maxsize=4)
def _fernet(key_material: str):
    from cryptography.fernet import Fernet  # loaded when a secret is first used

    # SHA-256 of the material gives the 32 bytes Fernet wants, whatever the material's form.
    digest = hashlib.sha256(f"quorum-integrations:{key_material}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def _key_material() -> str:
    return getattr(settings, "INTEGRATIONS_SECRET_KEY", "") or settings.SECRET_KEY


def secret_encrypt(plain: str) -> str:
    if not plain:
        return ""
    return _fernet(_key_material()).encrypt(plain.encode()).decode()


def secret_decrypt(token: str) -> str:
    """The plain secret; raises ValueError if it was encrypted under another key."""
    if not token:
        return ""
    from cryptography.fernet import InvalidToken

    try:
        return _fernet(_key_material()).decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("the secret was encrypted with another key") from exc
