"""Describe API token authentication in the OpenAPI schema."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "projects.authentication.ApiTokenAuthentication"
    name = "ApiToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "shp_<prefix>_<secret>",
            "description": "A project API token: `Authorization: Bearer shp_...`. Scopes: read, releases, "
            "deployments, test_results.",
        }
