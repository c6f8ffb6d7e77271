"""Accounts API: the signed-in user, organizations and their members, JWT tokens."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView
from rest_framework_simplejwt import views as jwt_views

from accounts import selectors, services
from accounts.api import serializers
from accounts.api.permissions import CanManageMembers, CanViewMembers
from accounts.models import User
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
            membership=membership, role=data.validated_data["role"]
        )
        return Response(serializers.MemberOutput(membership).data)

    @extend_schema(responses={204: None}, summary="Remove a member")
    def delete(self, request: Request, organization_id: int, membership_id: int) -> Response:
        membership = selectors.membership_get_in_organization(
            organization_id=organization_id, membership_id=membership_id
        )
        services.membership_remove(membership=membership)
        return Response(status=status.HTTP_204_NO_CONTENT)


# Token endpoints are open to anonymous clients, so each gets the strict `auth` rate.


class TokenObtainApi(jwt_views.TokenObtainPairView):
    """Exchange email + password for an access token (minutes) and a refresh token (days)."""

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
