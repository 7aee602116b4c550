"""django-allauth hooks: no open sign-up, sign-up through the identity provider, error pages."""

from __future__ import annotations

import logging

from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter

logger = logging.getLogger(__name__)


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        # People join through an invitation or the company's identity provider.
        return False


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def on_authentication_error(
        self, request, provider, error=None, exception=None, extra_context=None
    ):
        # Say what failed without its text, which may carry a code or a token.
        logger.warning(
            "OpenID Connect sign-in failed: %s %s",
            error or "error",
            type(exception).__name__ if exception else "",
        )

    def is_open_for_signup(self, request, sociallogin) -> bool:
        # Whoever the company's provider vouches for may have an account; roles come from
        # invitations, project admins or the provider's group mapping, never from signing up.
        return True


class MFAAdapter(DefaultMFAAdapter):
    def send_notification_mail(self, *args, **kwargs) -> None:
        # allauth would mail on each MFA change; people see those changes on their security page
        # and in the audit trail instead.
        return None
