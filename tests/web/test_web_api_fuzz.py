"""The API fuzzed from its own OpenAPI document (schemathesis), on SQLite and on PostgreSQL: no 5xx,
documented status codes, JSON responses matching their schemas. Bounded: a few dozen examples per
operation (~a minute per backend). tests/web/test_web_fuzz_routes.py adds hostile values the schema
does not describe, and every dashboard route.

URL submissions are captured, not fetched (``sent``), so the fuzzer never reaches the network."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.web.conftest import close_app, make_app_with_world
from web.openapi import spec

MAX_EXAMPLES = 50


@pytest.fixture
def fuzz_app(request, tmp_path, sent, storage_settings):
    app = make_app_with_world(request, tmp_path, storage_settings, populated=True)
    app.config["FUZZ_TOKEN"] = app.config["WORLD"].tokens["editor"]
    yield app
    close_app(app)


OPERATIONS = [f"{method.upper()} {path}" for path, ops in spec()["paths"].items() for method in ops]


# Driven by hand rather than through schemathesis' pytest plugin, which does not yet run on pytest 9.
@pytest.mark.parametrize("label", OPERATIONS)
def test_api_conforms_to_its_openapi_document(fuzz_app, label):
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", fuzz_app)
    operation = next(r.ok() for r in schema.get_all_operations() if r.ok().label == label)
    token = fuzz_app.config["FUZZ_TOKEN"]

    @given(case=operation.as_strategy())
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    def run(case):
        case.call_and_validate(
            headers={"Authorization": f"Bearer {token}"},
            checks=[
                not_a_server_error,
                status_code_conformance,
                content_type_conformance,
                response_schema_conformance,
            ],
        )

    run()
