"""BytewiseCharField: the database sorts its values as Python sorts strings (bytewise)."""

from __future__ import annotations

import pytest

from crm.models import Deal
from crm.tests.factories import organization, pipeline, stages

pytestmark = pytest.mark.django_db


def test_the_database_orders_keys_bytewise_whatever_its_default_collation() -> None:
    stage = stages(pipeline(organization()))[0]
    # Upper case before lower case, shorter prefix first: a linguistic collation disagrees.
    keys = ["a0", "Zz", "a0V", "B1", "a", "a1", "b0", "Zy", "A0"]
    for key in keys:
        Deal.objects.create(
            organization_id=stage.pipeline.organization_id,
            pipeline=stage.pipeline,
            stage=stage,
            position=key,
            title=key,
        )

    ordered = list(
        Deal.objects.filter(stage=stage).order_by("position").values_list("position", flat=True)
    )

    assert ordered == sorted(keys)
    assert ordered[:4] == ["A0", "B1", "Zy", "Zz"]
