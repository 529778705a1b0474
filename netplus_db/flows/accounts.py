"""Accounts: registration and login."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from functools import cache
from typing import Any

import bcrypt

from netplus_db import validation as check
from netplus_db.errors import ValidationError
from netplus_db.flows import ActAs, Flow, Offload, call
from netplus_db.generated.activity import ActivityQueries
from netplus_db.generated.users import FindLoginRow, User, UsersQueries
from netplus_db.rows import Row
from netplus_db.validation import MAX_LOGIN

BCRYPT_ROUNDS = 12  # the spec asks for at least 10
MIN_PASSWORD = 8
USERNAME = re.compile(r"^[A-Za-z0-9_.-]{3,50}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
LOGIN_STATUSES = {"active"}
ROLES = ("student", "instructor", "admin")


@dataclass(slots=True)
class Account(Row):
    """The account that logged in: no password hash ever leaves the login flow."""

    id: uuid.UUID
    role: str
    account_status: str


@dataclass(slots=True)
class LoginResult(Row):
    """Who logged in, or why nobody did (`user` is None then)."""

    user: Account | None
    reason: str  # "ok", "invalid_credentials", "suspended", "deactivated"


def hash_password(password: str, rounds: int = BCRYPT_ROUNDS) -> str:
    """bcrypt hash of a password (validated first)."""
    _check_password(password)
    return _hash(password, rounds)


@cache
def _dummy_hash() -> bytes:
    """Compared against when no account matches, so a miss costs as much as a hit. Made on
    the first login that needs it, not at import: a hash costs as much as a login, and every
    process that imports the library (test workers, CLI commands) would pay it."""
    return bcrypt.hashpw(b"netplus-db timing equaliser", bcrypt.gensalt(BCRYPT_ROUNDS))


def register(
    *,
    email: str,
    username: str,
    password: str,
    role: str = "student",
    first_name: str | None = None,
    last_name: str | None = None,
    display_name: str | None = None,
    rounds: int = BCRYPT_ROUNDS,
) -> Flow[User]:
    """Create an account with its profile, settings and streak rows, and log it (one database
    call: register_account, which makes every account a student). Another role goes through
    register_privileged_account, which only the admin role may run (Forbidden otherwise).
    The password is hashed first, outside any transaction (no pooled connection waits for
    bcrypt); then one transaction writes the account."""
    check.choice("role", role, ROLES)
    check.text("email", email, max_length=255)
    if not EMAIL.match(email.strip()):
        raise ValidationError("email", "is not an email address")
    check.text("username", username, max_length=50)
    if not USERNAME.match(username.strip()):
        raise ValidationError("username", "3-50 letters, digits, '.', '_' or '-'")
    for field, value in (
        ("first_name", first_name),
        ("last_name", last_name),
        ("display_name", display_name),
    ):
        check.optional_text(field, value, max_length=100)
    check.integer("rounds", rounds, minimum=4, maximum=31)
    _check_password(password)
    password_hash: str = yield Offload(_hash, (password, rounds))
    user_id = uuid.uuid4()
    yield ActAs(user_id)
    user: User
    if role == "student":
        user = yield call(
            UsersQueries.register,
            email=email,
            username=username,
            password_hash=password_hash,
            first_name=first_name,
            last_name=last_name,
            display_name=display_name or username,
        )
    else:
        user = yield call(
            UsersQueries.register_privileged,
            email=email,
            username=username,
            password_hash=password_hash,
            role=role,
            first_name=first_name,
            last_name=last_name,
            display_name=display_name or username,
        )
    return user


def login(*, login: str, password: str) -> Flow[LoginResult]:
    """Check a password in constant time; refuse suspended, deactivated and deleted accounts.
    Three steps, so that no pooled connection waits for bcrypt: the look-up in an anonymous
    transaction (the hash is readable only there), the comparison outside any transaction
    (against a dummy hash when nobody matched, so a miss costs as much as a hit), then the
    outcome logged in a second short transaction."""
    check.text("login", login, max_length=MAX_LOGIN)
    check.text("password", password, max_length=MAX_LOGIN)
    found: FindLoginRow | None = yield call(UsersQueries.find_login, login=login)
    stored = found.password_hash if found else None
    matches: bool = yield Offload(_check, (password, stored))
    if found is None or not matches:
        # Nothing typed is kept: a password typed into the login field must not reach the log.
        yield _log(None, "login_failed", "Invalid credentials")
        return LoginResult(None, "invalid_credentials")
    yield ActAs(found.id)
    if found.account_status not in LOGIN_STATUSES:
        yield _log(found.id, "login_refused", f"Account {found.account_status}")
        return LoginResult(None, found.account_status)
    yield _log(found.id, "login", "Logged in")
    return LoginResult(Account(found.id, found.role, found.account_status), "ok")


def _log(user_id: Any, kind: str, text: str, metadata: dict[str, Any] | None = None) -> Any:
    return call(
        ActivityQueries.log_activity,
        user_id=user_id,
        activity_type=kind,
        activity_description=text,
        resource_type="user",
        resource_id=user_id,
        metadata=metadata or {},
        ip_address=None,
        user_agent=None,
    )


def _check_password(password: str) -> None:
    check.text("password", password, max_length=MAX_LOGIN)
    if len(password) < MIN_PASSWORD:
        raise ValidationError("password", f"must be at least {MIN_PASSWORD} characters")
    if len(password.encode()) > 72:
        raise ValidationError("password", "must be at most 72 bytes (bcrypt's limit)")


def _hash(password: str, rounds: int) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds)).decode()


def _check(password: str, stored: str | None) -> bool:
    """Whether the password matches the stored hash; with no account (None), the dummy hash
    is compared against (and made, the first time, here: outside any transaction) and the
    answer is False. A malformed stored hash (non-ASCII too) never matches."""
    against = _dummy_hash() if stored is None else stored.encode()
    try:
        return bcrypt.checkpw(password.encode(), against) and stored is not None
    except ValueError:  # bcrypt's refusal of a malformed stored hash
        return False
