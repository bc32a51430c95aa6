"""GET /runs/{id}/artifacts-preview/{path}: the head of a Parquet artifact as JSON rows, bounded in rows,
columns and cell size; anything that is not a readable Parquet file, or a bad path, is refused."""

from __future__ import annotations

import http.client
import io
import math
import os
from urllib.parse import urlsplit

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from api_helpers import error, make_run, ok

from ridgeline.services.artifact_preview import MAX_CELL_CHARS, MAX_COLUMNS, MAX_ROW_GROUP_BYTES, MAX_ROWS


def parquet_bytes(table: pa.Table, **options: object) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink, **options)
    return sink.getvalue()


def put(client: httpx.Client, run_id: str, path: str, data: bytes) -> None:
    ok(client.put(f"/runs/{run_id}/artifacts/{path}", content=data), 201)


def preview(client: httpx.Client, run_id: str, path: str, **query: object) -> httpx.Response:
    return client.get(f"/runs/{run_id}/artifacts-preview/{path}", params=query)


def test_the_first_rows_come_back_as_json(client: httpx.Client) -> None:
    run_id = make_run(client, "preview")["id"]
    table = pa.table(
        {
            "id": list(range(1000)),
            "score": [i / 3 for i in range(999)] + [math.nan],
            "label": ["spam" if i % 2 else "ham" for i in range(1000)],
            "blob": [b"\x00\x01"] * 1000,
        }
    )
    put(client, run_id, "tables/predictions.parquet", parquet_bytes(table, row_group_size=100))

    head = ok(preview(client, run_id, "tables/predictions.parquet"))
    assert [column["name"] for column in head["columns"]] == ["id", "score", "label", "blob"]
    assert head["columns"][0]["type"] == "int64"
    assert len(head["rows"]) == 50 and head["total_rows"] == 1000 and head["truncated"] is True
    assert head["rows"][1] == [1, pytest.approx(1 / 3), "spam", "0x0001"]

    few = ok(preview(client, run_id, "tables/predictions.parquet", rows=3))
    assert [row[0] for row in few["rows"]] == [0, 1, 2]
    # The first rows span row groups when one holds fewer (only those groups are read).
    assert len(ok(preview(client, run_id, "tables/predictions.parquet", rows=MAX_ROWS))["rows"]) == MAX_ROWS


def test_wide_tables_and_long_cells_are_cut(client: httpx.Client) -> None:
    run_id = make_run(client, "preview")["id"]
    wide = pa.table({f"c{i}": [i] for i in range(MAX_COLUMNS + 20)} | {"text": ["x" * 5000]})
    put(client, run_id, "wide.parquet", parquet_bytes(wide))
    head = ok(preview(client, run_id, "wide.parquet"))
    assert len(head["columns"]) == MAX_COLUMNS and head["total_columns"] == MAX_COLUMNS + 21
    assert head["truncated"] is True and head["total_rows"] == 1

    long_text = pa.table({"text": ["y" * 5000], "nested": [[1, 2, 3]]})
    put(client, run_id, "long.parquet", parquet_bytes(long_text))
    text, nested = ok(preview(client, run_id, "long.parquet"))["rows"][0]
    assert text == "y" * MAX_CELL_CHARS + "…" and nested == "[1, 2, 3]"


def test_an_empty_table_has_columns_and_no_rows(client: httpx.Client) -> None:
    run_id = make_run(client, "preview")["id"]
    put(client, run_id, "empty.parquet", parquet_bytes(pa.table({"a": pa.array([], pa.int32())})))
    head = ok(preview(client, run_id, "empty.parquet"))
    assert head["columns"] == [{"name": "a", "type": "int32"}] and head["rows"] == [] and head["total_rows"] == 0


def test_a_row_group_over_the_read_limit_is_refused(client: httpx.Client) -> None:
    run_id = make_run(client, "preview")["id"]
    # Random bytes do not compress: the one row group holds more than a preview may read.
    cell = os.urandom(MAX_ROW_GROUP_BYTES + 1_000_000)
    put(client, run_id, "big.parquet", parquet_bytes(pa.table({"b": [cell]}), compression="none"))
    message = error(preview(client, run_id, "big.parquet"), 413, "PAYLOAD_TOO_LARGE", "path")["message"]
    assert "download the file instead" in message


def test_what_cannot_be_previewed_is_refused(client: httpx.Client) -> None:
    run_id = make_run(client, "preview")["id"]
    put(client, run_id, "notes.txt", b"hello")
    put(client, run_id, "broken.parquet", b"this is not parquet at all")
    put(client, run_id, "ok.parquet", parquet_bytes(pa.table({"a": [1]})))

    assert "Parquet" in error(preview(client, run_id, "notes.txt"), 400, "INVALID_ARGUMENT", "path")["message"]
    assert (
        "not a readable Parquet" in error(preview(client, run_id, "broken.parquet"), 400, "INVALID_ARGUMENT")["message"]
    )
    error(preview(client, run_id, "missing.parquet"), 404, "NOT_FOUND")
    error(preview(client, "0" * 32, "ok.parquet"), 404, "NOT_FOUND")
    error(preview(client, run_id, "ok.parquet", rows=0), 400, "INVALID_ARGUMENT")
    error(preview(client, run_id, "ok.parquet", rows=MAX_ROWS + 1), 400, "INVALID_ARGUMENT")


@pytest.mark.parametrize("path", ["a/../ok.parquet", "a/%2e%2e/ok.parquet", "%2e%2e%2fok.parquet", "a//ok.parquet"])
def test_traversal_forms_are_refused(client: httpx.Client, path: str) -> None:
    run_id = make_run(client, "preview")["id"]
    put(client, run_id, "ok.parquet", parquet_bytes(pa.table({"a": [1]})))
    # Sent byte for byte (httpx would normalise ".." away before the server saw it).
    parts = urlsplit(str(client.base_url))
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    try:
        connection.request("GET", f"{parts.path.rstrip('/')}/runs/{run_id}/artifacts-preview/{path}")
        response = connection.getresponse()
        status, body = response.status, response.read()
    finally:
        connection.close()
    assert status in (400, 404), body
    assert b'"rows"' not in body
