"""factory_boy builders of chat rows, for tests that need a room or a message as it is stored.

They write rows directly (no events, no notifications); tests of behaviour go through the
services (see helpers.py: ``send``).
"""

from __future__ import annotations

from typing import Any

import factory
from django.core.files.base import ContentFile

from accounts.tests.factories import OrganizationFactory, UserFactory
from chat import markup
from chat.models import (
    Attachment,
    AttachmentKind,
    Message,
    Reaction,
    Room,
    RoomKind,
    RoomMember,
    RoomRole,
)


class RoomFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Room

    organization = factory.SubFactory(OrganizationFactory)
    kind = RoomKind.CHANNEL
    name = factory.Sequence(lambda n: f"channel-{n}")


class RoomMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RoomMember

    room = factory.SubFactory(RoomFactory)
    user = factory.SubFactory(UserFactory)
    role = RoomRole.MEMBER


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    room = factory.SubFactory(RoomFactory)
    organization = factory.LazyAttribute(lambda message: message.room.organization)
    author = factory.SubFactory(UserFactory)
    body = factory.Sequence(lambda n: f"message {n}")
    html = factory.LazyAttribute(lambda message: markup.render(message.body, names={}))


class ReactionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Reaction

    message = factory.SubFactory(MessageFactory)
    user = factory.SubFactory(UserFactory)
    emoji = "thumbsup"


def _file(attachment: Any) -> ContentFile[bytes]:
    return ContentFile(b"%PDF-1.4 test", name=attachment.name)


class AttachmentFactory(factory.django.DjangoModelFactory):
    """An uploaded file (not yet sent unless ``message`` is given).

    Tests that create these should point ``settings.PRIVATE_MEDIA_ROOT`` at ``tmp_path``.
    """

    class Meta:
        model = Attachment

    room = factory.SubFactory(RoomFactory)
    organization = factory.LazyAttribute(lambda attachment: attachment.room.organization)
    uploaded_by = factory.SubFactory(UserFactory)
    kind = AttachmentKind.FILE
    name = "notes.pdf"
    content_type = "application/pdf"
    size = 13
    file = factory.LazyAttribute(_file)
