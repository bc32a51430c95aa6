"""Registered models, model versions, aliases and alias history in the metadata store."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from sqlalchemy import Connection, Row, func, select
from sqlalchemy.exc import IntegrityError

from ridgeline.domain.errors import AlreadyExists, NotFound
from ridgeline.domain.ids import new_id, now_ms
from ridgeline.domain.registry import AliasEvent, ModelVersion, RegisteredModel, VersionStatus
from ridgeline.domain.wire import decode_value
from ridgeline.store.database import Database
from ridgeline.store.schema import (
    alias_events,
    model_aliases,
    model_version_tags,
    model_versions,
    registered_model_tags,
    registered_models,
)
from ridgeline.store.scope import scoped
from ridgeline.store.sql import greatest
from ridgeline.store.tags import TagTable


class RegistryStore:
    def __init__(self, database: Database) -> None:
        self.db = database
        self.model_tags = TagTable(database, registered_model_tags, "model_id")
        self.version_tags = TagTable(database, model_version_tags, "version_id")

    # registered models -------------------------------------------------------------------------------------

    def create_model(
        self,
        name: str,
        description: str,
        owner: str,
        tags: Mapping[str, str],
        created_at: int | None = None,
        workspace_id: str | None = None,
    ) -> RegisteredModel:
        workspace_id = scoped(workspace_id)
        now = now_ms()
        model_id = new_id()
        try:
            with self.db.write() as conn:
                conn.execute(
                    registered_models.insert().values(
                        id=model_id,
                        workspace_id=workspace_id,
                        name=name,
                        description=description,
                        owner=owner,
                        last_version=0,
                        created_at=created_at or now,
                        updated_at=created_at or now,
                    )
                )
                self.model_tags.set(conn, model_id, tags)
        except IntegrityError as exc:
            raise AlreadyExists(f"Registered Model (name={name}) already exists.", field="name") from exc
        return self.get_model(name, workspace_id)

    def get_model(self, name: str, workspace_id: str | None = None) -> RegisteredModel:
        workspace_id = scoped(workspace_id)
        found = self._models(registered_models.c.workspace_id == workspace_id, registered_models.c.name == name)
        if not found:
            raise NotFound(f"Registered Model with name={name} not found", field="name")
        return found[0]

    def list_models(self, workspace_id: str | None = None) -> list[RegisteredModel]:
        workspace_id = scoped(workspace_id)
        return self._models(registered_models.c.workspace_id == workspace_id)

    def _models(self, *conditions: Any) -> list[RegisteredModel]:
        latest = (
            select(model_versions.c.model_id, func.max(model_versions.c.version).label("latest"))
            .group_by(model_versions.c.model_id)
            .subquery()
        )
        query = (
            select(registered_models, latest.c.latest)
            .outerjoin(latest, latest.c.model_id == registered_models.c.id)
            .where(*conditions)
            .order_by(registered_models.c.name)
        )
        with self.db.read() as conn:
            rows = conn.execute(query).all()
            ids = [row.id for row in rows]
            aliases: dict[str, dict[str, int]] = {model_id: {} for model_id in ids}
            if ids:
                for model_id, alias, version in conn.execute(
                    select(model_aliases.c.model_id, model_aliases.c.alias, model_aliases.c.version)
                    .where(model_aliases.c.model_id.in_(ids))
                    .order_by(model_aliases.c.alias)
                ):
                    aliases[model_id][alias] = version
        tags = self.model_tags.read(ids)
        return [
            RegisteredModel(
                id=row.id,
                name=row.name,
                description=row.description,
                owner=row.owner,
                created_at=row.created_at,
                updated_at=row.updated_at,
                tags=tags[row.id],
                aliases=aliases[row.id],
                latest_version=row.latest,
            )
            for row in rows
        ]

    def update_model(self, model_id: str, **values: Any) -> None:
        values["updated_at"] = now_ms()
        try:
            with self.db.write() as conn:
                conn.execute(registered_models.update().where(registered_models.c.id == model_id).values(**values))
        except IntegrityError as exc:
            raise AlreadyExists(f"Registered Model (name={values.get('name')}) already exists.", field="name") from exc

    def delete_model(self, model_id: str) -> None:
        with self.db.write() as conn:
            version_ids = select(model_versions.c.id).where(model_versions.c.model_id == model_id)
            # Explicit, so that SQLite connections without foreign-key enforcement leave nothing behind either.
            conn.execute(model_version_tags.delete().where(model_version_tags.c.version_id.in_(version_ids)))
            for table in (model_versions, model_aliases, alias_events, registered_model_tags):
                conn.execute(table.delete().where(table.c.model_id == model_id))
            conn.execute(registered_models.delete().where(registered_models.c.id == model_id))

    def set_model_tags(self, model_id: str, tags: Mapping[str, str]) -> None:
        with self.db.write() as conn:
            self.model_tags.set(conn, model_id, tags)

    def delete_model_tag(self, model_id: str, key: str) -> bool:
        with self.db.write() as conn:
            return self.model_tags.delete(conn, model_id, key)

    # versions ----------------------------------------------------------------------------------------------

    def create_version(self, model: RegisteredModel, values: dict[str, Any], tags: Mapping[str, str]) -> ModelVersion:
        """Insert a version; ``values["version"]`` None takes the next number (an importer passes its own)."""
        row = dict(values, id=new_id(), model_id=model.id)
        chosen = row.get("version")
        owner = registered_models.c.id == model.id
        last = registered_models.c.last_version
        try:
            with self.db.write() as conn:
                # The UPDATE comes first: it locks the model's row, so concurrent registrations queue up here.
                conn.execute(
                    registered_models.update()
                    .where(owner)
                    .values(
                        last_version=last + 1 if chosen is None else greatest(self.db, last, chosen),
                        updated_at=greatest(self.db, registered_models.c.updated_at, row["created_at"]),
                    )
                )
                if chosen is None:
                    row["version"] = conn.execute(select(last).where(owner)).scalar_one()
                conn.execute(model_versions.insert().values(**row))
                self.version_tags.set(conn, row["id"], tags)
        except IntegrityError as exc:
            raise AlreadyExists(
                f"Model Version (name={model.name}, version={row['version']}) already exists.", field="version"
            ) from exc
        return self.get_version(model, row["version"])

    def get_version(self, model: RegisteredModel, version: int) -> ModelVersion:
        found = self.versions(model_ids=[model.id], version=version)
        if not found:
            raise NotFound(f"Model Version (name={model.name}, version={version}) not found", field="version")
        return found[0]

    def versions(
        self,
        *,
        model_ids: list[str] | None = None,
        version: int | None = None,
        run_ids: list[str] | None = None,
        workspace_id: str | None = None,
    ) -> list[ModelVersion]:
        """Versions newest first within a model, models by name."""
        workspace_id = scoped(workspace_id)
        conditions: list[Any] = [registered_models.c.workspace_id == workspace_id]
        if model_ids is not None:
            conditions.append(model_versions.c.model_id.in_(model_ids))
        if version is not None:
            conditions.append(model_versions.c.version == version)
        if run_ids is not None:
            conditions.append(model_versions.c.run_id.in_(run_ids))
        query = (
            select(model_versions, registered_models.c.name.label("model_name"))
            .join(registered_models, registered_models.c.id == model_versions.c.model_id)
            .where(*conditions)
            .order_by(registered_models.c.name, model_versions.c.version.desc())
        )
        with self.db.read() as conn:
            rows = conn.execute(query).all()
            aliases: dict[tuple[str, int], list[str]] = {}
            model_set = sorted({row.model_id for row in rows})
            if model_set:
                for model_id, alias, number in conn.execute(
                    select(model_aliases.c.model_id, model_aliases.c.alias, model_aliases.c.version)
                    .where(model_aliases.c.model_id.in_(model_set))
                    .order_by(model_aliases.c.alias)
                ):
                    aliases.setdefault((model_id, number), []).append(alias)
        tags = self.version_tags.read([row.id for row in rows])
        return [_version(row, tags[row.id], aliases.get((row.model_id, row.version), [])) for row in rows]

    def update_version(self, version_id: str, **values: Any) -> None:
        values["updated_at"] = now_ms()
        with self.db.write() as conn:
            conn.execute(model_versions.update().where(model_versions.c.id == version_id).values(**values))

    def archive_stage(self, model_id: str, stage: str, keep_version_id: str) -> None:
        """MLflow's ``archive_existing_versions``: every other version in ``stage`` moves to Archived."""
        with self.db.write() as conn:
            conn.execute(
                model_versions.update()
                .where(
                    model_versions.c.model_id == model_id,
                    model_versions.c.stage == stage,
                    model_versions.c.id != keep_version_id,
                )
                .values(stage="Archived", updated_at=now_ms())
            )

    def delete_version(self, version: ModelVersion, actor: str) -> None:
        """Delete a version; aliases pointing at it go too, each recorded as a deletion in the alias history."""
        with self.db.write() as conn:
            self._lock_model(conn, version.model_id)
            aliases = conn.execute(
                select(model_aliases.c.alias).where(
                    model_aliases.c.model_id == version.model_id, model_aliases.c.version == version.version
                )
            ).scalars()
            for alias in list(aliases):
                self._record(conn, version.model_id, alias, version.version, None, actor, None)
            conn.execute(
                model_aliases.delete().where(
                    model_aliases.c.model_id == version.model_id, model_aliases.c.version == version.version
                )
            )
            conn.execute(model_version_tags.delete().where(model_version_tags.c.version_id == version.id))
            conn.execute(model_versions.delete().where(model_versions.c.id == version.id))

    def set_version_tags(self, version_id: str, tags: Mapping[str, str]) -> None:
        with self.db.write() as conn:
            self.version_tags.set(conn, version_id, tags)

    def delete_version_tag(self, version_id: str, key: str) -> bool:
        with self.db.write() as conn:
            return self.version_tags.delete(conn, version_id, key)

    # aliases -----------------------------------------------------------------------------------------------

    def set_alias(self, model_id: str, alias: str, version: int, actor: str, at: int | None = None) -> bool:
        """Point ``alias`` at ``version``; returns False (and records nothing) when it already points there."""
        with self.db.write() as conn:
            self._lock_model(conn, model_id)
            exists = conn.execute(
                select(model_versions.c.id).where(
                    model_versions.c.model_id == model_id, model_versions.c.version == version
                )
            ).first()
            if exists is None:
                raise NotFound(
                    f"Model version {version} does not exist (it may just have been deleted)", field="version"
                )
            current = self._alias_target(conn, model_id, alias)
            if current == version:
                return False
            if current is None:
                conn.execute(model_aliases.insert().values(model_id=model_id, alias=alias, version=version))
            else:
                conn.execute(
                    model_aliases.update()
                    .where(model_aliases.c.model_id == model_id, model_aliases.c.alias == alias)
                    .values(version=version)
                )
            self._record(conn, model_id, alias, current, version, actor, at)
        return True

    def delete_alias(self, model_id: str, alias: str, actor: str) -> bool:
        with self.db.write() as conn:
            self._lock_model(conn, model_id)
            current = self._alias_target(conn, model_id, alias)
            if current is None:
                return False
            conn.execute(
                model_aliases.delete().where(model_aliases.c.model_id == model_id, model_aliases.c.alias == alias)
            )
            self._record(conn, model_id, alias, current, None, actor, None)
        return True

    @staticmethod
    def _lock_model(conn: Connection, model_id: str) -> None:
        """Take the model's row lock (PostgreSQL; SQLite writers are serialised anyway) so that alias changes and
        version deletions of one model happen one at a time and the alias history stays exact."""
        found = conn.execute(
            select(registered_models.c.id).where(registered_models.c.id == model_id).with_for_update()
        ).first()
        if found is None:
            raise NotFound("the registered model does not exist (it may just have been deleted)", field="name")

    @staticmethod
    def _alias_target(conn: Connection, model_id: str, alias: str) -> int | None:
        where = (model_aliases.c.model_id == model_id, model_aliases.c.alias == alias)
        target = conn.execute(select(model_aliases.c.version).where(*where)).scalar()
        return None if target is None else int(target)

    @staticmethod
    def _record(
        conn: Connection,
        model_id: str,
        alias: str,
        from_version: int | None,
        to_version: int | None,
        actor: str,
        at: int | None,
    ) -> None:
        conn.execute(registered_models.update().where(registered_models.c.id == model_id).values(updated_at=now_ms()))
        conn.execute(
            alias_events.insert().values(
                model_id=model_id,
                alias=alias,
                from_version=from_version,
                to_version=to_version,
                actor=actor,
                at=at or now_ms(),
            )
        )

    def alias_history(self, model: RegisteredModel, alias: str | None = None) -> list[AliasEvent]:
        """Every move of the model's aliases (or of one alias), oldest first."""
        conditions = [alias_events.c.model_id == model.id]
        if alias is not None:
            conditions.append(alias_events.c.alias == alias)
        with self.db.read() as conn:
            rows = conn.execute(select(alias_events).where(*conditions).order_by(alias_events.c.id)).all()
        return [
            AliasEvent(
                model_name=model.name,
                alias=row.alias,
                from_version=row.from_version,
                to_version=row.to_version,
                actor=row.actor,
                at=row.at,
            )
            for row in rows
        ]

    def protected_runs(self) -> set[str]:
        """Runs whose files back a registered version: retention and gc must never remove them."""
        with self.db.read() as conn:
            rows = conn.execute(
                select(model_versions.c.run_id, model_versions.c.artifact_run_id).where(
                    (model_versions.c.run_id.is_not(None)) | (model_versions.c.artifact_run_id.is_not(None))
                )
            ).all()
        return {run_id for row in rows for run_id in row if run_id is not None}


def _version(row: Row[Any], tags: dict[str, str], aliases: list[str]) -> ModelVersion:
    return ModelVersion(
        id=row.id,
        model_id=row.model_id,
        model_name=row.model_name,
        version=row.version,
        source=row.source,
        run_id=row.run_id,
        artifact_run_id=row.artifact_run_id,
        artifact_path=row.artifact_path,
        logged_model_id=row.logged_model_id,
        status=VersionStatus(row.status),
        status_message=row.status_message,
        stage=row.stage,
        description=row.description,
        flavor=row.flavor,
        signature=None if row.signature is None else orjson.loads(row.signature),
        metrics={key: decode_value(value) for key, value in orjson.loads(row.metrics).items()},
        git_commit=row.git_commit,
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
        tags=tags,
        aliases=aliases,
    )
