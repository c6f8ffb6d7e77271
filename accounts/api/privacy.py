"""LGPD endpoints: download my data, delete my account."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from accounts import privacy
from accounts.api.views import signed_in_user
from core.serializers import InputSerializer

EXPORT_DESCRIPTION = (
    "A JSON file of everything the platform holds about you: `format_version`, `exported_at`, "
    "`profile`, `memberships`, `invitations_sent`, `invitations_received`, `audit_events`, "
    "`sessions`, `api_tokens`, `two_factor`, `email_addresses`, `verification_codes`, "
    "`profile_history`. No passwords, keys, codes or tokens."
)


class DataExportApi(APIView):
    """Download everything the platform holds about me, as a JSON file (LGPD Art. 18, II)."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(
        responses={200: OpenApiResponse(OpenApiTypes.OBJECT, description=EXPORT_DESCRIPTION)},
        summary="Download my data",
    )
    def get(self, request: Request) -> Response:
        export = privacy.account_export(user=signed_in_user(request))
        filename = f"atende-data-{timezone.localdate().isoformat()}.json"
        return Response(
            export,
            headers={
                "Content-Disposition": f'attachment; filename="{filename}"',
                # Personal data: no browser or proxy keeps a copy.
                "Cache-Control": "no-store",
            },
        )


class AccountDeleteApi(APIView):
    """Delete my account (password needed again): personal data is anonymized, I am signed out."""

    class AccountDeleteInput(InputSerializer):
        """The account's password, asked again: deleting is for its owner only."""

        password = serializers.CharField(max_length=200, trim_whitespace=False)

    permission_classes = (IsAuthenticated,)
    # The password is checked here: a stolen session must not get the generous user rate
    # to guess it with.
    throttle_classes = (ScopedRateThrottle,)
    throttle_scope = "auth"

    @extend_schema(
        request=AccountDeleteInput,
        responses={204: None},
        summary="Delete my account",
    )
    def post(self, request: Request) -> Response:
        data = self.AccountDeleteInput(data=request.data)
        data.is_valid(raise_exception=True)
        privacy.account_delete(
            user=signed_in_user(request), password=data.validated_data["password"]
        )
        # The service deleted this browser's session row; flushing also drops the cookie.
        # (A JWT client has no session: nothing to do.)
        session = getattr(request._request, "session", None)
        if session is not None and session.session_key:
            session.flush()
        return Response(status=status.HTTP_204_NO_CONTENT)
