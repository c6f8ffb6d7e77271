"""Accounts API: the signed-in user, organizations and their members, JWT tokens."""

from __future__ import annotations

import base64
import math
import mimetypes
from typing import Any

import django_otp
import qrcode
from django.http import FileResponse
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_view
from qrcode.image.svg import SvgPathImage
from rest_framework import status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView
from rest_framework_simplejwt import views as jwt_views

from accounts import kyc, selectors, services, two_factor, verification
from accounts.api import serializers
from accounts.api.permissions import CanManageMembers, CanViewMembers
from accounts.authentication import VerifiedSessionAuthentication
from accounts.models import KycSubmission, User, VerificationChannel, VerificationCode
from core.exceptions import NotFoundError
from core.pagination import PagePagination


def signed_in_user(request: Request) -> User:
    """The request's user, for views whose permission class already requires sign-in."""
    assert isinstance(request.user, User)
    return request.user


def _me_payload(user: User) -> dict[str, Any]:
    user.prefetched_memberships = list(selectors.user_memberships(user=user))  # type: ignore[attr-defined]
    return serializers.MeOutput(user).data


class MeApi(APIView):
    """The signed-in user's profile and memberships."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(responses=serializers.MeOutput, summary="Who am I")
    def get(self, request: Request) -> Response:
        return Response(_me_payload(signed_in_user(request)))

    @extend_schema(
        request=serializers.MeUpdateInput,
        responses=serializers.MeOutput,
        summary="Update my profile",
    )
    def patch(self, request: Request) -> Response:
        data = serializers.MeUpdateInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        user = services.user_update_profile(
            user=signed_in_user(request), data=dict(data.validated_data)
        )
        return Response(_me_payload(user))


def _mask(channel: str, target: str) -> str:
    if channel == VerificationChannel.EMAIL:
        name, _, domain = target.partition("@")
        return f"{name[:2]}***@{domain}"
    return f"{target[:5]}****{target[-4:]}"


def _sent_payload(code: VerificationCode) -> dict[str, Any]:
    resend_after = code.created_at + verification.RESEND_COOLDOWN
    return serializers.VerificationSentOutput(
        {
            "channel": code.channel,
            "target": _mask(code.channel, code.target),
            "expires_at": code.expires_at,
            "resend_after": resend_after,
            "resend_in": max(0, math.ceil((resend_after - timezone.now()).total_seconds())),
        }
    ).data


def _pending_payload(user: User, channel: str) -> dict[str, Any]:
    code = verification.verification_pending(user=user, channel=channel)
    return {"pending": _sent_payload(code) if code is not None else None}


class _VerificationStartApi(APIView):
    """GET: the code waiting on this channel; POST: send one (to a new contact, if given)."""

    permission_classes = (IsAuthenticated,)
    channel: str
    input_serializer: type[serializers.InputSerializer]
    # The input field naming a new contact to switch to ("email" or "phone").
    target_field: str

    def get(self, request: Request) -> Response:
        return Response(_pending_payload(signed_in_user(request), self.channel))

    def post(self, request: Request) -> Response:
        data = self.input_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        target = data.validated_data.get(self.target_field)
        code = verification.verification_start(
            user=signed_in_user(request),
            channel=self.channel,
            target=str(target) if target else None,
        )
        return Response(_sent_payload(code), status=status.HTTP_202_ACCEPTED)


@extend_schema_view(
    get=extend_schema(
        responses=serializers.VerificationPendingOutput, summary="The email code waiting, if any"
    ),
    post=extend_schema(
        request=serializers.EmailVerificationStartInput,
        responses={202: serializers.VerificationSentOutput},
        summary="Send an email verification code",
    ),
)
class EmailVerificationStartApi(_VerificationStartApi):
    """Send a code to the current email address, or to a new one to switch to."""

    channel = VerificationChannel.EMAIL
    input_serializer = serializers.EmailVerificationStartInput
    target_field = "email"


@extend_schema_view(
    get=extend_schema(
        responses=serializers.VerificationPendingOutput, summary="The SMS code waiting, if any"
    ),
    post=extend_schema(
        request=serializers.PhoneVerificationStartInput,
        responses={202: serializers.VerificationSentOutput},
        summary="Send a phone verification code",
    ),
)
class PhoneVerificationStartApi(_VerificationStartApi):
    """Send an SMS code to the current phone, or to a new number to switch to."""

    channel = VerificationChannel.PHONE
    input_serializer = serializers.PhoneVerificationStartInput
    target_field = "phone"


class _VerificationConfirmApi(APIView):
    permission_classes = (IsAuthenticated,)
    channel: str

    def post(self, request: Request) -> Response:
        data = serializers.VerificationConfirmInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = verification.verification_confirm(
            user=signed_in_user(request),
            channel=self.channel,
            plain_code=data.validated_data["code"],
        )
        return Response(_me_payload(user))


@extend_schema(
    request=serializers.VerificationConfirmInput,
    responses=serializers.MeOutput,
    summary="Confirm the email code",
)
class EmailVerificationConfirmApi(_VerificationConfirmApi):
    """Confirm the emailed code; the address becomes the account's, verified."""

    channel = VerificationChannel.EMAIL


