"""Schemathesis over the whole OpenAPI document: no request makes a server error.

Issue 18, point 5: schemathesis found 40 server errors, all from integers
too large for the database in paths and queries. Every operation is called
with generated input (bounded: ``EXAMPLES`` per operation) as an admin on
the valley, on SQLite and PostgreSQL; any 5xx fails the test.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest_plugins = ["api_fixtures"]
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

EXAMPLES = 12


def test_no_request_makes_a_server_error(world):
    schema = schemathesis.openapi.from_asgi("/openapi.json", world.app)
    errors: list[str] = []
    calls = 0

    @given(data=st.data())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def fuzz(operation, data) -> None:
        nonlocal calls
        case = data.draw(operation.as_strategy())
        response = case.call(headers=world.h["admin"])
        calls += 1
        if response.status_code >= 500:
            errors.append(f"{case.method} {case.formatted_path}: {response.status_code}")

    for result in schema.get_all_operations():
        fuzz(result.ok())
    print(f"{calls} calls, {len(errors)} server errors")
    assert calls > 100
    assert not errors, sorted(set(errors))
