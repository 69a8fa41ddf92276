"""API token authentication: `Authorization: Token <secret>`, checked by
projects.api_tokens (one query on the digest's index; no ORM query building on the hot path).

A refused token is a 401 (unknown, revoked, expired, or its user inactive), with the reason.
"""

from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from projects.api_tokens import ApiTokenRefused, api_token_authenticate


class ApiTokenAuthentication(TokenAuthentication):
    """DRF's header parsing and 401 challenge; our tokens table instead of authtoken's."""

    def authenticate_credentials(self, key: str):
        try:
            return api_token_authenticate(secret=key)
        except ApiTokenRefused as exc:
            raise AuthenticationFailed(str(exc)) from exc
