"""Fuzz the whole API from its OpenAPI schema (schemathesis): no 500s, responses match their schemas."""

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings

from indexer.build import build
from server.api.app import create_app
from server.settings import Settings
from tests.conftest import FakeEmbedder


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory):

    from tests.conftest import copy_seed

    root = tmp_path_factory.mktemp("fuzz")
    copy_seed(root / "corpus")
    app_settings = Settings(
        corpus_dir=root / "corpus",
        index_dir=root / "index",
        session_db=root / "s.sqlite",
        reload_interval_seconds=0,
        _env_file=None,
    )
    embedder = FakeEmbedder()
    build(app_settings, embedder=embedder)
    app = create_app(app_settings, embedder=embedder)
    with TestClient(app):  # runs the lifespan: model and index loaded
        yield schemathesis.openapi.from_asgi("/openapi.json", app)


def test_api_never_fails_and_matches_its_schema(api_schema):
    from hypothesis import given
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import response_schema_conformance

    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/api/chat", "/api/search", "/api/documents", "/healthz"}
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def run(case):
            case.call_and_validate(checks=[not_a_server_error, response_schema_conformance])

        run()
