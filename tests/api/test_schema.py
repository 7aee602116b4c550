"""The OpenAPI schema documents the API, and the docs page works offline."""

from __future__ import annotations

import yaml
from django.contrib.staticfiles import finders
from django.core.management import call_command


def test_schema__validates_and_documents_the_foundation_endpoints(tmp_path):
    target = tmp_path / "openapi.yml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))

    schema = yaml.safe_load(target.read_text())
    paths = schema["paths"]
    for path in (
        "/api/v1/projects/",
        "/api/v1/releases/",
        "/api/v1/releases/{id}/promote/",
        "/api/v1/releases/{id}/gates/{environment}/",
        "/api/v1/deployments/{id}/finish/",
        "/api/v1/deployments/{id}/rollback/",
    ):
        assert path in paths, path
    promote = paths["/api/v1/releases/{id}/promote/"]["post"]
    assert {"201", "409", "404", "403", "400"} <= set(promote["responses"])
    assert "ApiToken" in schema["components"]["securitySchemes"]


def test_schema__is_served(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    assert "/api/v1/releases/" in response.json()["paths"]


def test_docs__use_the_bundled_swagger_ui(client):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "cdn.jsdelivr.net" not in html
    assert finders.find("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
