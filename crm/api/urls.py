"""CRM API routes, under ``/api/v1/crm/<organization_id>/``.

One module per area: the board and deals' moves (board), pipelines and their configuration,
deals' details and timelines (pipelines), contacts, companies, leads and the inbox panel
(contacts), tasks and saved views (work), CSV import and export (imports), BotConversa settings
(botconversa). BotConversa's inbound endpoint is under ``/webhooks/`` (config/urls.py).
"""

from django.urls import include, path

from crm.api import board, botconversa, contacts, imports, pipelines, work

urlpatterns = [
    path(
        "crm/<int:organization_id>/",
        include(
            [
                *board.urlpatterns,
                *pipelines.urlpatterns,
                *contacts.urlpatterns,
                *work.urlpatterns,
                *imports.urlpatterns,
                *botconversa.urlpatterns,
            ]
        ),
    ),
]
