"""Plain (non-SPA) pages of the support widget: the demo page that embeds it."""

from django.urls import path

from queueing import web

app_name = "widget"

urlpatterns = [path("demo/", web.widget_demo, name="demo")]
