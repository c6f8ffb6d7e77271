"""The topic registry: which topics exist, who may subscribe, and which group carries them.

Apps register their topics from ``AppConfig.ready()``::

    register_topic("accounts.organization", check=can_follow_organization)

A client then subscribes to ``accounts.organization.42``; the consumer asks the check with
the user and ``"42"`` (in a worker thread, so it may query the database) and, when allowed,
joins the group of the same name. A refused topic and an unknown topic get the same answer,
so a refusal never tells whether the object exists.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# Group names for the channel layer: letters, digits, '.', '-', '_' and under 100 characters.
_KEY = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
_PREFIX = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")

Check = Callable[[Any, str], bool]


@dataclass(frozen=True)
class Topic:
    prefix: str
    check: Check

    def group(self, key: str) -> str:
        return f"{self.prefix}.{key}"


_topics: dict[str, Topic] = {}


def register_topic(prefix: str, *, check: Check) -> None:
    """Register ``<prefix>.<key>`` topics; ``check(user, key)`` says who may follow one."""
    if not _PREFIX.match(prefix):
        raise ValueError(f"Topic prefix {prefix!r} must look like 'app.entity'.")
    if prefix in _topics and _topics[prefix].check is not check:
        raise ValueError(f"Topic prefix {prefix!r} is already registered.")
    _topics[prefix] = Topic(prefix=prefix, check=check)


def resolve(topic: str) -> tuple[Topic, str] | None:
    """Split ``topic`` into its registered Topic and key, or None if it is not one."""
    if not isinstance(topic, str) or len(topic) > 90:
        return None
    prefix, _, key = topic.rpartition(".")
    registered = _topics.get(prefix)
    if registered is None or not _KEY.match(key):
        return None
    return registered, key


def user_group(user_id: int) -> str:
    """Every connected socket of a user is in this group (notifications, call invites)."""
    return f"user.{user_id}"
