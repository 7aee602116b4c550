"""Settings of the sign-in machinery, read from the environment (docs/sign-in.md).

Imported by ``config/settings.py``; kept here so the accounts app's knobs sit in
one place. Passwords at ``/login/`` always work; OpenID Connect is offered when
``SHIPCHECK_OIDC_ISSUER``, ``SHIPCHECK_OIDC_CLIENT_ID`` and
``SHIPCHECK_OIDC_CLIENT_SECRET`` are all set.
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from core.env import env_bool, env_int, env_str, env_url

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

# --- django-allauth: local accounts -------------------------------------------------
# People join by invitation (accounts/services.py) or through the identity provider;
# there is no open sign-up page.
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "email", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_UNIQUE_EMAIL = False
ACCOUNT_LOGOUT_REDIRECT_URL = "login"
# Failed passwords are limited by accounts/throttle.py (per account and per address),
# which also writes the audit event; allauth's own counter would only duplicate it.
ACCOUNT_RATE_LIMITS = {"login_failed": None}

# --- OpenID Connect -------------------------------------------------------------------
SOCIALACCOUNT_ADAPTER = "accounts.adapters.SocialAccountAdapter"
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_LOGIN_ON_GET = False  # the button posts a form with its CSRF token
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_QUERY_EMAIL = False
# The provider is the company's: a verified e-mail it vouches for signs into the local
# account with that address instead of creating a second one.
SOCIALACCOUNT_EMAIL_AUTHENTICATION = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True

SHIPCHECK_OIDC_ISSUER = env_url("SHIPCHECK_OIDC_ISSUER", schemes=("https", "http")) or ""
SHIPCHECK_OIDC_CLIENT_ID = env_str("SHIPCHECK_OIDC_CLIENT_ID").strip()
SHIPCHECK_OIDC_CLIENT_SECRET = env_str("SHIPCHECK_OIDC_CLIENT_SECRET").strip()
SHIPCHECK_OIDC_LABEL = env_str("SHIPCHECK_OIDC_LABEL", "Sign in with single sign-on").strip()
SHIPCHECK_OIDC_GROUPS_CLAIM = env_str("SHIPCHECK_OIDC_GROUPS_CLAIM", "groups").strip() or "groups"
SHIPCHECK_OIDC_SCOPES = env_str("SHIPCHECK_OIDC_SCOPES", "openid profile email").split()
_oidc_parts = {
    "SHIPCHECK_OIDC_ISSUER": SHIPCHECK_OIDC_ISSUER,
    "SHIPCHECK_OIDC_CLIENT_ID": SHIPCHECK_OIDC_CLIENT_ID,
    "SHIPCHECK_OIDC_CLIENT_SECRET": SHIPCHECK_OIDC_CLIENT_SECRET,
}
if any(_oidc_parts.values()) and not all(_oidc_parts.values()):
    _missing = ", ".join(name for name, value in _oidc_parts.items() if not value)
    raise ImproperlyConfigured(
        f"OpenID Connect sign-in is half configured: set {_missing} as well (docs/sign-in.md)"
    )
if "openid" not in SHIPCHECK_OIDC_SCOPES:
    raise ImproperlyConfigured("SHIPCHECK_OIDC_SCOPES must include 'openid'")

# The provider id "sso" appears in the callback URL: <base>/accounts/oidc/sso/login/callback/.
OIDC_PROVIDER_ID = "sso"


def oidc_providers(*, server_url: str, client_id: str, secret: str, label: str, scopes) -> dict:
    """allauth's provider settings for one OpenID Connect client (the tests build their own)."""
    if not (server_url and client_id and secret):
        return {"openid_connect": {"APPS": []}}
    return {
        "openid_connect": {
            "OAUTH_PKCE_ENABLED": True,
            "SCOPE": list(scopes),
            "APPS": [
                {
                    "provider_id": OIDC_PROVIDER_ID,
                    "name": label,
                    "client_id": client_id,
                    "secret": secret,
                    "settings": {
                        "server_url": server_url,
                        "token_auth_method": "client_secret_post",
                    },
                }
            ],
        }
    }


SOCIALACCOUNT_PROVIDERS = oidc_providers(
    server_url=SHIPCHECK_OIDC_ISSUER,
    client_id=SHIPCHECK_OIDC_CLIENT_ID,
    secret=SHIPCHECK_OIDC_CLIENT_SECRET,
    label=SHIPCHECK_OIDC_LABEL,
    scopes=SHIPCHECK_OIDC_SCOPES,
)

# --- MFA and sessions ----------------------------------------------------------------
MFA_ADAPTER = "accounts.adapters.MFAAdapter"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_TOTP_ISSUER = "Shipcheck"
# A code of the 30-second step before or after the current one is accepted too: a code typed
# as its step ends, or a phone clock a little off, still works (allauth never accepts one twice).
MFA_TOTP_TOLERANCE = 1
MFA_PASSKEY_LOGIN_ENABLED = False
# Browsers allow WebAuthn on http only for localhost; a development server runs on http.
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = not env_bool("SHIPCHECK_PRODUCTION", False)
USERSESSIONS_TRACK_ACTIVITY = False

# --- Invitations and throttling ------------------------------------------------------
SHIPCHECK_INVITATION_DAYS = env_int("SHIPCHECK_INVITATION_DAYS", 7, minimum=1)
SHIPCHECK_LOGIN_MAX_FAILURES = env_int("SHIPCHECK_LOGIN_MAX_FAILURES", 5, minimum=1)
SHIPCHECK_LOGIN_MAX_FAILURES_PER_ADDRESS = env_int(
    "SHIPCHECK_LOGIN_MAX_FAILURES_PER_ADDRESS", 30, minimum=1
)
SHIPCHECK_LOGIN_LOCKOUT_SECONDS = env_int("SHIPCHECK_LOGIN_LOCKOUT_SECONDS", 900, minimum=1)
# Behind N reverse proxies the client's address is the N-th from the right in X-Forwarded-For
# (throttling per address and the sessions list use it); 0 trusts no header.
ALLAUTH_TRUSTED_PROXY_COUNT = env_int("SHIPCHECK_TRUSTED_PROXY_COUNT", 0, minimum=0)
