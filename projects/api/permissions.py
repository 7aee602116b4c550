"""DRF permission for API tokens' scopes on reads.

Writes are checked by the services (``projects.permissions``), which know the
object. Reads go through selectors that narrow to the token's project; this
class adds the scope: a token reads only when it carries one of the view's
``token_read_scopes`` (default: ``read``). People are not affected.
"""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission

from projects.choices import TokenScope
from projects.principals import is_token


class TokenReadScope(BasePermission):
    message = "This API token may not read here: it needs the 'read' scope."

    def has_permission(self, request, view) -> bool:
        if not is_token(request.user) or request.method not in SAFE_METHODS:
            return True
        scopes = getattr(view, "token_read_scopes", (TokenScope.READ,))
        if any(request.user.has_scope(scope) for scope in scopes):
            return True
        self.message = (
            "This API token may not read here: it needs one of the scopes "
            + ", ".join(f"'{s}'" for s in scopes)
            + "."
        )
        return False
