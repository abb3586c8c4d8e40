"""The published contract: a valid OpenAPI 3 document, every error status documented, docs without a CDN."""

from __future__ import annotations

import re

import pytest
import schemathesis

OPENAPI_URL = "/api/v1/openapi.json"


@pytest.fixture
def spec(client) -> dict:
    response = client.get(OPENAPI_URL)
    assert response.status_code == 200 and response.is_json
    return response.get_json()


def _operations(spec):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in ("get", "put", "post", "delete", "patch"):
                yield method, path, operation


def test_the_document_is_valid_openapi_3(app):
    schema = schemathesis.openapi.from_wsgi(OPENAPI_URL, app)
    schema.validate()  # against the OpenAPI 3.0 meta-schema
    for result in schema.get_all_operations():
        result.ok()  # every operation resolves (no dangling $ref)


def test_every_operation_documents_its_errors_with_the_envelope(spec):
    assert spec["openapi"].startswith("3.")
    envelope = spec["components"]["schemas"]["Error"]
    assert {"code", "status", "message", "errors", "reason"} <= set(envelope["properties"])
    for method, path, operation in _operations(spec):
        codes = set(operation["responses"])
        public = operation.get("security") == []
        expected = (
            {"400", "404", "405", "429"} if public else {"401", "403", "404", "405", "413", "422", "429"}
        )
        assert expected <= codes, f"{method} {path}"
        assert "default" in codes, f"{method} {path}"
        if "requestBody" in operation or any(p["in"] == "query" for p in operation.get("parameters", [])):
            assert "422" in codes, f"{method} {path}"


def test_write_bodies_refuse_unknown_fields_and_ids_start_at_one(spec):
    schemas = spec["components"]["schemas"]
    for method, path, operation in _operations(spec):
        body = operation.get("requestBody")
        if body:
            ref = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
            assert schemas[ref]["additionalProperties"] is False, f"{method} {path}"
        for param in operation.get("parameters", []) + spec["paths"][path].get("parameters", []):
            if param["in"] == "path":
                assert param["schema"]["type"] == "integer" and param["schema"]["minimum"] == 1, path


def test_the_security_schemes_are_bearer_and_session(spec):
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {"type": "http", "scheme": "bearer"}
    assert spec["components"]["securitySchemes"]["sessionCookie"]["in"] == "cookie"


def test_the_docs_page_loads_everything_from_our_own_origin(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    html = page.get_data(as_text=True)
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(s.startswith("/") and not s.startswith("//") for s in sources), sources
    assert "<script>" not in html  # no inline script: the CSP would block it
    for source in sources:
        with client.get(source) as asset:
            assert asset.status_code == 200, source
            assert len(asset.get_data()) > 100, source
    assert OPENAPI_URL in html


def test_the_docs_serve_only_swagger_ui_files(client):
    with client.get("/api/v1/docs/assets/swagger-ui-bundle.js") as bundle:
        assert bundle.status_code == 200
        assert bundle.mimetype in ("text/javascript", "application/javascript")
    assert client.get("/api/v1/docs/assets/..%2F__init__.py").status_code == 404
    assert client.get("/api/v1/docs/assets/LICENSE").status_code == 404
