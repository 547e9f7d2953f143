"""Password hashing (argon2id) and opaque tokens (session cookies, API keys)."""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_HASHER = PasswordHasher()
MIN_PASSWORD_LENGTH = 12
API_KEY_PREFIX = "dvk_"


class WeakPasswordError(ValueError):
    pass


def check_password_policy(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPasswordError(f"password must have at least {MIN_PASSWORD_LENGTH} characters")


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> str:
    return secrets.token_urlsafe(32)


def new_api_key() -> str:
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def token_sha256(token: str) -> str:
    # Tokens carry 256 random bits: a plain sha256 is enough to store them and allows lookup.
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
