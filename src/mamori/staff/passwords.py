"""Password hashing and the password policy (no database here).

- argon2id with m = 19456 KiB (19 MiB), t = 2, p = 1: the OWASP / ASVS 5 App. C minimum (ASVS5 11.4.2,
  CS/Password_Storage). Measured ≈ 22 ms per verify on the 2-core reference machine, so sign-in stays cheap while
  an offline guess costs 19 MiB of memory each; p = 1 because the machine has 2 cores shared by every request.
- At most ``MAX_CONCURRENT_HASHES`` hashes run at once (a semaphore): many parallel sign-ins would otherwise be a
  memory denial of service (19 MiB each).
- Policy (ASVS5 6.2.1–6.2.9, NIST SP 800-63B §3.1.1.2): at least 8 characters (15 recommended), up to 128,
  any characters (NFKC-normalised, so full-width and half-width forms are the same password), no composition
  rules, no forced rotation, and a refusal of a short built-in list of the most common passwords.
"""

from __future__ import annotations

import threading
import unicodedata
from functools import lru_cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from mamori.kernel.errors import ValidationFailed

ARGON2_MEMORY_KIB = 19456
ARGON2_TIME_COST = 2
ARGON2_PARALLELISM = 1
ARGON2_HASH_LEN = 32
ARGON2_SALT_LEN = 16
MIN_LENGTH = 8
RECOMMENDED_LENGTH = 15
MAX_LENGTH = 128
MAX_CONCURRENT_HASHES = 2

_HASHER = PasswordHasher(
    time_cost=ARGON2_TIME_COST,
    memory_cost=ARGON2_MEMORY_KIB,
    parallelism=ARGON2_PARALLELISM,
    hash_len=ARGON2_HASH_LEN,
    salt_len=ARGON2_SALT_LEN,
    type=Type.ID,
)
_SLOTS = threading.BoundedSemaphore(MAX_CONCURRENT_HASHES)

# A short list written for mamori (not copied from a published list): the passwords people pick first,
# in English and in romanised Japanese. Compared after NFKC + lower-casing.
COMMON_PASSWORDS = frozenset(
    {
        "password",
        "password1",
        "password123",
        "passw0rd",
        "p@ssw0rd",
        "12345678",
        "123456789",
        "1234567890",
        "87654321",
        "11111111",
        "00000000",
        "12341234",
        "qwertyui",
        "qwerty123",
        "qwertyuiop",
        "asdfghjk",
        "asdf1234",
        "zxcvbnm1",
        "1q2w3e4r",
        "1qaz2wsx",
        "abcd1234",
        "abcdefgh",
        "aaaaaaaa",
        "iloveyou",
        "letmein1",
        "welcome1",
        "welcome123",
        "admin123",
        "administrator",
        "changeme",
        "sunshine",
        "football",
        "baseball",
        "princess",
        "dragon12",
        "monkey12",
        "trustno1",
        "superman",
        "starwars",
        "sakura123",
        "doraemon",
        "pokemon1",
        "arigatou",
        "konnichiwa",
        "nihon123",
        "tokyo2020",
        "mamori123",
        "mamorimamori",
    }
)


def normalise(password: str) -> str:
    """NFKC: full-width ＡＢＣ１２３ and half-width ABC123 are the same password."""
    return unicodedata.normalize("NFKC", password)


def check_policy(password: str, *, username: str | None = None) -> None:
    """Raise :class:`WeakPassword` (without echoing the password) when the policy refuses it."""
    pw = normalise(password)
    length = len(pw)
    if length < MIN_LENGTH:
        raise WeakPassword(
            f"パスワードは {MIN_LENGTH} 文字以上にしてください（{RECOMMENDED_LENGTH} 文字以上を推奨）。",
            f"A password needs at least {MIN_LENGTH} characters ({RECOMMENDED_LENGTH}+ recommended).",
            code="password_too_short",
        )
    if length > MAX_LENGTH:
        raise WeakPassword(
            f"パスワードは {MAX_LENGTH} 文字以内にしてください。",
            f"A password may have at most {MAX_LENGTH} characters.",
            code="password_too_long",
        )
    folded = pw.casefold()
    if folded in COMMON_PASSWORDS or (username is not None and folded == username.casefold()):
        raise WeakPassword(
            "よく使われるパスワード、またはユーザー名と同じパスワードは使えません。",
            "This password is too common (or equals the user name); choose another.",
            code="password_common",
        )


def hash_password(password: str) -> str:
    with _SLOTS:
        return _HASHER.hash(normalise(password))


def verify_password(stored_hash: str, password: str) -> bool:
    """True when ``password`` matches; False for a mismatch or an unreadable hash (never raises)."""
    with _SLOTS:
        try:
            return _HASHER.verify(stored_hash, normalise(password))
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False


def needs_rehash(stored_hash: str) -> bool:
    """True when the stored hash was made with other parameters than today's (re-hash at sign-in)."""
    try:
        return _HASHER.check_needs_rehash(stored_hash)
    except (InvalidHashError, ValueError):
        return True


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _HASHER.hash("mamori-dummy-password-for-timing")


def burn_verify(password: str) -> None:
    """Spend the same time as a real verification (unknown user, locked account): no timing oracle."""
    verify_password(_dummy_hash(), password)


class WeakPassword(ValidationFailed):
    code = "weak_password"
