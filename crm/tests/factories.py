"""Builders shared by the CRM's tests.

Rows are created directly (not through the services) so each test sets up exactly the state
it needs; the services under test are then called on it.
"""

from __future__ import annotations

from typing import Any, cast

from fractional_indexing import generate_n_keys_between

from accounts.models import Organization, User
from accounts.roles import Role
from accounts.tests.factories import MembershipFactory, OrganizationFactory, UserFactory
from crm.models import Contact, Deal, Pipeline, Stage


def organization(**fields: Any) -> Organization:
    return cast(Organization, OrganizationFactory(**fields))


def member(org: Organization, *, role: str = Role.AGENT, **user_fields: Any) -> User:
    user = cast(User, UserFactory(**user_fields))
    MembershipFactory(user=user, organization=org, role=role)
    return user


def team(org: Organization | None = None) -> dict[str, Any]:
    """An organization with an admin, an agent and a viewer, plus an outsider (another org's
    admin): the four people every permission test needs."""
    org = org or organization()
    other = organization()
    return {
        "org": org,
        "admin": member(org, role=Role.ORG_ADMIN),
        "agent": member(org, role=Role.AGENT),
        "viewer": member(org, role=Role.VIEWER),
        "outsider": member(other, role=Role.ORG_ADMIN),
        "other_org": other,
    }


STAGES = (
    ("New", 10, False, False),
    ("Qualified", 25, False, False),
    ("Proposal", 50, False, False),
    ("Won", 100, True, False),
    ("Lost", 0, False, True),
)


def pipeline(
    org: Organization, name: str = "Sales", *, stages: Any = STAGES, **fields: Any
) -> Pipeline:
    """A pipeline with ``stages`` ((name, probability, is_won, is_lost), in order)."""
    created = Pipeline.objects.create(organization=org, name=name, **fields)
    for order, (stage_name, probability, is_won, is_lost) in enumerate(stages):
        Stage.objects.create(
            pipeline=created,
            name=stage_name,
            probability=probability,
            is_won=is_won,
            is_lost=is_lost,
            order=order,
        )
    return created


def stages(pipe: Pipeline) -> list[Stage]:
    return list(pipe.stages.order_by("order", "id"))


def deals(stage: Stage, count: int, *, title: str = "Deal", **fields: Any) -> list[Deal]:
    """``count`` deals appended to the end of ``stage``, in order, titled "Deal 1"..."""
    last = stage.deals.order_by("-position", "-id").values_list("position", flat=True).first()
    keys = generate_n_keys_between(last, None, count)
    pipe = stage.pipeline
    return [
        Deal.objects.create(
            organization_id=pipe.organization_id,
            pipeline=pipe,
            stage=stage,
            position=key,
            title=f"{title} {index + 1}",
            currency=pipe.currency,
            **fields,
        )
        for index, key in enumerate(keys)
    ]


def contact(org: Organization, name: str = "Ana Souza", **fields: Any) -> Contact:
    return Contact.objects.create(organization=org, name=name, **fields)
