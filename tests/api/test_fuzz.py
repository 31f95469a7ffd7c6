"""Fuzz every /api/v1 and /feeds operation from the app's own OpenAPI schema: never a 500.

Schemathesis generates requests (valid and invalid, including odd Unicode in
paths and queries) from the schema and calls the ASGI app in process. The run
is bounded per operation so the suite stays quick; CI runs it like any test.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from paperlens.web.app import create_app

pytestmark = pytest.mark.slow
EXAMPLES = 40


def _operations(app):  # type: ignore[no-untyped-def]
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    return [result.ok() for result in schema.get_all_operations()]


def test_no_request_gives_a_500(site) -> None:  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    app = create_app(site)
    with TestClient(app):  # runs the lifespan once
        operations = _operations(app)
        assert len(operations) >= 10
        failures: list[str] = []
        statuses: dict[int, int] = {}
        for operation in operations:

            @given(case=operation.as_strategy())
            @settings(max_examples=EXAMPLES, deadline=None, database=None,
                      suppress_health_check=list(HealthCheck))  # fmt: skip
            def run(case) -> None:  # type: ignore[no-untyped-def]
                response = case.call()
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                if response.status_code >= 500:
                    failures.append(f"{case.method} {case.formatted_path} {case.query}: "
                                    f"{response.status_code} {response.text[:200]}")  # fmt: skip
                if response.status_code >= 400 and case.path.startswith("/api/"):
                    body = response.json()
                    assert set(body) == {"error"}, body
                    assert body["error"]["status"] == response.status_code

            run()
        assert not failures, "\n".join(failures[:20])
        assert sum(statuses.values()) >= len(operations) * 5, statuses
        assert 200 in statuses and (422 in statuses or 404 in statuses), statuses
