"""Plain (non-SPA) pages of the support widget: the demo page that embeds it."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from queueing.models import SupportWidget


def widget_demo(request: HttpRequest) -> HttpResponse:
    """A plain school website with nothing but the widget's ``<script>`` tag on it.

    It shows the first enabled widget (the demo organization's, from ``seed_demo``), the way a
    customer's own site would embed it; the widget answers only if this page's origin is among
    its allowed origins, like on any other site.
    """
    widget = (
        SupportWidget.objects.filter(enabled=True)
        .select_related("organization")
        .order_by("pk")
        .first()
    )
    if widget is None:
        raise Http404("No support widget is enabled.")
    return render(
        request,
        "queueing/widget_demo.html",
        {"widget": widget, "organization_name": widget.organization.name},
    )
