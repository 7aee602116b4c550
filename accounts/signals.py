"""After a sign-in through the identity provider, let the mapped roles follow its groups.

The work is a service (``provider_groups_sync``); this only hands it the claim.
"""

from __future__ import annotations

from allauth.account.signals import user_logged_in
from django.conf import settings
from django.dispatch import receiver


def provider_groups(extra_data) -> list[str]:
    """The groups claim from the provider's userinfo, else from the ID token."""
    claim = settings.SHIPCHECK_OIDC_GROUPS_CLAIM
    if not isinstance(extra_data, dict):
        return []
    for part in (extra_data.get("userinfo"), extra_data.get("id_token"), extra_data):
        if isinstance(part, dict) and claim in part:
            value = part[claim]
            if isinstance(value, str):
                return [value]
            if isinstance(value, list):
                return [str(v) for v in value if isinstance(v, str | int)]
            return []
    return []


@receiver(user_logged_in, dispatch_uid="accounts.provider_groups_sync")
def _sync_provider_groups(sender, request, user, sociallogin=None, **kwargs) -> None:
    if sociallogin is None or sociallogin.account is None:
        return
    from accounts.services.groups import provider_groups_sync

    provider_groups_sync(user=user, groups=provider_groups(sociallogin.account.extra_data))
