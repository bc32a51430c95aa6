from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text

from support.postgres import PostgresCluster, PostgresError, require_postgres


@pytest.fixture(scope="module")
def cluster() -> Iterator[PostgresCluster]:
    require_postgres()
    with PostgresCluster() as pg:
        yield pg


def _select_one(url: str) -> tuple[int, str]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            row = conn.execute(text("select 1, current_database()")).one()
            return int(row[0]), str(row[1])
    finally:
        engine.dispose()


def test_cluster_serves_separate_databases(cluster: PostgresCluster) -> None:
    first = cluster.create_database("alpha")
    second = cluster.create_database()
    assert first == cluster.url("alpha")
    assert first != second
    assert first.startswith("postgresql+psycopg://postgres@127.0.0.1:")
    assert _select_one(first) == (1, "alpha")
    assert _select_one(second)[0] == 1
    assert _select_one(cluster.url()) == (1, cluster.dbname)


def test_duplicate_database_name_is_a_clear_error(cluster: PostgresCluster) -> None:
    cluster.create_database("dup")
    with pytest.raises(PostgresError, match="could not create database 'dup'"):
        cluster.create_database("dup")


def test_stop_removes_everything() -> None:
    require_postgres()
    pg = PostgresCluster(dbname="scratch").start()
    root = pg.root
    assert root is not None and root.is_dir()
    assert _select_one(pg.url()) == (1, "scratch")
    pg.stop()
    pg.stop()  # idempotent, so fixtures can always call it in teardown
    assert not root.exists()
    with pytest.raises(PostgresError, match="not running"):
        pg.url()
