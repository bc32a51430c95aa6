"""Users, API tokens, web sessions and invitations in the metadata store. Secrets arrive here already hashed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Row, func, select, update
from sqlalchemy.exc import IntegrityError

from ridgeline.domain.accounts import ApiToken, Invitation, User
from ridgeline.domain.errors import AlreadyExists, NotFound
from ridgeline.domain.ids import new_id, now_ms
from ridgeline.store.database import Database
from ridgeline.store.schema import api_tokens, invitations, users, web_sessions


def _user(row: Row[Any]) -> User:
    return User(
        id=row.id,
        name=row.name,
        display_name=row.display_name,
        email=row.email,
        kind=row.kind,
        system_role=row.system_role,
        default_workspace_id=row.default_workspace_id,
        disabled_at=row.disabled_at,
        created_at=row.created_at,
        created_by=row.created_by,
        last_login_at=row.last_login_at,
    )


def _token(row: Row[Any]) -> ApiToken:
    return ApiToken(
        id=row.id,
        user_id=row.user_id,
        user_name=row.user_name,
        name=row.name,
        prefix=row.prefix,
        scope=row.scope,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        last_used_at=row.last_used_at,
    )


def _invitation(row: Row[Any]) -> Invitation:
    return Invitation(
        id=row.id,
        workspace_id=row.workspace_id,
        role=row.role,
        system_role=row.system_role,
        note=row.note,
        created_by=row.created_by,
        created_at=row.created_at,
        expires_at=row.expires_at,
        used_at=row.used_at,
        used_by=row.used_by,
    )


class AccountStore:
    def __init__(self, database: Database) -> None:
        self.db = database

    # users

    def create_user(self, values: dict[str, Any]) -> User:
        row = {"id": new_id(), "created_at": now_ms(), "disabled_at": None, "last_login_at": None, **values}
        try:
            with self.db.write() as conn:
                conn.execute(users.insert().values(**row))
        except IntegrityError as exc:
            raise AlreadyExists(f"a user named {values['name']!r} already exists", field="name") from exc
        return self.get_user(values["name"])

    def count_users(self) -> int:
        with self.db.read() as conn:
            return int(conn.execute(select(func.count()).select_from(users)).scalar_one())

    def get_user(self, name: str) -> User:
        found = self._users(users.c.name == name)
        if not found:
            raise NotFound(f"user {name!r} does not exist", field="name")
        return found[0]

    def find_user(self, name: str) -> tuple[User, str | None] | None:
        """The user and their password hash (None for service accounts), or None."""
        with self.db.read() as conn:
            row = conn.execute(select(users).where(users.c.name == name)).first()
        return None if row is None else (_user(row), row.password_hash)

    def user_by_id(self, user_id: str) -> User | None:
        found = self._users(users.c.id == user_id)
        return found[0] if found else None

    def list_users(self) -> list[User]:
        return self._users()

    def _users(self, *where: ColumnElement[bool]) -> list[User]:
        with self.db.read() as conn:
            rows = conn.execute(select(users).where(*where).order_by(users.c.name)).all()
        return [_user(row) for row in rows]

    def update_user(self, user_id: str, **values: Any) -> None:
        with self.db.write() as conn:
            conn.execute(update(users).where(users.c.id == user_id).values(**values))

    # API tokens

    def create_token(self, values: dict[str, Any]) -> ApiToken:
        row = {"id": new_id(), "created_at": now_ms(), "revoked_at": None, "last_used_at": None, **values}
        with self.db.write() as conn:
            conn.execute(api_tokens.insert().values(**row))
        return self.get_token(row["id"])

    def _tokens(self, *where: ColumnElement[bool]) -> list[ApiToken]:
        query = (
            select(api_tokens, users.c.name.label("user_name"))
            .join(users, users.c.id == api_tokens.c.user_id)
            .where(*where)
            .order_by(api_tokens.c.created_at, api_tokens.c.id)
        )
        with self.db.read() as conn:
            return [_token(row) for row in conn.execute(query).all()]

    def get_token(self, token_id: str) -> ApiToken:
        found = self._tokens(api_tokens.c.id == token_id)
        if not found:
            raise NotFound(f"token {token_id!r} does not exist", field="token_id")
        return found[0]

    def token_by_hash(self, token_hash: str) -> ApiToken | None:
        found = self._tokens(api_tokens.c.token_hash == token_hash)
        return found[0] if found else None

    def list_tokens(self, user_id: str | None = None) -> list[ApiToken]:
        return self._tokens(*([] if user_id is None else [api_tokens.c.user_id == user_id]))

    def update_token(self, token_id: str, **values: Any) -> None:
        with self.db.write() as conn:
            conn.execute(update(api_tokens).where(api_tokens.c.id == token_id).values(**values))

    # web sessions

    def create_session(self, id_hash: str, user_id: str, csrf_token: str, remote_addr: str) -> None:
        now = now_ms()
        with self.db.write() as conn:
            conn.execute(
                web_sessions.insert().values(
                    id_hash=id_hash,
                    user_id=user_id,
                    csrf_token=csrf_token,
                    created_at=now,
                    last_seen_at=now,
                    remote_addr=remote_addr[:64],
                )
            )

    def get_session(self, id_hash: str) -> Row[Any] | None:
        with self.db.read() as conn:
            return conn.execute(select(web_sessions).where(web_sessions.c.id_hash == id_hash)).first()

    def touch_session(self, id_hash: str, at: int) -> None:
        with self.db.write() as conn:
            conn.execute(update(web_sessions).where(web_sessions.c.id_hash == id_hash).values(last_seen_at=at))

    def delete_idle_sessions(self, seen_before: int) -> None:
        with self.db.write() as conn:
            conn.execute(web_sessions.delete().where(web_sessions.c.last_seen_at < seen_before))

    def delete_sessions(self, *, id_hash: str | None = None, user_id: str | None = None) -> None:
        where = web_sessions.c.id_hash == id_hash if id_hash is not None else web_sessions.c.user_id == user_id
        with self.db.write() as conn:
            conn.execute(web_sessions.delete().where(where))

    # invitations

    def create_invitation(self, values: dict[str, Any]) -> Invitation:
        row = {"id": new_id(), "created_at": now_ms(), "used_at": None, "used_by": None, **values}
        with self.db.write() as conn:
            conn.execute(invitations.insert().values(**row))
        return self._invitations(invitations.c.id == row["id"])[0]

    def _invitations(self, *where: ColumnElement[bool]) -> list[Invitation]:
        with self.db.read() as conn:
            rows = conn.execute(select(invitations).where(*where).order_by(invitations.c.created_at)).all()
        return [_invitation(row) for row in rows]

    def list_invitations(self) -> list[Invitation]:
        return self._invitations()

    def invitation_by_hash(self, token_hash: str) -> Invitation | None:
        found = self._invitations(invitations.c.token_hash == token_hash)
        return found[0] if found else None

    def use_invitation(self, invitation_id: str, user_name: str) -> bool:
        """Mark the invitation used; False when someone used it first (it works once)."""
        with self.db.write() as conn:
            result = conn.execute(
                update(invitations)
                .where(invitations.c.id == invitation_id, invitations.c.used_at.is_(None))
                .values(used_at=now_ms(), used_by=user_name)
            )
        return result.rowcount == 1

    def delete_invitation(self, invitation_id: str) -> None:
        with self.db.write() as conn:
            result = conn.execute(invitations.delete().where(invitations.c.id == invitation_id))
        if result.rowcount == 0:
            raise NotFound(f"invitation {invitation_id!r} does not exist", field="invitation_id")
