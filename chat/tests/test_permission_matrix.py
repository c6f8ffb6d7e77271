"""Who may use which rooms-and-messages endpoint.

The world: a public channel owned by the org admin, with an agent, a viewer and the author
of one message as members. Anonymous callers get 401; another organization's people get 404
as if nothing existed; viewers read but write nothing (403); only the author edits; the
author or an org admin deletes; channel settings are the owner's and the org admin's.
"""

from __future__ import annotations

from typing import Any

import pytest

from chat.models import RoomKind
from chat.tests.helpers import channel, client_for, direct, member, send, team

pytestmark = pytest.mark.django_db

ACTORS = ("anonymous", "outsider", "viewer", "agent", "admin", "author")


def build() -> dict[str, Any]:
    world = team()
    room = channel(
        world.organization,
        owner=world.admin,
        members=[world.agent, world.viewer, world.agent2],
        name="geral",
    )
    message = send(room, world.agent2, "hello")
    return {
        "world": world,
        "people": {
            "anonymous": None,
            "outsider": world.outsider,
            "viewer": world.viewer,
            "agent": world.agent,
            "admin": world.admin,
            "author": world.agent2,
        },
        "ids": {
            "org": world.organization.pk,
            "room": room.pk,
            "message": message.pk,
            "admin": world.admin.pk,
            "agent": world.agent.pk,
            "viewer": world.viewer.pk,
            "newcomer": member(world.organization).pk,
        },
    }


def fill(value: Any, ids: dict[str, int]) -> Any:
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, list):
        return [fill(item, ids) for item in value]
    if isinstance(value, dict):
        return {key: fill(item, ids) for key, item in value.items()}
    return value


def call(actor: str, method: str, url: str, body: Any) -> int:
    built = build()
    client = client_for(built["people"][actor])
    ids = {name: str(pk) for name, pk in built["ids"].items()}
    body = fill(body, ids)
    if isinstance(body, dict) and "user_ids" in body:
        body["user_ids"] = [int(pk) for pk in body["user_ids"]]
    response = getattr(client, method)(fill(url, ids), body, format="json")
    return int(response.status_code)


ORG = "/api/v1/organizations/{org}/chat"
ROOM = "/api/v1/chat/rooms/{room}"
MESSAGE = "/api/v1/chat/messages/{message}"

MATRIX: list[tuple[str, str, Any, tuple[int, ...]]] = [
    # method, url, body, expected status for each actor in ACTORS order
    ("get", f"{ORG}/rooms/", None, (401, 404, 200, 200, 200, 200)),
    ("post", f"{ORG}/rooms/", {"kind": "channel", "name": "new"}, (401, 404, 403, 201, 201, 201)),
    ("get", f"{ORG}/channels/", None, (401, 404, 200, 200, 200, 200)),
    (
        "post",
        f"{ORG}/direct/",
        {"user_ids": ["{admin}", "{agent}"]},
        (401, 404, 403, 201, 201, 201),
    ),
    ("get", f"{ORG}/people/", None, (401, 404, 200, 200, 200, 200)),
    ("get", f"{ROOM}/", None, (401, 404, 200, 200, 200, 200)),
    ("patch", f"{ROOM}/", {"topic": "t"}, (401, 404, 403, 403, 200, 403)),
    ("post", f"{ROOM}/archive/", None, (401, 404, 403, 403, 200, 403)),
    ("post", f"{ROOM}/unarchive/", None, (401, 404, 403, 403, 200, 403)),
    ("post", f"{ROOM}/join/", None, (401, 404, 200, 200, 200, 200)),
    ("post", f"{ROOM}/leave/", None, (401, 404, 204, 204, 204, 204)),
    ("post", f"{ROOM}/members/", {"user_ids": ["{newcomer}"]}, (401, 404, 403, 200, 200, 200)),
    ("patch", f"{ROOM}/members/{{agent}}/", {"role": "admin"}, (401, 404, 403, 403, 200, 403)),
    # The viewer removing themselves is leaving.
    ("delete", f"{ROOM}/members/{{viewer}}/", None, (401, 404, 204, 403, 204, 403)),
    ("post", f"{ROOM}/read/", {}, (401, 404, 200, 200, 200, 200)),
    ("patch", f"{ROOM}/preferences/", {"notify": "mentions"}, (401, 404, 200, 200, 200, 200)),
    ("get", f"{ROOM}/messages/", None, (401, 404, 200, 200, 200, 200)),
    ("post", f"{ROOM}/messages/", {"body": "hi"}, (401, 404, 403, 201, 201, 201)),
    ("get", f"{ROOM}/pins/", None, (401, 404, 200, 200, 200, 200)),
    ("get", f"{MESSAGE}/", None, (401, 404, 200, 200, 200, 200)),
    ("patch", f"{MESSAGE}/", {"body": "edited"}, (401, 404, 403, 403, 403, 200)),
    ("delete", f"{MESSAGE}/", None, (401, 404, 403, 403, 200, 200)),
    ("get", f"{MESSAGE}/replies/", None, (401, 404, 200, 200, 200, 200)),
    ("post", f"{MESSAGE}/reactions/", {"emoji": "tada"}, (401, 404, 403, 200, 200, 200)),
    ("delete", f"{MESSAGE}/reactions/tada/", None, (401, 404, 403, 200, 200, 200)),
    ("post", f"{MESSAGE}/pin/", None, (401, 404, 403, 200, 200, 200)),
    ("delete", f"{MESSAGE}/pin/", None, (401, 404, 403, 200, 200, 200)),
]


@pytest.mark.parametrize(("method", "url", "body", "expected"), MATRIX)
def test_the_chat_permission_matrix(
    method: str, url: str, body: Any, expected: tuple[int, ...]
) -> None:
    got = tuple(call(actor, method, url, body) for actor in ACTORS)

    assert got == expected


PRIVATE_URLS = [
    ("get", f"{ROOM}/"),
    ("get", f"{ROOM}/messages/"),
    ("post", f"{ROOM}/messages/"),
    ("post", f"{ROOM}/join/"),
    ("post", f"{ROOM}/read/"),
    ("get", f"{ROOM}/pins/"),
    ("get", f"{MESSAGE}/"),
    ("post", f"{MESSAGE}/reactions/"),
    ("delete", f"{MESSAGE}/"),
]


@pytest.mark.parametrize("kind", ["private", "direct"])
@pytest.mark.parametrize(("method", "url"), PRIVATE_URLS)
def test_private_rooms_and_dms_are_invisible_to_non_members_even_org_admins(
    kind: str, method: str, url: str
) -> None:
    world = team()
    if kind == "private":
        room = channel(
            world.organization, owner=world.agent, members=[world.agent2], kind=RoomKind.PRIVATE
        )
    else:
        room = direct(world.organization, world.agent, world.agent2)
    message = send(room, world.agent, "secret")
    filled = url.format(room=room.pk, message=message.pk)
    body: dict[str, Any] | None = None
    if method == "post":
        body = {"emoji": "tada"} if "reactions" in url else {"body": "x"}
    if url.endswith("read/") or url.endswith("join/"):
        body = {}
    statuses = {
        name: getattr(client_for(user), method)(filled, body, format="json").status_code
        for name, user in (
            ("admin", world.admin),
            ("viewer", world.viewer),
            ("outsider", world.outsider),
        )
    }

    assert statuses == {"admin": 404, "viewer": 404, "outsider": 404}
    message.refresh_from_db()
    assert message.deleted_at is None
