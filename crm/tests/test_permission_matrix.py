"""Who may use which CRM endpoint: the board, deals, pipelines and their configuration.

The world: an open pipeline "Sales" and a restricted one "Secret" given to the agent and the
viewer but not to a second agent (the stranger). Anonymous callers get 401; another
organization's admin gets 404 as if nothing existed; viewers read (200) and write nothing
(403); agents write deals but not the configuration (403); the stranger does not see the
restricted pipeline or its deals (404); org admins do everything. Every refusal leaves the
database as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from guardian.models import UserObjectPermission
from guardian.shortcuts import assign_perm

from accounts.roles import Role
from accounts.tests.helpers import client_for, committed, rows
from crm.models import (
    Activity,
    CustomField,
    Deal,
    DealStatus,
    Label,
    LostReason,
    Pipeline,
    Stage,
)
from crm.tests import factories as make

pytestmark = pytest.mark.django_db

ACTORS = ("anonymous", "outsider", "viewer", "agent", "stranger", "admin")

WATCHED = (Pipeline, Stage, CustomField, Deal, LostReason, Label, Activity, UserObjectPermission)


def build() -> dict[str, Any]:
    people = make.team()
    org = people["org"]
    stranger = make.member(org, role=Role.AGENT)
    sales = make.pipeline(org, "Sales")
    secret = make.pipeline(org, "Secret", restricted=True)
    for user in (people["agent"], people["viewer"]):
        assign_perm("crm.use_pipeline", user, secret)
    new, qualified, _proposal, _won, lost = make.stages(secret)
    empty = Stage.objects.create(pipeline=secret, name="Empty", order=9)
    deal = make.deals(new, 1, title="Secret deal", owner=people["agent"])[0]
    make.deals(new, 1, title="Below")
    lost_deal = make.deals(lost, 1, title="Lost deal", status=DealStatus.LOST)[0]
    make.deals(make.stages(sales)[0], 1, title="Open deal")
    field = CustomField.objects.create(pipeline=secret, key="size", label="Size", kind="number")
    reason = LostReason.objects.create(organization=org, name="Preço")
    unused_reason = LostReason.objects.create(organization=org, name="Prazo", order=1)
    label = Label.objects.create(organization=org, name="VIP")
    return {
        "people": {
            "anonymous": None,
            "outsider": people["outsider"],
            "viewer": people["viewer"],
            "agent": people["agent"],
            "stranger": stranger,
            "admin": people["admin"],
        },
        "ids": {
            "org": org.pk,
            "sales": sales.pk,
            "secret": secret.pk,
            "new": new.pk,
            "qualified": qualified.pk,
            "empty": empty.pk,
            "stages": [stage.pk for stage in secret.stages.order_by("-order", "id")],
            "deal": deal.pk,
            "lost_deal": lost_deal.pk,
            "field": field.pk,
            "reason": reason.pk,
            "unused_reason": unused_reason.pk,
            "label": label.pk,
            "agent": people["agent"].pk,
        },
    }


def everything() -> dict[str, list[dict[str, Any]]]:
    return {model.__name__: rows(model) for model in WATCHED}


Body = dict[str, Any] | Callable[[dict[str, Any]], dict[str, Any]] | None


def call(actor: str, method: str, path: str, body: Body) -> int:
    built = build()
    ids = built["ids"]
    user = built["people"][actor]
    payload = body(ids) if callable(body) else body
    before = everything()
    with committed():
        response = getattr(client_for(user), method)(
            f"/api/v1/crm/{ids['org']}/" + path.format(**ids), payload, format="json"
        )
    if response.status_code >= 400:
        assert everything() == before, f"{actor} {method} {path} changed the database"
    return int(response.status_code)


READ = (401, 404, 200, 200, 200, 200)
READ_RESTRICTED = (401, 404, 200, 200, 404, 200)


def write_restricted(success: int) -> tuple[int, ...]:
    return (401, 404, 403, success, 404, success)


def configure(success: int) -> tuple[int, ...]:
    return (401, 404, 403, 403, 403, success)


PIPELINE = "pipelines/{secret}/"
DEAL = "deals/{deal}/"

MATRIX: list[tuple[str, str, Body, tuple[int, ...]]] = [
    # The board (crm/api/board.py).
    ("get", f"{PIPELINE}board/", None, READ_RESTRICTED),
    ("get", f"{PIPELINE}stages/{{new}}/deals/", None, READ_RESTRICTED),
    (
        "post",
        "deals/",
        lambda ids: {"pipeline_id": ids["secret"], "title": "Novo"},
        write_restricted(201),
    ),
    ("post", f"{DEAL}move/", lambda ids: {"stage_id": ids["qualified"]}, write_restricted(200)),
    # Pipelines and their configuration (crm/api/pipelines.py).
    ("get", "pipelines/", None, READ),
    ("post", "pipelines/", {"name": "Nova"}, configure(201)),
    ("get", PIPELINE, None, READ_RESTRICTED),
    ("patch", PIPELINE, {"name": "Segredo"}, configure(200)),
    ("delete", "pipelines/{sales}/", None, configure(204)),
    ("post", f"{PIPELINE}stages/", {"name": "Demo"}, configure(201)),
    ("patch", f"{PIPELINE}stages/{{new}}/", {"name": "Entrada"}, configure(200)),
    ("delete", f"{PIPELINE}stages/{{empty}}/", None, configure(204)),
    (
        "delete",
        f"{PIPELINE}stages/{{new}}/",
        lambda ids: {"move_to": ids["qualified"]},
        configure(204),
    ),
    (
        "post",
        f"{PIPELINE}stages/reorder/",
        lambda ids: {"stage_ids": ids["stages"]},
        configure(200),
    ),
    ("post", f"{PIPELINE}custom-fields/", {"label": "Plano", "kind": "text"}, configure(201)),
    ("patch", f"{PIPELINE}custom-fields/{{field}}/", {"label": "Porte"}, configure(200)),
    ("delete", f"{PIPELINE}custom-fields/{{field}}/", None, configure(204)),
    ("get", f"{PIPELINE}access/", None, configure(200)),
    (
        "put",
        f"{PIPELINE}access/",
        lambda ids: {"restricted": True, "user_ids": [ids["agent"]]},
        configure(200),
    ),
    ("get", "lost-reasons/", None, READ),
    ("post", "lost-reasons/", {"name": "Concorrente"}, configure(201)),
    ("patch", "lost-reasons/{reason}/", {"active": False}, configure(200)),
    ("delete", "lost-reasons/{unused_reason}/", None, configure(204)),
    ("get", "labels/", None, READ),
    ("post", "labels/", {"name": "Quente"}, (401, 404, 403, 201, 201, 201)),
    ("patch", "labels/{label}/", {"color": "#ff0000"}, configure(200)),
    ("delete", "labels/{label}/", None, configure(204)),
    ("get", "members/", None, READ),
    # Deals outside the board.
    ("get", "deals/", None, READ),
    ("get", DEAL, None, READ_RESTRICTED),
    ("patch", DEAL, {"title": "Renomeado"}, write_restricted(200)),
    ("delete", DEAL, None, write_restricted(204)),
    ("post", f"{DEAL}won/", {}, write_restricted(200)),
    ("post", f"{DEAL}lost/", lambda ids: {"reason_id": ids["reason"]}, write_restricted(200)),
    ("post", "deals/{lost_deal}/reopen/", {}, write_restricted(200)),
    ("get", f"{DEAL}timeline/", None, READ_RESTRICTED),
    ("post", f"{DEAL}notes/", {"body": "Ligou de volta"}, write_restricted(201)),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "expected"),
    MATRIX,
    ids=[f"{method} {path}" for method, path, _body, _expected in MATRIX],
)
def test_the_crm_permission_matrix(
    method: str, path: str, body: Body, expected: tuple[int, ...]
) -> None:
    got = tuple(call(actor, method, path, body) for actor in ACTORS)

    assert got == expected


def test_the_stranger_does_not_find_the_restricted_deals_in_the_list() -> None:
    built = build()
    org = built["ids"]["org"]

    def titles(actor: str) -> list[str]:
        response = client_for(built["people"][actor]).get(f"/api/v1/crm/{org}/deals/")
        return sorted(item["title"] for item in response.json()["results"])

    assert titles("stranger") == ["Open deal 1"]
    assert titles("agent") == ["Below 1", "Lost deal 1", "Open deal 1", "Secret deal 1"]
