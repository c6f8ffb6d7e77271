"""KYC: professionals send documents, staff review them, files stay private."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice
from PIL import Image
from rest_framework.test import APIClient

from accounts import kyc, policies
from accounts.models import AccountType, AuditEvent, KycStatus, KycSubmission, User
from accounts.tests.factories import UserFactory
from accounts.validators import cpf_is_valid

pytestmark = pytest.mark.django_db
VALID_CPF = "529.982.247-25"


@pytest.fixture(autouse=True)
def _private_files(settings: Any, tmp_path: Any) -> None:
    settings.PRIVATE_MEDIA_ROOT = str(tmp_path / "private")


def photo(
    name: str = "front.jpg", image_format: str = "JPEG", size: int = 32
) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (size, size), (200, 120, 40)).save(buffer, format=image_format)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=f"image/{image_format.lower()}")


def form(**changes: Any) -> dict[str, Any]:
    data = {
        "full_name": "Helena Souza",
        "cpf": VALID_CPF,
        "birth_date": "1990-05-17",
        "document_front": photo("front.jpg"),
        "document_back": photo("back.png", "PNG"),
        "selfie": photo("selfie.webp", "WEBP"),
    }
    data.update(changes)
    return data


def professional(**fields: Any) -> User:
    return UserFactory(account_type=AccountType.PROFESSIONAL, **fields)


def client_for(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def reviewer_client() -> tuple[User, Client]:
    staff = UserFactory(is_staff=True, is_superuser=True, language="en")
    device = TOTPDevice.objects.create(user=staff, name="app", confirmed=True)
    client = Client()
    client.force_login(staff)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return staff, client


@pytest.mark.parametrize(
    ("cpf", "valid"),
    [
        ("529.982.247-25", True),
        ("52998224725", True),
        ("529.982.247-24", False),
        ("111.111.111-11", False),
        ("1234", False),
    ],
)
def test_cpf_check_digits(cpf: str, valid: bool) -> None:
    assert cpf_is_valid(cpf) is valid


def test_a_professional_sends_documents_and_waits_for_review() -> None:
    user = professional()

    response = client_for(user).post("/api/v1/me/kyc/", form(), format="multipart")

    assert response.status_code == 201
    assert response.json()["status"] == "pending"
    submission = KycSubmission.objects.get()
    assert (submission.full_name, submission.cpf, submission.birth_date) == (
        "Helena Souza",
        "52998224725",
        date(1990, 5, 17),
    )
    assert submission.document_front.name.startswith(f"kyc/{user.pk}/")
    assert "front" not in submission.document_front.name
    assert client_for(user).get("/api/v1/me/kyc/").json()["status"] == "pending"
    assert AuditEvent.objects.filter(action="kyc.submitted").count() == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"cpf": "529.982.247-24"}, "cpf"),
        (
            {"document_front": SimpleUploadedFile("doc.jpg", b"%PDF-1.4 not an image")},
            "document_front",
        ),
        ({"selfie": photo("selfie.gif", "GIF")}, "selfie"),
        ({"birth_date": "17/05/1990"}, "birth_date"),
    ],
)
def test_bad_documents_are_refused_and_nothing_is_stored(
    changes: dict[str, Any], field: str
) -> None:
    response = client_for(professional()).post(
        "/api/v1/me/kyc/", form(**changes), format="multipart"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert list(response.json()["extra"]["fields"]) == [field]
    assert KycSubmission.objects.count() == 0


def test_a_file_over_5_mb_is_refused(settings: Any) -> None:
    big = photo("big.png", "PNG", size=10)
    big.size = 5 * 1024 * 1024 + 1

    from django.core.exceptions import ValidationError

    from accounts.validators import validate_document_image

    with pytest.raises(ValidationError) as error:
        validate_document_image(big)

    assert error.value.code == "file_too_large"


def test_clients_cannot_send_kyc() -> None:
    response = client_for(UserFactory()).post("/api/v1/me/kyc/", form(), format="multipart")

    assert (response.status_code, response.json()["code"]) == (403, "accounts.not_professional")
    assert KycSubmission.objects.count() == 0


def test_an_underage_professional_is_refused() -> None:
    response = client_for(professional()).post(
        "/api/v1/me/kyc/",
        form(birth_date=date.today().replace(year=date.today().year - 17).isoformat()),
        format="multipart",
    )

    assert (response.status_code, response.json()["code"]) == (400, "accounts.kyc_underage")


def test_a_second_submission_waits_for_the_first_review() -> None:
    user = professional()
    client_for(user).post("/api/v1/me/kyc/", form(), format="multipart")

    response = client_for(user).post("/api/v1/me/kyc/", form(), format="multipart")

    assert (response.status_code, response.json()["code"]) == (409, "accounts.kyc_pending")
    assert KycSubmission.objects.count() == 1


def test_approval_unlocks_withdrawals_and_tells_the_professional(
    django_capture_on_commit_callbacks: Any,
) -> None:
    user = professional(phone="+5511987654321", phone_verified_at=timezone.now())
    client_for(user).post("/api/v1/me/kyc/", form(), format="multipart")
    staff, _ = reviewer_client()
    before = policies.missing(user, policies.Action.WITHDRAW)

    with django_capture_on_commit_callbacks(execute=True):
        kyc.kyc_approve(submission=KycSubmission.objects.get(), reviewer=staff)

    assert before == [policies.Requirement.KYC_APPROVED]
    assert policies.missing(user, policies.Action.WITHDRAW) == []
    assert [message.to for message in mail.outbox] == [[user.email]]
    assert AuditEvent.objects.filter(action="kyc.approved", actor=staff).count() == 1


def test_a_rejection_gives_a_reason_and_allows_sending_again(
    django_capture_on_commit_callbacks: Any,
) -> None:
    user = professional(language="en")
    client_for(user).post("/api/v1/me/kyc/", form(), format="multipart")
    staff, _ = reviewer_client()

    with django_capture_on_commit_callbacks(execute=True):
        kyc.kyc_reject(
            submission=KycSubmission.objects.get(), reviewer=staff, reason="Blurry photo"
        )
    status = client_for(user).get("/api/v1/me/kyc/").json()
    again = client_for(user).post("/api/v1/me/kyc/", form(), format="multipart")

    assert (status["status"], status["rejection_reason"]) == ("rejected", "Blurry photo")
    assert "Blurry photo" in mail.outbox[0].body
    assert again.status_code == 201
    assert KycSubmission.objects.filter(status=KycStatus.PENDING).count() == 1


def test_a_reviewed_submission_cannot_be_reviewed_again() -> None:
    user = professional()
    client_for(user).post("/api/v1/me/kyc/", form(), format="multipart")
    staff, _ = reviewer_client()
    submission = KycSubmission.objects.get()
    kyc.kyc_approve(submission=submission, reviewer=staff)

    from core.exceptions import ApplicationError

    with pytest.raises(ApplicationError) as error:
        kyc.kyc_reject(submission=submission, reviewer=staff, reason="Changed my mind")

    assert error.value.code == "accounts.kyc_reviewed"
    submission.refresh_from_db()
    assert submission.status == KycStatus.APPROVED


def test_documents_are_served_only_to_the_owner_and_to_kyc_reviewers() -> None:
    owner = professional()
    client_for(owner).post("/api/v1/me/kyc/", form(), format="multipart")
    submission = KycSubmission.objects.get()
    url = f"/api/v1/kyc/{submission.pk}/files/front/"
    _staff, reviewer = reviewer_client()
    plain_staff = UserFactory(is_staff=True)

    as_owner = client_for(owner).get(url)
    as_reviewer = reviewer.get(url)
    as_other = client_for(professional()).get(url)
    as_plain_staff = client_for(plain_staff).get(url)
    as_anonymous = APIClient().get(url)
    unknown_kind = client_for(owner).get(f"/api/v1/kyc/{submission.pk}/files/passport/")

    assert (as_owner.status_code, as_owner["Content-Type"], as_owner["Cache-Control"]) == (
        200,
        "image/jpeg",
        "private, no-store",
    )
    assert b"".join(as_owner.streaming_content)[:2] == b"\xff\xd8"
    assert as_reviewer.status_code == 200
    assert (as_other.status_code, as_other.json()["code"]) == (404, "not_found")
    assert as_plain_staff.status_code == 404
    assert as_anonymous.status_code == 401
    assert unknown_kind.status_code == 404


def test_staff_review_kyc_in_the_admin_with_a_reason_for_rejections(
    django_capture_on_commit_callbacks: Any,
) -> None:
    owner = professional()
    client_for(owner).post("/api/v1/me/kyc/", form(), format="multipart")
    submission = KycSubmission.objects.get()
    _staff, admin_client = reviewer_client()

    page = admin_client.get(f"/admin/accounts/kycsubmission/{submission.pk}/change/")
    asked = admin_client.post(
        "/admin/accounts/kycsubmission/",
        {"action": "reject_selected", "_selected_action": [submission.pk]},
    )
    with django_capture_on_commit_callbacks(execute=True):
        done = admin_client.post(
            "/admin/accounts/kycsubmission/",
            {
                "action": "reject_selected",
                "_selected_action": [submission.pk],
                "confirm": "yes",
                "reason": "The selfie does not show the face",
            },
        )

    assert page.status_code == 200
    assert f"/api/v1/kyc/{submission.pk}/files/front/" in page.content.decode()
    assert asked.status_code == 200
    assert "Reason shown to the professional" in asked.content.decode()
    assert done.status_code == 302
    submission.refresh_from_db()
    assert (submission.status, submission.rejection_reason) == (
        "rejected",
        "The selfie does not show the face",
    )


def test_documents_are_written_under_the_private_root_and_nowhere_public(
    settings: Any, tmp_path: Any
) -> None:
    from pathlib import Path

    client_for(professional()).post("/api/v1/me/kyc/", form(), format="multipart")
    submission = KycSubmission.objects.get()

    stored = Path(submission.document_front.path)
    assert stored.is_relative_to(tmp_path / "private")
    assert stored.exists()
    assert not str(stored).startswith(str(settings.MEDIA_ROOT))
