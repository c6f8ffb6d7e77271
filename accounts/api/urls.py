from django.urls import path

from accounts.api import privacy, views

app_name = "accounts"

urlpatterns = [
    path("auth/token/", views.TokenObtainApi.as_view(), name="token-obtain"),
    path("auth/token/refresh/", views.TokenRefreshApi.as_view(), name="token-refresh"),
    path("auth/token/revoke/", views.TokenRevokeApi.as_view(), name="token-revoke"),
    path("me/", views.MeApi.as_view(), name="me"),
    path("me/email/verification/", views.EmailVerificationStartApi.as_view(), name="email-verify"),
    path(
        "me/email/verification/confirm/",
        views.EmailVerificationConfirmApi.as_view(),
        name="email-verify-confirm",
    ),
    path("me/phone/verification/", views.PhoneVerificationStartApi.as_view(), name="phone-verify"),
    path(
        "me/phone/verification/confirm/",
        views.PhoneVerificationConfirmApi.as_view(),
        name="phone-verify-confirm",
    ),
    path("me/professional/", views.BecomeProfessionalApi.as_view(), name="become-professional"),
    path("me/kyc/", views.KycApi.as_view(), name="kyc"),
    path("me/export/", privacy.DataExportApi.as_view(), name="data-export"),
    path("me/delete/", privacy.AccountDeleteApi.as_view(), name="account-delete"),
    path("kyc/<int:submission_id>/files/<str:kind>/", views.KycFileApi.as_view(), name="kyc-file"),
    path("me/two-factor/", views.TwoFactorStatusApi.as_view(), name="two-factor"),
    path("me/two-factor/totp/", views.TotpSetupStartApi.as_view(), name="totp-setup"),
    path("me/two-factor/totp/confirm/", views.TotpSetupConfirmApi.as_view(), name="totp-confirm"),
    path("me/two-factor/recovery-codes/", views.RecoveryCodesApi.as_view(), name="recovery-codes"),
    path("me/two-factor/disable/", views.TwoFactorDisableApi.as_view(), name="two-factor-off"),
    path("auth/two-factor/verify/", views.TwoFactorVerifyApi.as_view(), name="two-factor-verify"),
    path("organizations/", views.OrganizationListApi.as_view(), name="organization-list"),
    path(
        "me/active-organization/",
        views.ActiveOrganizationApi.as_view(),
        name="active-organization",
    ),
    path(
        "organizations/<int:organization_id>/leave/",
        views.OrganizationLeaveApi.as_view(),
        name="organization-leave",
    ),
    path(
        "organizations/<int:organization_id>/invitations/",
        views.OrganizationInvitationListApi.as_view(),
        name="invitation-list",
    ),
    path(
        "organizations/<int:organization_id>/invitations/<int:invitation_id>/",
        views.OrganizationInvitationDetailApi.as_view(),
        name="invitation-detail",
    ),
    path("invitations/<str:token>/", views.InvitationPublicApi.as_view(), name="invitation"),
    path(
        "invitations/<str:token>/accept/",
        views.InvitationAcceptApi.as_view(),
        name="invitation-accept",
    ),
    path(
        "organizations/<int:organization_id>/",
        views.OrganizationDetailApi.as_view(),
        name="organization-detail",
    ),
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
