"""Every kind of error leaves the API in the one shape: {"code", "message", "extra"}."""

from __future__ import annotations

import logging

import pytest
from django.test import Client
from rest_framework.test import APIClient

pytestmark = pytest.mark.urls("core.tests.urls")


def test_a_domain_error_keeps_its_code_message_and_extra(api_client: APIClient) -> None:
    response = api_client.get("/api/v1/test/raise/domain/")

    assert response.status_code == 400
    assert response.json() == {
        "code": "calls.professional_busy",
        "message": "The professional is busy.",
        "extra": {"retry": 30},
    }


def test_a_validation_error_lists_every_field(api_client: APIClient) -> None:
    response = api_client.post(
        "/api/v1/test/raise/x/", {"name": "far too long a name", "count": 0}, format="json"
    )

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert body["extra"] == {
        "fields": {
            "name": ["Certifique-se de que este campo não tenha mais de 10 caracteres."],
            "count": ["Certifque-se de que este valor seja maior ou igual a 1."],
        }
    }
    assert body["message"] == "Certifique-se de que este campo não tenha mais de 10 caracteres."


def test_unknown_fields_on_a_write_are_refused(api_client: APIClient) -> None:
    response = api_client.post(
        "/api/v1/test/raise/x/", {"name": "ok", "count": 1, "cuont": 2}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert response.json()["extra"] == {"fields": {"cuont": ["Campo desconhecido."]}}


def test_a_body_that_is_not_an_object_is_a_validation_error(api_client: APIClient) -> None:
    response = api_client.post("/api/v1/test/raise/x/", [1, 2], format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert list(response.json()["extra"]["fields"]) == ["non_field_errors"]


def test_malformed_json_is_a_parse_error(api_client: APIClient) -> None:
    response = api_client.post(
        "/api/v1/test/raise/x/", '{"name": "a",', content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    assert response.json()["extra"] == {}


def test_an_oversized_body_is_refused_before_parsing(api_client: APIClient, settings) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100

    response = api_client.post(
        "/api/v1/test/raise/x/", {"name": "a" * 200, "count": 1}, format="json"
    )

    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"


def test_an_unsupported_media_type_is_refused(api_client: APIClient) -> None:
    response = api_client.post("/api/v1/test/raise/x/", "name=a", content_type="text/csv")

    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


@pytest.mark.parametrize(
    ("kind", "status", "code", "extra"),
    [
        ("django-validation", 400, "validation_error", {"fields": {"cpf": ["Invalid CPF."]}}),
        ("http404", 404, "not_found", {}),
        ("django-permission", 403, "permission_denied", {}),
        ("throttled", 429, "throttled", {"wait": 13}),
    ],
)
def test_framework_errors_share_the_shape(
    api_client: APIClient, kind: str, status: int, code: str, extra: dict
) -> None:
    response = api_client.get(f"/api/v1/test/raise/{kind}/")

    assert response.status_code == status
    body = response.json()
    assert (body["code"], body["extra"]) == (code, extra)
    assert isinstance(body["message"], str) and body["message"]


def test_a_method_that_is_not_allowed_shares_the_shape(api_client: APIClient) -> None:
    response = api_client.delete("/api/v1/test/raise/x/")

    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


def test_an_unknown_api_path_answers_not_found_in_the_shape(api_client: APIClient) -> None:
    response = api_client.get("/api/v1/no/such/thing/")

    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": "Não encontrado.", "extra": {}}


def test_a_crash_answers_500_in_the_shape_without_leaking_details(
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = Client(raise_request_exception=False)

    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = client.get("/api/v1/test/raise/crash/")

    assert response.status_code == 500
    assert response.json() == {
        "code": "server_error",
        "message": "Algo deu errado do nosso lado.",
        "extra": {},
    }
    assert "postgres://" not in response.content.decode()
    assert [record.status_code for record in caplog.records] == [500]  # type: ignore[attr-defined]


@pytest.mark.django_db
def test_feed_cursors_walk_every_row_once_newest_first(api_client: APIClient) -> None:
    from accounts.tests.factories import UserFactory

    emails = [UserFactory().email for _ in range(5)]

    first = api_client.get("/api/v1/test/feed/?page_size=2").json()
    second = api_client.get(first["next"]).json()
    third = api_client.get(second["next"]).json()

    assert first["results"] == emails[::-1][:2]
    assert second["results"] == emails[::-1][2:4]
    assert third["results"] == emails[::-1][4:]
    assert third["next"] is None