@extend_schema(
    request=serializers.VerificationConfirmInput,
    responses=serializers.MeOutput,
    summary="Confirm the SMS code",
)
class PhoneVerificationConfirmApi(_VerificationConfirmApi):
    """Confirm the SMS code; the number becomes the account's, verified."""

    channel = VerificationChannel.PHONE


class BecomeProfessionalApi(APIView):
    """Turn this account into a professional one."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(request=None, responses=serializers.MeOutput, summary="Become a professional")
    def post(self, request: Request) -> Response:
        user = services.user_become_professional(user=signed_in_user(request))
        return Response(_me_payload(user))


def _two_factor_status(user: User) -> dict[str, Any]:
    return serializers.TwoFactorStatusOutput(
        {
            "enabled": two_factor.user_has_two_factor(user),
            "recovery_codes_left": two_factor.recovery_codes_left(user),
        }
    ).data


class TwoFactorStatusApi(APIView):
    """Whether two-factor authentication is on, and how many recovery codes are left."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(responses=serializers.TwoFactorStatusOutput, summary="2FA status")
    def get(self, request: Request) -> Response:
        return Response(_two_factor_status(signed_in_user(request)))


class TotpSetupStartApi(APIView):
    """Start setting up an authenticator app: returns its secret and a QR code, once."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(
        request=None, responses={201: serializers.TotpSetupOutput}, summary="Start 2FA setup"
    )
    def post(self, request: Request) -> Response:
        setup = two_factor.totp_setup_start(user=signed_in_user(request))
        qr_svg = qrcode.make(setup.otpauth_url, image_factory=SvgPathImage).to_string(
            encoding="unicode"
        )
        payload = {
            "secret": base64.b32encode(setup.device.bin_key).decode(),
            "otpauth_url": setup.otpauth_url,
            "qr_svg": qr_svg,
        }
        return Response(
            serializers.TotpSetupOutput(payload).data,
            status=status.HTTP_201_CREATED,
            headers={"Cache-Control": "no-store"},
        )


class TotpSetupConfirmApi(APIView):
    """Confirm the app with one of its codes; answers the recovery codes, shown only now."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(
        request=serializers.OtpCodeInput,
        responses=serializers.RecoveryCodesOutput,
        summary="Confirm 2FA setup",
    )
    def post(self, request: Request) -> Response:
        data = serializers.OtpCodeInput(data=request.data)
        data.is_valid(raise_exception=True)
        device, codes = two_factor.totp_setup_confirm(
            user=signed_in_user(request), code=data.validated_data["code"]
        )
        # This session just proved the second factor: keep it verified.
        django_otp.login(request._request, device)
        return Response({"recovery_codes": codes}, headers={"Cache-Control": "no-store"})


