"""Schemathesis over the native API's /openapi.json, on the real server (on SQLite).

For every documented operation, requests generated from the schema, valid and invalid ones, must never get a 5xx,
and every answer must be one the schema documents: a declared status code, a declared content type and a body
that conforms. Stateless and bounded (a few examples per operation) so the module stays well under two minutes on
two cores. Nothing is excluded: the streamed artifact upload is documented without a request body, so it is fuzzed
through its path and headers.

Random ids and names only reach the first look-up, so half of the requests name the seeded world's entities in
their path (tests/security/hostile.py) and are fuzzed in their query and body; DELETEs keep random paths, so the
world survives the module.

Each operation is its own Hypothesis test inside a pytest subtest, driven through schemathesis's Python API
(``APIOperation.as_strategy``): its pytest integration (``schemathesis.pytest.from_fixture``) relies on a pytest
internal that pytest 9 no longer has, and a schema served by a running server cannot be loaded at collection time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import hypothesis
import pytest
import schemathesis
from hostile import World
from hypothesis import HealthCheck, given
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

# SQLite only: the schema and handlers are the same on both backends; what each
# database refuses is covered on both by test_sql_injection.py.
SQLITE_ONLY = True

# What "documented" means here. Schemathesis's other default checks judge business rules the schema cannot
# express (positive_data_acceptance would call a refused name with a control character a bug, for instance).
CHECKS: list[Callable[..., Any]] = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES_PER_OPERATION = 8

# NUL characters included: PostgreSQL refuses them in text, and that must be a 400, not a database error.
CONFIG = schemathesis.Config.from_dict({"generation": {"allow-x00": True}})

FUZZ_SETTINGS = hypothesis.settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    # Reproducible: a failure seen once is seen again on the next run, and nothing is stored between runs.
    derandomize=True,
    database=None,
    # Shrinking would cost many more requests; the first failing example is reported as it is.
    phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
)


@pytest.fixture(scope="module")
def api_schema(security_server: str, auth_headers: dict[str, str]) -> schemathesis.BaseSchema:
    """The schema the running server publishes (fetched with the same credentials as every request)."""
    return schemathesis.openapi.from_url(f"{security_server}/openapi.json", headers=auth_headers, config=CONFIG)


def _operations(schema: schemathesis.BaseSchema) -> list[schemathesis.APIOperation]:
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), f"the schema has an operation schemathesis cannot read: {result}"
        operations.append(result.ok())
    return operations


def _cases(operation: schemathesis.APIOperation, world: World) -> st.SearchStrategy[schemathesis.Case]:
    """Valid and invalid requests with random path parameters and, but for DELETEs, with the world's."""
    modes = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    strategies = [operation.as_strategy(mode) for mode in modes]
    names = [parameter.name for parameter in operation.path_parameters]
    real = {name: value for name in names if (value := world.value_for(name, operation.path)) is not None}
    if real and operation.method.upper() != "DELETE":
        strategies += [operation.as_strategy(mode, path_parameters=real) for mode in modes]
    return st.one_of(strategies)


def test_every_operation_answers_as_documented(
    api_schema: schemathesis.BaseSchema, world: World, auth_headers: dict[str, str], subtests: pytest.Subtests
) -> None:
    operations = _operations(api_schema)
    assert len(operations) > 50, "the schema lost its operations"
    for operation in operations:

        @FUZZ_SETTINGS
        @given(case=_cases(operation, world))
        def answers_as_documented(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=auth_headers, checks=CHECKS)

        with subtests.test(msg=operation.label):
            answers_as_documented()
