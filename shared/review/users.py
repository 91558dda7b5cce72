"""Reviewer accounts: argon2id password hashes, roles, authentication.

Query helpers take the session as a keyword argument; the caller owns the transaction.
"""

from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.review.models import ROLES, ReviewUser

USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,63}$")
MIN_PASSWORD = 10
MAX_PASSWORD = 1024  # argon2 hashes anything, but a megabyte "password" is a DoS, not a secret
# What each role may do; a role includes everything of the roles before it.
CAN_DECIDE = frozenset({"reviewer", "admin"})
CAN_ADMIN = frozenset({"admin"})

_hasher = PasswordHasher()  # argon2id with the library's (RFC 9106 low-memory) parameters
# Verified when the user does not exist, so a miss costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not-a-real-password-0")


class UserError(ValueError):
    """An invalid username, role or password."""


def hash_password(password: str) -> str:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise UserError(f"a password needs {MIN_PASSWORD} to {MAX_PASSWORD} characters")
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password[: MAX_PASSWORD + 1])
    except (VerificationError, InvalidHashError):
        return False


def check_username(username: str) -> str:
    if not USERNAME.fullmatch(username):
        raise UserError("a username is 2-64 characters: lower-case letters, digits, _ . -")
    return username


def check_role(role: str) -> str:
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}")
    return role


def add_user(*, session: Session, username: str, password: str, role: str) -> ReviewUser:
    check_username(username)
    check_role(role)
    if session.get(ReviewUser, username) is not None:
        raise UserError(f"user {username!r} exists")
    user = ReviewUser(
        username=username, password_hash=hash_password(password), role=role, active=True
    )
    session.add(user)
    session.flush()
    return user


def update_user(
    *,
    session: Session,
    username: str,
    role: str | None = None,
    active: bool | None = None,
    password: str | None = None,
) -> ReviewUser:
    user = session.get(ReviewUser, username)
    if user is None:
        raise UserError(f"no user {username!r}")
    if role is not None:
        user.role = check_role(role)
    if active is not None:
        user.active = active
    if password is not None:
        user.password_hash = hash_password(password)
    session.flush()
    return user


def authenticate(*, session: Session, username: str, password: str) -> ReviewUser | None:
    """The active user with this password, else None (same work whether or not the user
    exists). Rehashes a password whose hash uses outdated parameters."""
    user = session.get(ReviewUser, username) if USERNAME.fullmatch(username) else None
    if user is None:
        verify_password(_DUMMY_HASH, password)
        return None
    if not verify_password(user.password_hash, password) or not user.active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


def list_users(*, session: Session) -> list[ReviewUser]:
    return list(session.scalars(select(ReviewUser).order_by(ReviewUser.username)))
