"""Password hashes against the judge: the real `doveadm pw` of Dovecot 2.3.

Every scheme mailadmin writes must verify in Dovecot, and every hash Dovecot makes in a scheme
mailadmin reads must verify in mailadmin (the panel's login and Dovecot's must agree). Passwords
reach doveadm on stdin only (see tests/dovecot_harness.py for doveadm's stdin quirks).
"""

from __future__ import annotations

import base64
import hashlib

import pytest
from argon2 import PasswordHasher, Type
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from mailadmin import passwords
from tests.dovecot_harness import doveadm_pw_hash, doveadm_pw_verify
from tests.support import require_tool

ASCII_PASSWORD = "correct horse battery staple"
UNICODE_PASSWORD = "pässwörd €uro 日本語 🔑 'q' \"dq\" \\ $x {PLAIN}"
WRONG_PASSWORD = "correct horse battery stapler"

# Every scheme mailadmin reads, taken from passwords.READ_SCHEMES itself: a scheme added there
# is judged by doveadm here without anyone remembering to list it.
DOVEADM_READ_SCHEMES = sorted(passwords.READ_SCHEMES)
# Other schemes doveadm makes without a user name: mailadmin may not read them, but then it
# must also refuse them on import, never keep a hash the panel cannot check.
DOVEADM_OTHER_SCHEMES = [
    "PLAIN",
    "CLEAR",
    "CRYPT",
    "DES-CRYPT",
    "MD5",
    "SMD5",
    "LDAP-MD5",
    "PLAIN-MD4",
    "PBKDF2",
    "CRAM-MD5",
    "SCRAM-SHA-1",
    "SCRAM-SHA-256",
]

tools = pytest.mark.tools


# --- what mailadmin writes, judged by doveadm ----------------------------------------------------


@tools
@pytest.mark.parametrize("scheme", passwords.WRITE_SCHEMES)
@pytest.mark.parametrize("password", [ASCII_PASSWORD, UNICODE_PASSWORD], ids=["ascii", "unicode"])
def test_written_hash_verifies_in_doveadm(scheme: str, password: str) -> None:
    stored = passwords.hash_password(password, scheme)
    assert passwords.scheme_of(stored) == scheme
    assert doveadm_pw_verify(stored, password)
    assert passwords.verify_password(password, stored)
    assert not doveadm_pw_verify(stored, password + "x")
    assert not passwords.verify_password(password + "x", stored)


@tools
@pytest.mark.parametrize("scheme", passwords.WRITE_SCHEMES)
def test_wrong_passwords_are_refused_by_both(scheme: str) -> None:
    stored = passwords.hash_password(ASCII_PASSWORD, scheme)
    for wrong in (WRONG_PASSWORD, ASCII_PASSWORD.upper(), "", ASCII_PASSWORD[:-1]):
        assert not doveadm_pw_verify(stored, wrong), wrong
        assert not passwords.verify_password(wrong, stored), wrong


@tools
def test_default_hash_is_argon2id_and_verifies_in_doveadm() -> None:
    stored = passwords.hash_password(UNICODE_PASSWORD)
    assert stored.startswith("{ARGON2ID}$argon2id$")
    assert doveadm_pw_verify(stored, UNICODE_PASSWORD)
    assert not passwords.needs_rehash(stored)


# --- bcrypt reads 72 bytes: mailadmin and Dovecot must cut at the same place ---------------------

# 71 ASCII bytes, then "€" (E2 82 AC) straddles byte 72: the cut falls inside a character.
LONG_PREFIX = "a" * 71
LONG_PASSWORD = LONG_PREFIX + "€" + "z" * 26
# "₤" (E2 82 A4) shares the first byte of "€": equal to LONG_PASSWORD in its first 72 bytes.
SAME_72_BYTES = LONG_PREFIX + "₤" + "different tail"
DIFFERENT_BEFORE_72 = "b" + LONG_PASSWORD[1:]


def test_long_password_fixture_is_what_it_claims() -> None:
    assert len(LONG_PASSWORD.encode()) == 100
    assert SAME_72_BYTES.encode()[:72] == LONG_PASSWORD.encode()[:72]
    assert SAME_72_BYTES != LONG_PASSWORD


