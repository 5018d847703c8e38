"""Password hashes in Dovecot's `{SCHEME}hash` form, made and checked in Python.

Written schemes: ARGON2ID (default), BLF-CRYPT, SHA512-CRYPT. Read schemes add the legacy
ones imported data brings (MD5-CRYPT, SHA256-CRYPT, SSHA512, SSHA256, SSHA, PLAIN-MD5...);
`needs_rehash` tells the login code to replace them with the default after a good login.
Every written scheme is verified by the real `doveadm pw -t` in the test suite. Nothing here
runs a program or puts a password in argv.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import string

import bcrypt
from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from django.conf import settings
from passlib.hash import md5_crypt, sha256_crypt, sha512_crypt

# Argon2id with RFC 9106's second recommended profile, but one lane: Dovecot verifies through
# libsodium, and a single lane keeps the cost predictable for the auth worker processes.
ARGON2_TIME_COST = 3
ARGON2_MEMORY_KIB = 65536
ARGON2_PARALLELISM = 1
BCRYPT_ROUNDS = 12
SHA512_CRYPT_ROUNDS = 656000

_argon2 = PasswordHasher(
    time_cost=ARGON2_TIME_COST,
    memory_cost=ARGON2_MEMORY_KIB,
    parallelism=ARGON2_PARALLELISM,
    hash_len=32,
    salt_len=16,
    type=Type.ID,
)

WRITE_SCHEMES = ("ARGON2ID", "BLF-CRYPT", "SHA512-CRYPT")
_SCHEME = re.compile(r"^\{([A-Z0-9.-]+)\}(.*)$", re.DOTALL)


class UnknownScheme(ValueError):
    pass


def default_scheme() -> str:
    scheme = str(settings.MAILADMIN_PASSWORD_SCHEME).upper()
    if scheme not in WRITE_SCHEMES:
        raise UnknownScheme(
            f"MAILADMIN_PASSWORD_SCHEME={scheme!r}: choose one of {', '.join(WRITE_SCHEMES)}"
        )
    return scheme


def hash_password(password: str, scheme: str | None = None) -> str:
    """Hash `password` in `scheme` (the configured default when None) as `{SCHEME}hash`."""
    scheme = (scheme or default_scheme()).upper()
    secret = password.encode("utf-8")
    if scheme == "ARGON2ID":
        return "{ARGON2ID}" + _argon2.hash(secret)
    if scheme == "BLF-CRYPT":
        digest = bcrypt.hashpw(_bcrypt_input(secret), bcrypt.gensalt(rounds=BCRYPT_ROUNDS))
        return "{BLF-CRYPT}" + digest.decode("ascii")
    if scheme == "SHA512-CRYPT":
        return "{SHA512-CRYPT}" + sha512_crypt.using(rounds=SHA512_CRYPT_ROUNDS).hash(password)
    raise UnknownScheme(f"mailadmin does not write {scheme} hashes")


def _bcrypt_input(secret: bytes) -> bytes:
    # Blowfish reads 72 bytes at most; Dovecot's crypt_blowfish ignores the rest, and so must we
    # (the bcrypt package refuses longer input rather than cutting it).
    return secret[:72]


def scheme_of(stored: str) -> str:
    match = _SCHEME.match(stored or "")
    if not match:
        raise UnknownScheme("the stored password has no {SCHEME} prefix")
    return match.group(1)


def _salted_digest(algorithm: str, digest_size: int, password: bytes, encoded: str) -> bool:
    raw = _b64decode(encoded)
    if raw is None or len(raw) <= digest_size:
        return False
    digest, salt = raw[:digest_size], raw[digest_size:]
    return hmac.compare_digest(hashlib.new(algorithm, password + salt).digest(), digest)


def _plain_digest(algorithm: str, password: bytes, encoded: str, *, hex_ok: bool) -> bool:
    expected = hashlib.new(algorithm, password).digest()
    raw = _b64decode(encoded)
    if raw is not None and hmac.compare_digest(raw, expected):
        return True
    return hex_ok and hmac.compare_digest(encoded.lower().encode(), expected.hex().encode())


def _b64decode(encoded: str) -> bytes | None:
    try:
        return base64.b64decode(encoded, validate=True)
    except ValueError:
        return None


def verify_password(password: str, stored: str) -> bool:
    """True when `password` matches the `{SCHEME}hash` in `stored`; False for unknown schemes."""
    match = _SCHEME.match(stored or "")
    if not match:
        return False
    scheme, encoded = match.group(1), match.group(2)
    secret = password.encode("utf-8")
    try:
        if scheme in {"ARGON2ID", "ARGON2I"}:
            return _argon2.verify(encoded, secret)
        if scheme == "BLF-CRYPT":
            return bcrypt.checkpw(_bcrypt_input(secret), encoded.encode("ascii"))
        if scheme == "SHA512-CRYPT":
            return bool(sha512_crypt.verify(password, encoded))
        if scheme == "SHA256-CRYPT":
            return bool(sha256_crypt.verify(password, encoded))
        if scheme == "MD5-CRYPT":
            return bool(md5_crypt.verify(password, encoded))
        if scheme == "SSHA512":
            return _salted_digest("sha512", 64, secret, encoded)
        if scheme == "SSHA256":
            return _salted_digest("sha256", 32, secret, encoded)
        if scheme == "SSHA":
            return _salted_digest("sha1", 20, secret, encoded)
        # Dovecot takes these unsalted digests in base64 or, at the hex length, in hex.
        if scheme == "SHA512":
            return _plain_digest("sha512", secret, encoded, hex_ok=True)
        if scheme == "SHA256":
            return _plain_digest("sha256", secret, encoded, hex_ok=True)
        if scheme in {"SHA", "SHA1"}:
            return _plain_digest("sha1", secret, encoded, hex_ok=True)
        if scheme == "PLAIN-MD5":
            return _plain_digest("md5", secret, encoded, hex_ok=True)
    except (VerifyMismatchError, VerificationError, InvalidHashError, ValueError):
        return False
    return False


def needs_rehash(stored: str) -> bool:
    """True when `stored` is not in the default scheme with today's cost parameters."""
    try:
        scheme = scheme_of(stored)
    except UnknownScheme:
        return True
    wanted = default_scheme()
    if scheme != wanted:
        return True
    encoded = stored[len(scheme) + 2 :]
    if scheme == "ARGON2ID":
        return _argon2.check_needs_rehash(encoded)
    if scheme == "BLF-CRYPT":
        return encoded[4:7] != f"{BCRYPT_ROUNDS:02d}$"
    if scheme == "SHA512-CRYPT":
        return bool(sha512_crypt.using(rounds=SHA512_CRYPT_ROUNDS).needs_update(encoded))
    return False


def is_known_hash(stored: str) -> bool:
    """True for a `{SCHEME}` mailadmin can verify (imports keep such hashes as they are)."""
    try:
        scheme = scheme_of(stored)
    except UnknownScheme:
        return False
    return scheme in READ_SCHEMES


READ_SCHEMES = frozenset(
    {
        "ARGON2ID",
        "ARGON2I",
        "BLF-CRYPT",
        "SHA512-CRYPT",
        "SHA256-CRYPT",
        "MD5-CRYPT",
        "SSHA512",
        "SSHA256",
        "SSHA",
        "SHA512",
        "SHA256",
        "SHA",
        "SHA1",
        "PLAIN-MD5",
    }
)

_ALPHABET = string.ascii_letters + string.digits
_GENERATED_LENGTH = 20


def generate_password(length: int = _GENERATED_LENGTH) -> str:
    """A random password of letters and digits (about 119 bits at length 20)."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))
