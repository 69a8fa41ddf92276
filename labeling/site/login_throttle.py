"""Failed logins counted per username and per client address on the shared cache: past the
limit, the login page and `POST /api/auth/token/` refuse for the rest of the window (429), even
with the right password, so a password cannot be guessed by trying many. Successes do not count.
"""

import hashlib

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth import views as auth_views
from django.core.cache import cache
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from projects.api import (
    ApiTokenCreatedSerializer,
    ApiTokenCreateSerializer,
    api_token_created_response,
)
from projects.api_tokens import NAME_MAX

KEY_PREFIX = "login-failures"


def client_address(request) -> str:
    """The client's address: behind our proxy (TRUST_X_FORWARDED_FOR), the one it appended to
    X-Forwarded-For last; a client can write the earlier entries, not that one."""
    if settings.TRUST_X_FORWARDED_FOR:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if last := forwarded.rsplit(",", 1)[-1].strip():
            return last
    return request.META.get("REMOTE_ADDR", "")


def _digest(text: str) -> str:
    """A cache key part for any text a client sends (no spaces or control characters)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _keys(request, username: str) -> list[tuple[str, int]]:
    address = client_address(request)
    return [
        (
            f"{KEY_PREFIX}:user:{_digest(username.strip().lower())}",
            settings.LOGIN_FAILURES_PER_USER,
        ),
        (f"{KEY_PREFIX}:address:{_digest(address)}", settings.LOGIN_FAILURES_PER_ADDRESS),
    ]


def login_refusal(request, username: str) -> str | None:
    """Why this login attempt is refused unheard, or None."""
    for key, limit in _keys(request, username):
        if (cache.get(key) or 0) >= limit:
            minutes = max(settings.LOGIN_FAILURE_WINDOW // 60, 1)
            return f"Too many failed logins. Try again in {minutes} minutes."
    return None


def login_failure_count(request, username: str) -> None:
    for key, _ in _keys(request, username):
        cache.add(key, 0, timeout=settings.LOGIN_FAILURE_WINDOW)
        try:
            cache.incr(key)
        except ValueError:  # expired in between
            cache.set(key, 1, timeout=settings.LOGIN_FAILURE_WINDOW)


class ThrottledLoginView(auth_views.LoginView):
    def post(self, request, *args, **kwargs):
        if refusal := login_refusal(request, request.POST.get("username", "")):
            form = self.get_form_class()(request=request)  # unbound: the password is not tried
            context = self.get_context_data(form=form, throttled=refusal)
            return self.render_to_response(context, status=429)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        login_failure_count(self.request, self.request.POST.get("username", ""))
        return super().form_invalid(form)


class TokenObtainSerializer(ApiTokenCreateSerializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False)
    name = serializers.CharField(
        max_length=NAME_MAX,
        required=False,
        default="Token from a login",
        help_text="What it is for.",
    )


class ThrottledTokenView(APIView):
    """`POST /api/auth/token/` (username, password) -> {"token"}, for scripts: a new token each
    time, its secret answered once."""

    authentication_classes = ()  # the password is the credential
    permission_classes = (AllowAny,)

    @extend_schema(
        request=TokenObtainSerializer,
        responses={
            200: ApiTokenCreatedSerializer,
            400: OpenApiResponse(description="wrong username or password, or bad fields"),
            429: OpenApiResponse(description="too many failed logins: wait `Retry-After`"),
        },
        auth=[],
    )
    def post(self, request, *args, **kwargs):
        """Make an API token for this username and password (`name` and `expires_in_days` as
        for `POST /api/tokens/`)."""
        data = request.data if hasattr(request.data, "get") else {}  # a JSON list has no fields
        username = str(data.get("username", ""))
        if refusal := login_refusal(request, username):
            response = Response({"detail": refusal}, status=status.HTTP_429_TOO_MANY_REQUESTS)
            response["Retry-After"] = str(settings.LOGIN_FAILURE_WINDOW)
            return response
        serializer = TokenObtainSerializer(data=request.data)
        if not serializer.is_valid():
            login_failure_count(request, username)
            return Response(serializer.errors, status=status.HTTP_400_BAD_REQUEST)
        fields = serializer.validated_data
        user = authenticate(
            request._request, username=fields["username"], password=fields["password"]
        )
        if user is None:  # unknown, wrong password or inactive: one answer for all
            login_failure_count(request, username)
            message = "Unable to log in with provided credentials."
            return Response({"non_field_errors": [message]}, status=status.HTTP_400_BAD_REQUEST)
        return api_token_created_response(user=user, data=fields, status_code=status.HTTP_200_OK)
