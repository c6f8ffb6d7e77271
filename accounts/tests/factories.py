from __future__ import annotations

from typing import Any

import factory

from accounts.models import Membership, Organization, User
from accounts.roles import Role

PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    display_name = factory.Sequence(lambda n: f"Person {n}")

    @factory.post_generation
    def password(user: User, create: bool, extracted: Any, **kwargs: Any) -> None:  # noqa: N805
        # factory_boy passes the built instance, not the factory: typed as what it is.
        user.set_password(extracted or PASSWORD)
        if create:
            user.save(update_fields=["password"])


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Organization {n}")
    slug = factory.Sequence(lambda n: f"organization-{n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(OrganizationFactory)
    role = Role.AGENT