@tools
def test_blowfish_100_byte_password_written_by_mailadmin() -> None:
    stored = passwords.hash_password(LONG_PASSWORD, "BLF-CRYPT")
    assert doveadm_pw_verify(stored, LONG_PASSWORD)
    assert passwords.verify_password(LONG_PASSWORD, stored)
    # Both ignore what follows byte 72, and both see a change before it.
    assert doveadm_pw_verify(stored, SAME_72_BYTES) == passwords.verify_password(
        SAME_72_BYTES, stored
    )
    assert passwords.verify_password(SAME_72_BYTES, stored)
    assert not doveadm_pw_verify(stored, DIFFERENT_BEFORE_72)
    assert not passwords.verify_password(DIFFERENT_BEFORE_72, stored)


@tools
def test_blowfish_100_byte_password_written_by_doveadm() -> None:
    stored = doveadm_pw_hash("BLF-CRYPT", LONG_PASSWORD)
    assert passwords.verify_password(LONG_PASSWORD, stored)
    assert passwords.verify_password(SAME_72_BYTES, stored) == doveadm_pw_verify(
        stored, SAME_72_BYTES
    )
    assert not passwords.verify_password(DIFFERENT_BEFORE_72, stored)


# --- what Dovecot writes, read by mailadmin ------------------------------------------------------


def test_read_and_other_schemes_do_not_overlap() -> None:
    # A scheme moved into READ_SCHEMES must leave the "cannot verify" list, not be judged twice
    # with opposite expectations.
    assert not set(DOVEADM_OTHER_SCHEMES) & passwords.READ_SCHEMES
    assert set(passwords.WRITE_SCHEMES) <= passwords.READ_SCHEMES


@tools
@pytest.mark.parametrize("scheme", DOVEADM_READ_SCHEMES)
def test_doveadm_hash_verifies_in_mailadmin(scheme: str) -> None:
    require_tool("doveadm")
    stored = doveadm_pw_hash(scheme, UNICODE_PASSWORD)
    assert passwords.scheme_of(stored) == scheme
    assert passwords.is_known_hash(stored)
    assert passwords.verify_password(UNICODE_PASSWORD, stored)
    assert not passwords.verify_password(WRONG_PASSWORD, stored)
    assert not passwords.verify_password(UNICODE_PASSWORD[:-1], stored)
    assert doveadm_pw_verify(stored, UNICODE_PASSWORD)  # the judge agrees with itself


@tools
@pytest.mark.parametrize("scheme", DOVEADM_OTHER_SCHEMES)
def test_scheme_mailadmin_cannot_verify_is_refused_on_import(scheme: str) -> None:
    stored = doveadm_pw_hash(scheme, ASCII_PASSWORD)
    assert passwords.is_known_hash(stored) == passwords.verify_password(ASCII_PASSWORD, stored)


@tools
@pytest.mark.parametrize(
    ("scheme", "algorithm"),
    [("SHA512", "sha512"), ("SHA256", "sha256"), ("SHA", "sha1"), ("SHA1", "sha1")],
)
@pytest.mark.parametrize("case", [str.lower, str.upper], ids=["lower", "upper"])
def test_unsalted_digest_in_hex_verifies_like_dovecot(scheme, algorithm, case) -> None:
    # Imported data often holds these digests in hex; Dovecot accepts hex at the hex length.
    stored = "{" + scheme + "}" + case(hashlib.new(algorithm, ASCII_PASSWORD.encode()).hexdigest())
    assert doveadm_pw_verify(stored, ASCII_PASSWORD)
    assert passwords.verify_password(ASCII_PASSWORD, stored)
    assert not doveadm_pw_verify(stored, WRONG_PASSWORD)
    assert not passwords.verify_password(WRONG_PASSWORD, stored)


@tools
def test_plain_md5_in_base64_verifies_like_dovecot() -> None:
    digest = hashlib.md5(ASCII_PASSWORD.encode()).digest()  # noqa: S324 - a legacy format
    stored = "{PLAIN-MD5}" + base64.b64encode(digest).decode()
    assert doveadm_pw_verify(stored, ASCII_PASSWORD)
    assert passwords.verify_password(ASCII_PASSWORD, stored)