class RecoveryCodesApi(APIView):
    """Replace the recovery codes (password needed again)."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(
        request=serializers.PasswordInput,
        responses=serializers.RecoveryCodesOutput,
        summary="New recovery codes",
    )
    def post(self, request: Request) -> Response:
        data = serializers.PasswordInput(data=request.data)
        data.is_valid(raise_exception=True)
        codes = two_factor.recovery_codes_regenerate(
            user=signed_in_user(request), password=data.validated_data["password"]
        )
        return Response({"recovery_codes": codes}, headers={"Cache-Control": "no-store"})


class TwoFactorDisableApi(APIView):
    """Turn two-factor authentication off (password needed again)."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(request=serializers.PasswordInput, responses={204: None}, summary="Turn 2FA off")
    def post(self, request: Request) -> Response:
        data = serializers.PasswordInput(data=request.data)
        data.is_valid(raise_exception=True)
        two_factor.two_factor_disable(
            user=signed_in_user(request), password=data.validated_data["password"]
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class TwoFactorVerifyApi(APIView):
    """The second step of a browser sign-in: a TOTP or recovery code verifies the session."""

    # The one endpoint a password-only session of a 2FA account may use; sessions only.
    authentication_classes = (VerifiedSessionAuthentication,)
    allows_unverified_session = True
    permission_classes = (IsAuthenticated,)
    throttle_scope = "auth"
    throttle_classes = (ScopedRateThrottle,)

    @extend_schema(
        request=serializers.OtpCodeInput, responses=serializers.MeOutput, summary="Verify 2FA"
    )
    def post(self, request: Request) -> Response:
        data = serializers.OtpCodeInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = signed_in_user(request)
        device = two_factor.two_factor_check(user=user, code=data.validated_data["code"])
        django_otp.login(request._request, device)
        return Response(_me_payload(user))


class OrganizationListApi(APIView):
    """Organizations the signed-in user belongs to; create a new one."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(responses=serializers.OrganizationOutput(many=True), summary="My organizations")
    def get(self, request: Request) -> Response:
        organizations = selectors.organization_list_for_user(user=signed_in_user(request))
        return Response(serializers.OrganizationOutput(organizations, many=True).data)

    @extend_schema(
        request=serializers.OrganizationCreateInput,
        responses={201: serializers.OrganizationOutput},
        summary="Create an organization (you become its admin)",
    )
    def post(self, request: Request) -> Response:
        data = serializers.OrganizationCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        organization = services.organization_create(
            name=data.validated_data["name"], creator=signed_in_user(request)
        )
        return Response(
            serializers.OrganizationOutput(organization).data, status=status.HTTP_201_CREATED
        )


class OrganizationDetailApi(APIView):
    """One organization: members read it, org admins change its settings."""

    permission_classes = (CanViewMembers,)

    def get_permissions(self) -> list[Any]:
        return [CanManageMembers()] if self.request.method == "PATCH" else [CanViewMembers()]

    @extend_schema(responses=serializers.OrganizationOutput, summary="An organization")
    def get(self, request: Request, organization_id: int) -> Response:
        return Response(serializers.OrganizationOutput(request.membership.organization).data)  # type: ignore[attr-defined]

    @extend_schema(
        request=serializers.OrganizationUpdateInput,
        responses=serializers.OrganizationOutput,
        summary="Change organization settings",
    )
    def patch(self, request: Request, organization_id: int) -> Response:
        data = serializers.OrganizationUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        organization = services.organization_update(
            organization_id=organization_id, actor=signed_in_user(request), **data.validated_data
        )
        return Response(serializers.OrganizationOutput(organization).data)


class OrganizationMemberListApi(APIView):
    """Members of one organization, for its members."""

    permission_classes = (CanViewMembers,)

    @extend_schema(responses=serializers.MemberOutput(many=True), summary="List members")
    def get(self, request: Request, organization_id: int) -> Response:
        memberships = selectors.membership_list_for_organization(
            actor=signed_in_user(request), organization_id=organization_id
        )
        paginator = PagePagination()
        page = paginator.paginate_queryset(memberships, request, view=self)
        return paginator.get_paginated_response(serializers.MemberOutput(page, many=True).data)


class OrganizationMemberDetailApi(APIView):
    """Change a member's role or remove them: organization admins only."""

    permission_classes = (CanManageMembers,)

    @extend_schema(
        request=serializers.MemberUpdateInput,
        responses=serializers.MemberOutput,
        summary="Change a member's role",
    )
    def patch(self, request: Request, organization_id: int, membership_id: int) -> Response:
        data = serializers.MemberUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        membership = selectors.membership_get_in_organization(
            organization_id=organization_id, membership_id=membership_id
        )
        membership = services.membership_change_role(
            membership=membership, role=data.validated_data["role"], actor=signed_in_user(request)
        )
        return Response(serializers.MemberOutput(membership).data)

    @extend_schema(responses={204: None}, summary="Remove a member")
    def delete(self, request: Request, organization_id: int, membership_id: int) -> Response:
        membership = selectors.membership_get_in_organization(
            organization_id=organization_id, membership_id=membership_id
        )
        services.membership_remove(membership=membership, actor=signed_in_user(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


# Token endpoints are open to anonymous clients, so each gets the strict `auth` rate.


class TokenObtainApi(jwt_views.TokenObtainPairView):
    """Exchange email + password for an access token (minutes) and a refresh token (days)."""

    serializer_class = serializers.TokenObtainInput
    permission_classes = (AllowAny,)  # type: ignore[assignment]  # simplejwt declares ()
    throttle_classes = (ScopedRateThrottle,)
    throttle_scope = "auth"


class TokenRefreshApi(jwt_views.TokenRefreshView):
    """Exchange a refresh token for a new pair; the old refresh token is blacklisted."""

    permission_classes = (AllowAny,)  # type: ignore[assignment]  # simplejwt declares ()
    throttle_classes = (ScopedRateThrottle,)
    throttle_scope = "auth"


class TokenRevokeApi(jwt_views.TokenBlacklistView):
    """Log out an API client: blacklist its refresh token."""

    permission_classes = (AllowAny,)  # type: ignore[assignment]  # simplejwt declares ()
    throttle_classes = (ScopedRateThrottle,)
    throttle_scope = "auth"


class OrganizationInvitationListApi(APIView):
    """Pending invitations of an organization; invite someone by email (org admins)."""

    permission_classes = (CanManageMembers,)

    @extend_schema(responses=serializers.InvitationOutput(many=True), summary="Pending invitations")
    def get(self, request: Request, organization_id: int) -> Response:
        invitations = selectors.invitation_list_pending(organization_id=organization_id)
        paginator = PagePagination()
        page = paginator.paginate_queryset(invitations, request, view=self)
        return paginator.get_paginated_response(serializers.InvitationOutput(page, many=True).data)

    @extend_schema(
        request=serializers.InvitationCreateInput,
        responses={201: serializers.InvitationOutput},
        summary="Invite someone",
    )
    def post(self, request: Request, organization_id: int) -> Response:
        data = serializers.InvitationCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        invitation, _token = services.invitation_create(
            organization=request.membership.organization,  # type: ignore[attr-defined]
            email=data.validated_data["email"],
            role=data.validated_data["role"],
            actor=signed_in_user(request),
        )
        return Response(
            serializers.InvitationOutput(invitation).data, status=status.HTTP_201_CREATED
        )


class OrganizationInvitationDetailApi(APIView):
    """Withdraw an invitation (org admins)."""

    permission_classes = (CanManageMembers,)

    @extend_schema(responses={204: None}, summary="Withdraw an invitation")
    def delete(self, request: Request, organization_id: int, invitation_id: int) -> Response:
        invitation = selectors.invitation_get_in_organization(
            organization_id=organization_id, invitation_id=invitation_id
        )
        services.invitation_revoke(invitation=invitation, actor=signed_in_user(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationPublicApi(APIView):
    """What an invitation link is about: readable without signing in, to show the invite."""

    # Public: no authentication at all, so no session state (2FA pending) can refuse it.
    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = (ScopedRateThrottle,)
    throttle_scope = "auth"

    @extend_schema(responses=serializers.InvitationPublicOutput, summary="Look at an invitation")
    def get(self, request: Request, token: str) -> Response:
        invitation = selectors.invitation_get_by_token(token=token)
        payload = {
            "organization": {
                "id": invitation.organization_id,
                "name": invitation.organization.name,
            },
            "role": invitation.role,
            "email": _mask(VerificationChannel.EMAIL, invitation.email),
            "expires_at": invitation.expires_at,
            "status": services.invitation_status(invitation),
        }
        return Response(serializers.InvitationPublicOutput(payload).data)


class InvitationAcceptApi(APIView):
    """Join the organization through the invitation (signed in as the invited address)."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(request=None, responses=serializers.MyMembershipOutput, summary="Accept")
    def post(self, request: Request, token: str) -> Response:
        membership = services.invitation_accept(token=token, user=signed_in_user(request))
        return Response(serializers.MyMembershipOutput(membership).data)


class OrganizationLeaveApi(APIView):
    """Leave an organization (the last org admin cannot)."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(request=None, responses={204: None}, summary="Leave an organization")
    def post(self, request: Request, organization_id: int) -> Response:
        services.membership_leave(user=signed_in_user(request), organization_id=organization_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ActiveOrganizationApi(APIView):
    """Choose the organization to work in."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(
        request=serializers.ActiveOrganizationInput,
        responses=serializers.MeOutput,
        summary="Switch organization",
    )
    def post(self, request: Request) -> Response:
        data = serializers.ActiveOrganizationInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_set_active_organization(
            user=signed_in_user(request), organization_id=data.validated_data["organization_id"]
        )
        return Response(_me_payload(user))


def _kyc_payload(submission: KycSubmission | None) -> dict[str, Any]:
    if submission is None:
        data: dict[str, Any] = {
            "id": None,
            "status": "none",
            "rejection_reason": "",
            "submitted_at": None,
            "reviewed_at": None,
        }
    else:
        data = {
            "id": submission.pk,
            "status": submission.status,
            "rejection_reason": submission.rejection_reason,
            "submitted_at": submission.created_at,
            "reviewed_at": submission.reviewed_at,
        }
    return serializers.KycStatusOutput(data).data


class KycApi(APIView):
    """The professional's identity verification: its status, and sending documents."""

    permission_classes = (IsAuthenticated,)
    parser_classes = (MultiPartParser, FormParser)

    @extend_schema(responses=serializers.KycStatusOutput, summary="My KYC status")
    def get(self, request: Request) -> Response:
        return Response(_kyc_payload(selectors.kyc_latest(user=signed_in_user(request))))

    @extend_schema(
        request=serializers.KycSubmitInput,
        responses={201: serializers.KycStatusOutput},
        summary="Send identity documents",
    )
    def post(self, request: Request) -> Response:
        data = serializers.KycSubmitInput(data=request.data)
        data.is_valid(raise_exception=True)
        submission = kyc.kyc_submit(user=signed_in_user(request), **data.validated_data)
        return Response(_kyc_payload(submission), status=status.HTTP_201_CREATED)


KYC_FILE_FIELDS = {"front": "document_front", "back": "document_back", "selfie": "selfie"}


class KycFileApi(APIView):
    """One KYC image, for its owner and for staff who review KYC; nobody else."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(responses={(200, "image/*"): bytes}, summary="A KYC document image")
    def get(self, request: Request, submission_id: int, kind: str) -> FileResponse:
        field = KYC_FILE_FIELDS.get(kind)
        if field is None:
            raise NotFoundError()
        submission = selectors.kyc_get_for_viewer(viewer=request.user, submission_id=submission_id)
        stored = getattr(submission, field)
        content_type = mimetypes.guess_type(stored.name)[0] or "application/octet-stream"
        response = FileResponse(stored.open("rb"), content_type=content_type)
        # Identity documents: never cached anywhere, never sniffed into something else.
        response["Cache-Control"] = "private, no-store"
        response["Content-Disposition"] = "inline"
        return response
