"""POST /api/v1/runs/search over HTTP on the real server: projects, filters, ordering and cursor pagination."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
from api_helpers import T0, error, log, make_project, make_run, ok, search, search_names, series

UNKNOWN_ID = "0123456789abcdef0123456789abcdef"


def _seed(client: httpx.Client) -> dict[str, dict[str, Any]]:
    """Four runs in project "s" (and one in "other") with known params, tags, metrics and attributes.

    ====== ======== ===== ====== ========== ==== ===== ======== ==========
    name   model    lr    layers team       acc  loss  status   start_time
    ====== ======== ===== ====== ========== ==== ===== ======== ==========
    r18    resnet   0.1   18     vision     0.9  0.3   FINISHED T0
    r50    resnet   0.01  50     vision     0.95 0.2   RUNNING  T0+1000
    ViT    vit      0.001 12     research   0.8  0.4   FAILED   T0+2000
    base   linear   auto  -      -          -    0.9   KILLED   T0+3000
    ====== ======== ===== ====== ========== ==== ===== ======== ==========
    """
    rows = [
        ("r18", {"model": "resnet", "lr": "0.1", "layers": "18"}, {"team": "vision"}, {"acc": 0.9, "loss": 0.3}),
        ("r50", {"model": "resnet", "lr": "0.01", "layers": "50"}, {"team": "vision"}, {"acc": 0.95, "loss": 0.2}),
        ("ViT", {"model": "vit", "lr": "0.001", "layers": "12"}, {"team": "research"}, {"acc": 0.8, "loss": 0.4}),
        ("base", {"model": "linear", "lr": "auto"}, {}, {"loss": 0.9}),
    ]
    statuses = ["FINISHED", "RUNNING", "FAILED", "KILLED"]
    runs: dict[str, dict[str, Any]] = {}
    for index, (name, params, tags, metrics) in enumerate(rows):
        run = make_run(client, "s", name=name, start_time=T0 + 1000 * index, params=params, tags=tags)
        log(client, run["id"], metrics=[series(key, [0.0, value]) for key, value in metrics.items()])
        if statuses[index] != "RUNNING":
            ok(client.post(f"/runs/{run['id']}/finish", json={"status": statuses[index]}))
        runs[name] = run
    runs["outsider"] = make_run(client, "other", name="outsider", params={"model": "resnet"})
    log(client, runs["outsider"]["id"], metrics={"acc": [0.99]})
    return runs


def test_search_by_project_names_and_ids(client: httpx.Client) -> None:
    runs = _seed(client)
    s_id = runs["r18"]["project_id"]
    other_id = runs["outsider"]["project_id"]
    # Newest first by default.
    assert search_names(client, projects=["s"]) == ["base", "ViT", "r50", "r18"]
    assert search_names(client, project_ids=[s_id]) == ["base", "ViT", "r50", "r18"]
    assert set(search_names(client, projects=["s", "other"])) == {"r18", "r50", "ViT", "base", "outsider"}
    assert set(search_names(client, projects=["s"], project_ids=[other_id])) == set(runs)
    assert search_names(client, project_ids=[other_id]) == ["outsider"]
    # Results carry the whole run.
    page = search(client, projects=["s"], filter="attributes.name = 'r50'")
    assert page["next_cursor"] is None
    (found,) = page["runs"]
    assert found["params"] == {"model": "resnet", "lr": "0.01", "layers": "50"}
    assert found["tags"] == {"team": "vision"}
    assert found["metrics"]["acc"] == {"value": 0.95, "step": 1, "timestamp": T0 + 1}
    assert found["status"] == "RUNNING"
    # Unknown projects are not found; naming none is refused.
    error(client.post("/runs/search", json={"projects": ["nope"]}), 404, "NOT_FOUND")
    error(client.post("/runs/search", json={"project_ids": [UNKNOWN_ID]}), 404, "NOT_FOUND")
    error(client.post("/runs/search", json={}), 400, "INVALID_ARGUMENT", "project_ids")
    error(client.post("/runs/search", json={"projects": []}), 400, "INVALID_ARGUMENT", "project_ids")
    error(client.post("/runs/search", json={"projects": ["s"], "colour": 1}), 400, "INVALID_ARGUMENT", "colour")
    # An empty project has no runs.
    make_project(client, "empty")
    assert search(client, projects=["empty"]) == {"runs": [], "next_cursor": None}


FILTER_CASES: list[tuple[str, set[str]]] = [
    ("", {"r18", "r50", "ViT", "base"}),
    ("   ", {"r18", "r50", "ViT", "base"}),
    # metrics
    ("metrics.acc > 0.85", {"r18", "r50"}),
    ("metrics.acc >= 0.9", {"r18", "r50"}),
    ("metrics.acc = 0.8", {"ViT"}),
    ("metrics.acc != 0.8", {"r18", "r50"}),
    ("metrics.acc < 1", {"r18", "r50", "ViT"}),
    ("metrics.loss <= 0.3", {"r18", "r50"}),
    ("metrics.missing > 0", set()),
    ("metric.acc == 0.95", {"r50"}),
    # params, as text with a string and as numbers with a number
    ("params.model = 'resnet'", {"r18", "r50"}),
    ("params.model != 'resnet'", {"ViT", "base"}),
    ("params.lr = '0.1'", {"r18"}),
    ("params.lr < 0.05", {"r50", "ViT"}),
    ("params.lr >= 0.01", {"r18", "r50"}),
    ("params.lr = 0.1", {"r18"}),
    ("params.layers > 20", {"r50"}),
    ("params.layers < 20", {"r18", "ViT"}),
    ("params.layers < '2'", {"r18", "ViT"}),
    ("params.layers > '2'", {"r50"}),
    ("params.lr = 'auto'", {"base"}),
    ('params.model = "vit"', {"ViT"}),
    # tags
    ("tags.team = 'vision'", {"r18", "r50"}),
    ("tags.team != 'vision'", {"ViT"}),
    ("tag.team <> 'research'", {"r18", "r50"}),
    # attributes
    ("attributes.status = 'FINISHED'", {"r18"}),
    ("attributes.status != 'RUNNING'", {"r18", "ViT", "base"}),
    ("attributes.name = 'ViT'", {"ViT"}),
    ("run.name = 'r18'", {"r18"}),
    (f"attributes.start_time >= {T0 + 2000}", {"ViT", "base"}),
    (f"attributes.start_time < {T0 + 1000}", {"r18"}),
    ("attributes.end_time > 0", {"r18", "ViT", "base"}),
    # in / not in
    ("params.model in ('vit', 'linear')", {"ViT", "base"}),
    ("params.model not in ('resnet')", {"ViT", "base"}),
    ("params.layers in (12, 50)", {"r50", "ViT"}),
    ("attributes.status in ('FAILED', 'KILLED')", {"ViT", "base"}),
    ("tags.team not in ('vision')", {"ViT"}),
    # like / ilike
    ("attributes.name like 'r%'", {"r18", "r50"}),
    ("attributes.name like 'r_8'", {"r18"}),
    ("attributes.name like 'vit'", set()),
    ("attributes.name ilike 'vit'", {"ViT"}),
    ("attributes.name ILIKE 'V%'", {"ViT"}),
    ("params.model like '%net'", {"r18", "r50"}),
    ("params.model not like '%net'", {"ViT", "base"}),
    ("tags.team ilike 'VIS%'", {"r18", "r50"}),
    # and / or / parentheses
    ("metrics.acc >= 0.9 and params.model = 'resnet'", {"r18", "r50"}),
    ("metrics.acc > 0.9 or tags.team = 'research'", {"r50", "ViT"}),
    ("metrics.acc > 0.9 or params.model = 'vit' and attributes.status != 'FAILED'", {"r50"}),
    ("(metrics.acc > 0.9 or params.model = 'vit') and attributes.status != 'RUNNING'", {"ViT"}),
    ("(metrics.acc > 0.9 or params.model = 'vit') and (attributes.status = 'RUNNING')", {"r50"}),
    ("params.model = 'resnet' AND metrics.loss < 0.25 OR params.lr = 'auto'", {"r50", "base"}),
    ("((params.model = 'linear'))", {"base"}),
]


def test_filters(client: httpx.Client) -> None:
    _seed(client)
    for text, expected in FILTER_CASES:
        found = set(search_names(client, projects=["s"], filter=text))
        assert found == expected, f"filter {text!r}: got {sorted(found)}, expected {sorted(expected)}"


def test_order_by(client: httpx.Client) -> None:
    _seed(client)

    def order(order_by: object, **extra: Any) -> list[str]:
        return search_names(client, projects=["s"], order_by=order_by, **extra)

    # Missing values sort last in both directions.
    assert order("metrics.acc desc") == ["r50", "r18", "ViT", "base"]
    assert order("metrics.acc asc") == ["ViT", "r18", "r50", "base"]
    assert order("metrics.acc") == ["ViT", "r18", "r50", "base"]
    assert order("metrics.loss desc") == ["base", "ViT", "r18", "r50"]
    by_team = order("tags.team")
    assert by_team[0] == "ViT" and set(by_team[1:3]) == {"r18", "r50"} and by_team[3] == "base"
    by_team = order("tags.team desc")
    assert set(by_team[0:2]) == {"r18", "r50"} and by_team[2:] == ["ViT", "base"]
    # Params: numbers by value first, then text.
    assert order("params.lr") == ["ViT", "r50", "r18", "base"]
    assert order("params.layers desc") == ["r50", "r18", "ViT", "base"]
    # Attributes; names in code point order (upper case first).
    assert order("attributes.name") == ["ViT", "base", "r18", "r50"]
    assert order("attributes.name desc") == ["r50", "r18", "base", "ViT"]
    assert order("attributes.start_time") == ["r18", "r50", "ViT", "base"]
    assert order("attributes.status") == ["ViT", "r18", "base", "r50"]
    # Several keys, as one text or as a list.
    assert order("params.model desc, metrics.acc desc") == ["ViT", "r50", "r18", "base"]
    assert order(["params.model desc", "metrics.acc"]) == ["ViT", "r18", "r50", "base"]
    # Ordering combines with a filter.
    assert order("metrics.acc desc", filter="params.model = 'resnet'") == ["r50", "r18"]
    # Non-finite latest values: -Infinity and Infinity order as numbers, NaN sorts with the missing ones,
    # and NaN matches no comparison at all.
    for name, values in [("nan", [1.0, "NaN"]), ("inf", [1.0, "Infinity"]), ("ninf", [1.0, "-Infinity"])]:
        run = make_run(client, "nf", name=name)
        log(client, run["id"], metrics={"m": values})
    one = make_run(client, "nf", name="one")
    log(client, one["id"], metrics={"m": [1.0]})
    make_run(client, "nf", name="none")
    nf = {"projects": ["nf"]}
    assert search_names(client, **nf, order_by="metrics.m")[:3] == ["ninf", "one", "inf"]
    assert search_names(client, **nf, order_by="metrics.m desc")[:3] == ["inf", "one", "ninf"]
    assert set(search_names(client, **nf, order_by="metrics.m")[3:]) == {"nan", "none"}
    assert set(search_names(client, **nf, filter="metrics.m > 0")) == {"inf", "one"}
    assert set(search_names(client, **nf, filter="metrics.m != 1")) == {"inf", "ninf"}
    assert set(search_names(client, **nf, filter="metrics.m < -1e308")) == {"ninf"}
    # A bad order_by names its field and the position.
    for bad in ["metrics.acc sideways", "acc desc", "foo.acc", "metrics.acc desc,"]:
        failed = error(
            client.post("/runs/search", json={"projects": ["s"], "order_by": bad}), 400, "INVALID_ARGUMENT", "order_by"
        )
        assert "position" in failed["message"], failed


def test_cursor_pagination_walks_every_run_once(client: httpx.Client) -> None:
    make_project(client, "many")
    created = []
    for index in range(25):
        run = make_run(client, "many", name=f"run-{index:02d}", start_time=T0 + 1000 * (index % 5))
        log(client, run["id"], metrics={"score": [float(index % 3)]})
        created.append(run["id"])

    for order_by in (None, "metrics.score desc", "attributes.name"):
        seen: list[str] = []
        pages = []
        cursor = None
        while True:
            body: dict[str, Any] = {"projects": ["many"], "limit": 10}
            if order_by:
                body["order_by"] = order_by
            if cursor:
                body["cursor"] = cursor
            page = search(client, **body)
            pages.append(len(page["runs"]))
            seen += [run["id"] for run in page["runs"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert pages == [10, 10, 5], (order_by, pages)
        assert len(seen) == len(set(seen)) == 25, order_by
        assert set(seen) == set(created)
    # The pages of an ordered walk are in order across page boundaries.
    scores = []
    cursor = None
    while True:
        page = search(
            client, projects=["many"], order_by="metrics.score desc", limit=7, **({"cursor": cursor} if cursor else {})
        )
        scores += [run["metrics"]["score"]["value"] for run in page["runs"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert scores == sorted(scores, reverse=True) and len(scores) == 25
    # An exact fit leaves no dangling cursor.
    page = search(client, projects=["many"], limit=25)
    assert len(page["runs"]) == 25 and page["next_cursor"] is None


def test_cursor_misuse_is_refused(client: httpx.Client) -> None:
    for index in range(3):
        run = make_run(client, "p", name=f"r{index}")
        log(client, run["id"], metrics={"m": [float(index)]})
    first = search(client, projects=["p"], filter="metrics.m >= 0", limit=1)
    cursor = first["next_cursor"]
    assert cursor
    # The same query continues.
    second = search(client, projects=["p"], filter="metrics.m >= 0", limit=1, cursor=cursor)
    assert second["runs"][0]["id"] != first["runs"][0]["id"]
    # A changed filter, order or project set makes the cursor meaningless.
    for changed in (
        {"filter": "metrics.m > 0"},
        {"filter": "metrics.m >= 0", "order_by": "metrics.m"},
        {"filter": "metrics.m >= 0", "deleted": True},
    ):
        body = {"projects": ["p"], "limit": 1, "cursor": cursor, **changed}
        failed = error(client.post("/runs/search", json=body), 400, "INVALID_ARGUMENT", "cursor")
        assert failed["message"]
    make_project(client, "q")
    body = {"projects": ["p", "q"], "filter": "metrics.m >= 0", "limit": 1, "cursor": cursor}
    error(client.post("/runs/search", json=body), 400, "INVALID_ARGUMENT", "cursor")

    def crafted(data: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    garbage = [
        "garbage",
        "!!!!",
        "",
        "e30",
        crafted([1, 2]),
        crafted({"o": "x", "q": "x"}),
        crafted({"o": 1}),
        crafted({"o": -10, "q": "x"}),
        base64.urlsafe_b64encode(b'{"o": 1e999, "q": "x"}').decode(),
        base64.urlsafe_b64encode(b"\xff\xfe\x00").decode(),
    ]
    for bad in garbage:
        response = client.post("/runs/search", json={"projects": ["p"], "cursor": bad})
        if bad == "":
            # An empty cursor is the same as none.
            assert response.status_code == 200, response.text
            continue
        error(response, 400, "INVALID_ARGUMENT", "cursor")


BAD_FILTERS: list[tuple[str, int]] = [
    ("metrics.acc >> 0.5", 12),
    ("metrics.acc > 'high'", 14),
    ("params.lr = ", 12),
    ("foo.bar = 1", 0),
    ("metrics.acc > 0.5 and", 21),
    ("(metrics.acc > 0.5", 18),
    ("metrics.acc like 'x%'", 12),
    ("attributes.colour = 'red'", 0),
    ("attributes.name > 5", 18),
    ("params.model = 'unterminated", 15),
    ("metrics.acc > 0.5 params.lr = '1'", 18),
    ("params.a in ()", 13),
    ("params.a in ('x', 1)", 18),
]


def test_bad_filters_name_the_field_and_the_position(client: httpx.Client) -> None:
    make_run(client, "p")
    for text, position in BAD_FILTERS:
        failed = error(
            client.post("/runs/search", json={"projects": ["p"], "filter": text}), 400, "INVALID_ARGUMENT", "filter"
        )
        assert f"position {position}" in failed["message"], (text, failed)
        assert failed.get("details") == {"position": position}, (text, failed)
    error(client.post("/runs/search", json={"projects": ["p"], "filter": 5}), 400, "INVALID_ARGUMENT", "filter")


def test_deleted_runs_and_limit_bounds(client: httpx.Client) -> None:
    live = make_run(client, "p", name="live")
    gone = make_run(client, "p", name="gone")
    log(client, gone["id"], metrics={"acc": [0.9]})
    ok(client.delete(f"/runs/{gone['id']}"))
    assert search_names(client, projects=["p"]) == ["live"]
    assert search_names(client, projects=["p"], filter="metrics.acc > 0") == []
    assert search_names(client, projects=["p"], deleted=True) == ["gone"]
    assert search_names(client, projects=["p"], deleted=True, filter="metrics.acc > 0") == ["gone"]
    ok(client.post(f"/runs/{gone['id']}/restore"))
    assert set(search_names(client, projects=["p"])) == {"live", "gone"}
    assert search_names(client, projects=["p"], deleted=True) == []
    assert live["id"] != gone["id"]

    # Page size bounds.
    make_run(client, "p", name="third")
    for bad in (0, -1, 1001, 10**6):
        error(client.post("/runs/search", json={"projects": ["p"], "limit": bad}), 400, "INVALID_ARGUMENT", "limit")
    one = search(client, projects=["p"], limit=1)
    assert len(one["runs"]) == 1 and one["next_cursor"]
    assert len(search(client, projects=["p"], limit=1000)["runs"]) == 3
    assert len(search(client, projects=["p"])["runs"]) == 3
