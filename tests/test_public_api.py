"""The names ``import ridgeline`` offers are a promise: this test fails when they drift."""

from __future__ import annotations

import importlib

import pytest

import ridgeline

EXPECTED = {
    "start_run": "ridgeline.client.run",
    "Run": "ridgeline.client.run",
    "Client": "ridgeline.client.reader",
    "load_model": "ridgeline.client.models",
    "RunRecord": "ridgeline.domain.entities",
    "RunPage": "ridgeline.domain.entities",
    "MetricHistory": "ridgeline.domain.entities",
    "RunStatus": "ridgeline.domain.entities",
}


SUBMODULES = {"artifacts", "datasets"}


def test_all_is_exactly_the_public_surface() -> None:
    assert set(ridgeline.__all__) == {*EXPECTED, *SUBMODULES, "__version__"}
    assert len(ridgeline.__all__) == len(set(ridgeline.__all__))
    assert sorted(dir(ridgeline)) == sorted(ridgeline.__all__)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_public_name_resolves_to_its_definition(name: str) -> None:
    value = getattr(ridgeline, name)
    assert value is getattr(importlib.import_module(EXPECTED[name]), name)
    assert value.__name__ == name


def test_star_import_gives_the_public_names() -> None:
    namespace: dict[str, object] = {}
    exec("from ridgeline import *", namespace)
    assert {name for name in namespace if name != "__builtins__"} == set(ridgeline.__all__)


@pytest.mark.parametrize("name", sorted(SUBMODULES))
def test_submodules_are_reachable_after_a_plain_import(name: str) -> None:
    assert getattr(ridgeline, name) is importlib.import_module(f"ridgeline.{name}")


def test_version_matches_the_installed_distribution() -> None:
    from importlib.metadata import version

    assert isinstance(ridgeline.__version__, str)
    assert ridgeline.__version__ == version("ridgeline")


def test_unknown_names_raise_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'load_modle'"):
        ridgeline.load_modle  # noqa: B018
    assert not hasattr(ridgeline, "Sender")


def test_public_types_behave_as_documented() -> None:
    assert [s.value for s in ridgeline.RunStatus] == ["RUNNING", "FINISHED", "FAILED", "KILLED"]
    assert callable(ridgeline.start_run)
    for method in ("log_metric", "log_metrics", "log_param", "log_params", "set_tag", "set_tags", "finish"):
        assert callable(getattr(ridgeline.Run, method))
    for method in ("get_run", "search_runs", "get_metric_history"):
        assert callable(getattr(ridgeline.Client, method))
