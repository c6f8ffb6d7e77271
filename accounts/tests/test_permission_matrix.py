"""Who may use which accounts endpoint: every kind of person against every endpoint.

Outsiders get 404 for organization URLs (the organization might as well not exist); members
whose role lacks the right get 403; anonymous callers get 401.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from rest_framework.test import APIClient

from accounts.models import AccountType, KycSubmission, Membership, User
from accounts.roles import Role
from accounts.tests.factories import MembershipFactory, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db

ACTORS = (
    "anonymous",
    "client",
    "professional",
    "viewer",
    "agent",
    "org_admin",
    "other_org_admin",
    "staff",
)


def _photo() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, format="PNG")
    return SimpleUploadedFile("p.png", buffer.getvalue(), content_type="image/png")


@pytest.fixture
def world(settings: Any, tmp_path: Any) -> dict[str, Any]:
    settings.PRIVATE_MEDIA_ROOT = str(tmp_path)
    organization = OrganizationFactory()
    other = OrganizationFactory()
    people: dict[str, User | None] = {
        "anonymous": None,
        "client": UserFactory(),
        "professional": UserFactory(account_type=AccountType.PROFESSIONAL),
        "viewer": MembershipFactory(organization=organization, role=Role.VIEWER).user,
        "agent": MembershipFactory(organization=organization, role=Role.AGENT).user,
        "org_admin": MembershipFactory(organization=organization, role=Role.ORG_ADMIN).user,
        "other_org_admin": MembershipFactory(organization=other, role=Role.ORG_ADMIN).user,
        "staff": UserFactory(is_staff=True),
    }
    target = Membership.objects.get(organization=organization, role=Role.AGENT)
    submission = KycSubmission.objects.create(
        user=people["professional"],
        full_name="Helena Souza",
        cpf="52998224725",
        birth_date="1990-01-01",
        document_front=_photo(),
        document_back=_photo(),
        selfie=_photo(),
    )
    return {"people": people, "org": organization, "target": target, "kyc": submission}


def call(world: dict[str, Any], actor: str, method: str, url: str, data: Any = None) -> int:
    client = APIClient()
    user = world["people"][actor]
    if user is not None:
        client.force_authenticate(user)
    url = url.format(org=world["org"].pk, member=world["target"].pk, kyc=world["kyc"].pk)
    return getattr(client, method)(url, data, format="json").status_code


MATRIX: list[tuple[str, str, Any, tuple[int, ...]]] = [
    # method, url, body, expected status for each actor in ACTORS order
    ("get", "/api/v1/me/", None, (401, 200, 200, 200, 200, 200, 200, 200)),
    ("get", "/api/v1/me/kyc/", None, (401, 200, 200, 200, 200, 200, 200, 200)),
    ("get", "/api/v1/me/two-factor/", None, (401, 200, 200, 200, 200, 200, 200, 200)),
    ("get", "/api/v1/organizations/{org}/", None, (401, 404, 404, 200, 200, 200, 404, 404)),
    (
        "patch",
        "/api/v1/organizations/{org}/",
        {"name": "Renamed"},
        (401, 404, 404, 403, 403, 200, 404, 404),
    ),
    (
        "get",
        "/api/v1/organizations/{org}/members/",
        None,
        (401, 404, 404, 200, 200, 200, 404, 404),
    ),
    (
        "patch",
        "/api/v1/organizations/{org}/members/{member}/",
        {"role": "viewer"},
        (401, 404, 404, 403, 403, 200, 404, 404),
    ),
    (
        "get",
        "/api/v1/organizations/{org}/invitations/",
        None,
        (401, 404, 404, 403, 403, 200, 404, 404),
    ),
    (
        "post",
        "/api/v1/organizations/{org}/invitations/",
        {"email": "new@example.com", "role": "agent"},
        (401, 404, 404, 403, 403, 201, 404, 404),
    ),
    # KYC documents: the owner (the professional) only; plain staff lack accounts.review_kyc.
    ("get", "/api/v1/kyc/{kyc}/files/front/", None, (401, 404, 200, 404, 404, 404, 404, 404)),
]


@pytest.mark.parametrize(
    ("method", "url", "body", "expected"), MATRIX, ids=[f"{m} {u}" for m, u, _, _ in MATRIX]
)
def test_the_permission_matrix(
    world: dict[str, Any], method: str, url: str, body: Any, expected: tuple[int, ...]
) -> None:
    statuses = tuple(call(world, actor, method, url, body) for actor in ACTORS)

    assert dict(zip(ACTORS, statuses, strict=True)) == dict(zip(ACTORS, expected, strict=True))


def test_an_agent_cannot_make_itself_admin(world: dict[str, Any]) -> None:
    agent = world["people"]["agent"]
    own = Membership.objects.get(user=agent)

    status = call(
        world,
        "agent",
        "patch",
        f"/api/v1/organizations/{{org}}/members/{own.pk}/",
        {"role": "org_admin"},
    )

    assert status == 403
    own.refresh_from_db()
    assert own.role == Role.AGENT
