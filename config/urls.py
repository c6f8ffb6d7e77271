from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from django.views.i18n import JavaScriptCatalog, set_language
from django_otp.admin import OTPAdminSite
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from accounts.webhooks import SendGridTrackingWebhook
from config import views
from core.health import healthz
from wallet.webhooks import PixWebhook

# Staff reach the back office only after their second factor (django-otp's admin site).
admin.site.__class__ = OTPAdminSite

api_v1 = [
    path("", include("accounts.api.urls")),
    path("", include("wallet.api.urls")),
    path("", include("chat.api.urls")),
    path("", include("calls.api.urls")),
    path("", include("queueing.api.urls")),
    path("", include("crm.api.urls")),
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    # Unknown API paths answer in the API's error shape, in DEBUG too.
    re_path(r"^api/", views.not_found),
    path("_allauth/", include("allauth.headless.urls")),
    path(
        "webhooks/sendgrid/tracking/",
        SendGridTrackingWebhook.as_view(),
        name="sendgrid-tracking-webhook",
    ),
    path("webhooks/pix/<str:secret>/pix", PixWebhook.as_view(), name="pix-webhook"),
    path("webhooks/botconversa/", include("crm.webhook_urls")),
    path("jsi18n/", JavaScriptCatalog.as_view(domain="djangojs"), name="javascript-catalog"),
    path("i18n/setlang/", set_language, name="set_language"),
    # Browsers ask for /favicon.ico whatever the page says; point them at the real icon.
    # The support widget's demo page (a plain page embedding the widget's <script>).
    path("widget/", include("queueing.web_urls")),
    path("favicon.ico", RedirectView.as_view(url="/static/app/icon.svg", permanent=True)),
    # Every other path that is not an API or a file belongs to the web app's router.
    re_path(
        r"^(?!api/|_allauth/|admin/|static/|media/|ws/|widget/|webhooks/|jsi18n/|i18n/|healthz|favicon\.ico).*$",
        views.app_shell,
        name="app",
    ),
]

handler404 = "config.views.not_found"
handler500 = "config.views.internal_error"
