"""Model fields shared by several apps. No business rules live here."""

from __future__ import annotations

from typing import Any

from django.db import models


class BytewiseCharField(models.CharField):
    """A CharField whose values sort byte by byte in the database, as Python sorts them.

    Fractional-index keys ("Zz" < "a0" < "a0V" < "a1") only keep their order
    under a bytewise collation. PostgreSQL's default collation is linguistic (case-insensitive
    at the first level), so the column gets ``COLLATE "C"``. SQLite's default (BINARY) already
    compares bytes and has no collation named "C", so it gets none.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.pop("db_collation", None)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("db_collation", None)
        return name, path, args, kwargs

    def db_parameters(self, connection: Any) -> dict[str, Any]:
        parameters = super().db_parameters(connection)
        parameters["collation"] = "C" if connection.vendor == "postgresql" else None
        return parameters
