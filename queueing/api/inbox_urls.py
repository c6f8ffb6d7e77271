"""Support inbox API routes for staff (agents, supervisors, org admins).

Included under ``/api/v1/inbox/``; every route starts with the organization's id.
"""

from queueing.api import inbox

urlpatterns = inbox.urlpatterns