# --- needs_rehash --------------------------------------------------------------------------------


def test_fresh_default_hash_needs_no_rehash() -> None:
    assert not passwords.needs_rehash(passwords.hash_password(ASCII_PASSWORD))


@pytest.mark.parametrize("scheme", ["BLF-CRYPT", "SHA512-CRYPT"])
def test_other_written_scheme_needs_rehash_to_the_default(scheme: str) -> None:
    assert passwords.needs_rehash(passwords.hash_password(ASCII_PASSWORD, scheme))


@tools
def test_argon2id_with_other_cost_needs_rehash() -> None:
    cheaper = PasswordHasher(
        time_cost=passwords.ARGON2_TIME_COST - 1,
        memory_cost=passwords.ARGON2_MEMORY_KIB,
        parallelism=passwords.ARGON2_PARALLELISM,
        type=Type.ID,
    )
    stored = "{ARGON2ID}" + cheaper.hash(ASCII_PASSWORD)
    assert passwords.verify_password(ASCII_PASSWORD, stored)
    assert doveadm_pw_verify(stored, ASCII_PASSWORD)
    assert passwords.needs_rehash(stored)


@pytest.mark.parametrize("stored", ["", "no scheme at all", "{UNKNOWN}abc", "{PLAIN}secret"])
def test_unreadable_hash_needs_rehash(stored: str) -> None:
    assert passwords.needs_rehash(stored)


@tools
@pytest.mark.parametrize("scheme", [s for s in DOVEADM_READ_SCHEMES if s != "ARGON2ID"])
def test_legacy_doveadm_hash_needs_rehash(scheme: str) -> None:
    assert passwords.needs_rehash(doveadm_pw_hash(scheme, ASCII_PASSWORD))


@tools
def test_doveadm_default_argon2id_needs_no_rehash() -> None:
    # doveadm's default ARGON2ID cost (m=65536, t=3, p=1) is mailadmin's: nothing to redo.
    same = doveadm_pw_hash("ARGON2ID", ASCII_PASSWORD)
    assert "$m=65536,t=3,p=1$" in same
    assert not passwords.needs_rehash(same)


@tools
def test_rehash_follows_the_configured_scheme(settings) -> None:
    settings.MAILADMIN_PASSWORD_SCHEME = "BLF-CRYPT"
    fresh = passwords.hash_password(ASCII_PASSWORD)
    assert fresh.startswith("{BLF-CRYPT}")
    assert not passwords.needs_rehash(fresh)
    assert passwords.needs_rehash(passwords.hash_password(ASCII_PASSWORD, "ARGON2ID"))
    # doveadm's default bcrypt cost is 5, mailadmin's 12.
    assert passwords.needs_rehash(doveadm_pw_hash("BLF-CRYPT", ASCII_PASSWORD))
    assert not passwords.needs_rehash(
        doveadm_pw_hash("BLF-CRYPT", ASCII_PASSWORD, rounds=passwords.BCRYPT_ROUNDS)
    )

    settings.MAILADMIN_PASSWORD_SCHEME = "SHA512-CRYPT"
    assert not passwords.needs_rehash(passwords.hash_password(ASCII_PASSWORD))
    # doveadm writes the implicit 5000 rounds.
    assert passwords.needs_rehash(doveadm_pw_hash("SHA512-CRYPT", ASCII_PASSWORD))


# --- any text round-trips, in mailadmin and in Dovecot -------------------------------------------

# doveadm reads a password up to CR or LF, and C strings end at NUL; services refuse all three.
_PASSWORD_TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="\x00\r\n"), max_size=40
)


@tools
@hypothesis_settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(password=_PASSWORD_TEXT, scheme=st.sampled_from(passwords.WRITE_SCHEMES))
def test_any_password_round_trips(password: str, scheme: str) -> None:
    stored = passwords.hash_password(password, scheme)
    assert passwords.verify_password(password, stored)
    assert doveadm_pw_verify(stored, password)
    assert not passwords.verify_password(password + "\u00e9", stored)
