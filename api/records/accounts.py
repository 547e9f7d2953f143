"""Users, sites, sessions and API keys. Every change writes its audit entry in the same session."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.auth import secrets
from api.records import audit
from api.records.audit import Actor
from api.records.canonical import utc_now
from api.records.errors import Conflict, Invalid, Locked, NotFound, Unauthenticated
from api.records.models import ApiKey, Role, Site, User, UserSite
from api.records.models import Session as LoginSession

EVENTS_SCOPE = "events"


@dataclass(frozen=True)
class Principal:
    """The signed-in person a request acts for."""

    user_id: int
    username: str
    printed_name: str
    role: Role
    sites: frozenset[str]

    @property
    def actor(self) -> Actor:
        return Actor.user(self.username)


def ensure_site(session: Session, code: str, actor: Actor) -> None:
    code = code.strip()
    if not code:
        raise Invalid("site code must not be empty")
    if session.get(Site, code) is None:
        session.add(Site(code=code, created_at=utc_now()))
        session.flush()
        audit.append(
            session, actor, entity="site", entity_id=code, action="create", site=code, new=code
        )


def site_exists(session: Session, code: str) -> bool:
    return session.get(Site, code) is not None


def known_sites(session: Session) -> set[str]:
    return set(session.execute(select(Site.code)).scalars())


def user_sites(session: Session, user_id: int) -> frozenset[str]:
    rows = session.execute(select(UserSite.site_code).where(UserSite.user_id == user_id))
    return frozenset(rows.scalars())


def create_user(
    session: Session,
    actor: Actor,
    *,
    username: str,
    printed_name: str,
    role: str,
    password: str,
    sites: list[str],
) -> User:
    try:
        role_value = Role(role)
    except ValueError as exc:
        raise Invalid(f"unknown role {role!r}: use one of {[r.value for r in Role]}") from exc
    if not username.strip() or not printed_name.strip():
        raise Invalid("username and printed name must not be empty")
    try:
        secrets.check_password_policy(password)
    except secrets.WeakPasswordError as exc:
        raise Invalid(str(exc)) from exc
    if session.execute(select(User).where(User.username == username)).scalar_one_or_none():
        raise Conflict(f"user {username!r} already exists")
    user = User(
        username=username,
        printed_name=printed_name.strip(),
        role=role_value.value,
        password_hash=secrets.hash_password(password),
        failed_attempts=0,
        locked=False,
        disabled=False,
        created_at=utc_now(),
    )
    session.add(user)
    session.flush()
    for site in sites:
        ensure_site(session, site, actor)
        session.add(UserSite(user_id=user.id, site_code=site.strip()))
    session.flush()
    audit.append(
        session,
        actor,
        entity="user",
        entity_id=str(user.id),
        action="create",
        new={
            "username": username,
            "printed_name": user.printed_name,
            "role": user.role,
            "sites": sorted(s.strip() for s in sites),
        },
    )
    return user


def get_user(session: Session, username: str) -> User:
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        raise NotFound(f"no user {username!r}")
    return user


def list_users(session: Session) -> list[tuple[User, frozenset[str]]]:
    users = session.execute(select(User).order_by(User.username)).scalars().all()
    return [(user, user_sites(session, user.id)) for user in users]


def count_users(session: Session, role: Role | None = None) -> int:
    query = select(func.count()).select_from(User)
    if role is not None:
        query = query.where(User.role == role.value)
    return int(session.execute(query).scalar_one())


def set_disabled(session: Session, actor: Actor, username: str, *, disabled: bool) -> User:
    user = get_user(session, username)
    if user.disabled != disabled:
        old = {"disabled": user.disabled}
        user.disabled = disabled
        # Disabling ends every open session of the user at once.
        if disabled:
            for login in session.execute(
                select(LoginSession).where(
                    LoginSession.user_id == user.id, LoginSession.revoked_at.is_(None)
                )
            ).scalars():
                login.revoked_at = utc_now()
        audit.append(
            session,
            actor,
            entity="user",
            entity_id=str(user.id),
            action="disable" if disabled else "enable",
            old=old,
            new={"disabled": disabled},
        )
    return user


def unlock(session: Session, actor: Actor, username: str) -> User:
    user = get_user(session, username)
    old = {"locked": user.locked, "failed_attempts": user.failed_attempts}
    user.locked = False
    user.failed_attempts = 0
    audit.append(
        session,
        actor,
        entity="user",
        entity_id=str(user.id),
        action="unlock",
        old=old,
        new={"locked": False, "failed_attempts": 0},
    )
    return user


def check_password(
    session: Session, user: User, password: str, *, max_failed: int, purpose: str
) -> bool:
    """Count the attempt: a failure increments the counter and locks at `max_failed`.

    Run it in its own transaction and commit it whatever the outcome, so a failed attempt is
    recorded even though the request that carried it fails.
    """
    if user.disabled:
        raise Unauthenticated("account disabled")
    if user.locked:
        raise Locked("account locked after too many failed password attempts; ask an admin")
    actor = Actor.user(user.username)
    if secrets.verify_password(user.password_hash, password):
        if user.failed_attempts:
            user.failed_attempts = 0
        return True
    user.failed_attempts += 1
    audit.append(
        session,
        actor,
        entity="user",
        entity_id=str(user.id),
        action=f"{purpose}_failed",
        new={"failed_attempts": user.failed_attempts},
    )
    if user.failed_attempts >= max_failed:
        user.locked = True
        audit.append(
            session,
            audit.SYSTEM,
            entity="user",
            entity_id=str(user.id),
            action="lock",
            reason=f"{user.failed_attempts} consecutive failed password attempts",
            old={"locked": False},
            new={"locked": True},
        )
    return False


def principal_for(session: Session, user: User) -> Principal:
    return Principal(
        user_id=user.id,
        username=user.username,
        printed_name=user.printed_name,
        role=Role(user.role),
        sites=user_sites(session, user.id),
    )


def open_session(session: Session, user: User, ttl_s: int) -> tuple[str, LoginSession]:
    token = secrets.new_token()
    now = utc_now()
    login = LoginSession(
        token_sha256=secrets.token_sha256(token),
        user_id=user.id,
        created_at=now,
        expires_at=now + timedelta(seconds=ttl_s),
        revoked_at=None,
    )
    session.add(login)
    audit.append(
        session, Actor.user(user.username), entity="session", entity_id=str(user.id), action="login"
    )
    return token, login


def resolve_session(session: Session, token: str, now: datetime | None = None) -> User:
    login = session.get(LoginSession, secrets.token_sha256(token))
    if login is None or login.revoked_at is not None:
        raise Unauthenticated("not signed in (unknown or ended session)")
    if login.expires_at <= (now or utc_now()):
        raise Unauthenticated("session expired: sign in again")
    user = session.get(User, login.user_id)
    if user is None or user.disabled:
        raise Unauthenticated("account disabled")
    if user.locked:
        raise Locked("account locked after too many failed password attempts; ask an admin")
    return user


def close_session(session: Session, token: str) -> None:
    login = session.get(LoginSession, secrets.token_sha256(token))
    if login is not None and login.revoked_at is None:
        login.revoked_at = utc_now()
        user = session.get(User, login.user_id)
        name = user.username if user else str(login.user_id)
        audit.append(
            session,
            Actor.user(name),
            entity="session",
            entity_id=str(login.user_id),
            action="logout",
        )


def create_api_key(session: Session, actor: Actor, *, name: str, site: str) -> tuple[str, ApiKey]:
    """Returns the key once (only its sha256 is stored) with its record."""
    if not name.strip():
        raise Invalid("API key name must not be empty")
    ensure_site(session, site, actor)
    plaintext = secrets.new_api_key()
    key = ApiKey(
        name=name.strip(),
        prefix=plaintext[:8],
        key_sha256=secrets.token_sha256(plaintext),
        site_code=site.strip(),
        scope=EVENTS_SCOPE,
        created_at=utc_now(),
        revoked_at=None,
    )
    session.add(key)
    session.flush()
    audit.append(
        session,
        actor,
        entity="api_key",
        entity_id=str(key.id),
        action="create",
        site=key.site_code,
        new={"name": key.name, "site": key.site_code, "scope": key.scope, "prefix": key.prefix},
    )
    return plaintext, key


def find_api_key(session: Session, plaintext: str) -> ApiKey | None:
    key = session.execute(
        select(ApiKey).where(ApiKey.key_sha256 == secrets.token_sha256(plaintext))
    ).scalar_one_or_none()
    return None if key is None or key.revoked_at is not None else key
