"""The CRM's socket topics, registered at start-up.

- ``crm.pipeline.<pipeline_id>``: a pipeline's board (``crm.events``): whoever sees the
  pipeline (members of its organization; a restricted one, only its admins and the agents
  granted it). An unknown pipeline and a refused one get the same answer.
"""

from __future__ import annotations

from typing import Any

from realtime.registry import register_topic


def can_follow_pipeline(user: Any, key: str) -> bool:
    """``crm.pipeline.<id>``: the user sees the pipeline (``crm.access.pipelines_visible``)."""
    from crm.access import pipelines_visible
    from crm.models import Pipeline

    if not (key.isascii() and key.isdigit() and len(key) <= 18):
        return False
    if not getattr(user, "is_authenticated", False):
        return False
    organization_id = (
        Pipeline.objects.filter(pk=int(key)).values_list("organization_id", flat=True).first()
    )
    if organization_id is None:
        return False
    return pipelines_visible(user, organization_id).filter(pk=int(key)).exists()


def register() -> None:
    """Register ``crm.pipeline.<id>``."""
    register_topic("crm.pipeline", check=can_follow_pipeline)
