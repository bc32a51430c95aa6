"""Key → text tag tables that hang off one owner row (projects, registered models, versions, logged models)."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import Column, Connection, Table, select

from ridgeline.store.database import Database
from ridgeline.store.sql import upsert


class TagTable:
    """Set, delete and read the tags of ``table``, whose primary key is (``owner_column``, ``key``)."""

    def __init__(self, database: Database, table: Table, owner_column: str) -> None:
        self.db = database
        self.table = table
        self.owner: Column[str] = table.c[owner_column]

    def set(self, conn: Connection, owner_id: str, tags: Mapping[str, str]) -> None:
        if not tags:
            return
        stmt = upsert(self.db, self.table).values(
            [{self.owner.name: owner_id, "key": key, "value": value} for key, value in tags.items()]
        )
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=[self.owner, self.table.c.key], set_={"value": stmt.excluded.value}
            )
        )

    def delete(self, conn: Connection, owner_id: str, key: str) -> bool:
        result = conn.execute(self.table.delete().where(self.owner == owner_id, self.table.c.key == key))
        return result.rowcount > 0

    def read(self, owner_ids: list[str]) -> dict[str, dict[str, str]]:
        """The tags of each owner (every id present, an empty dict for an owner without tags)."""
        found: dict[str, dict[str, str]] = {owner_id: {} for owner_id in owner_ids}
        if not owner_ids:
            return found
        query = select(self.owner, self.table.c.key, self.table.c.value).where(self.owner.in_(owner_ids))
        with self.db.read() as conn:
            for owner_id, key, value in conn.execute(query).all():
                found[owner_id][key] = value
        return found
