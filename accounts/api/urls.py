from django.urls import path

from accounts.api import views

app_name = "accounts"

urlpatterns = [
    path("auth/token/", views.TokenObtainApi.as_view(), name="token-obtain"),
    path("auth/token/refresh/", views.TokenRefreshApi.as_view(), name="token-refresh"),
    path("auth/token/revoke/", views.TokenRevokeApi.as_view(), name="token-revoke"),
    path("me/", views.MeApi.as_view(), name="me"),
    path("organizations/", views.OrganizationListApi.as_view(), name="organization-list"),
    path(
        "organizations/<int:organization_id>/members/",
        views.OrganizationMemberListApi.as_view(),
        name="member-list",
    ),
    path(
        "organizations/<int:organization_id>/members/<int:membership_id>/",
        views.OrganizationMemberDetailApi.as_view(),
        name="member-detail",
    ),
]
