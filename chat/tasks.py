"""Chat tasks: they take ids, call one service, and may run twice without harm."""

from __future__ import annotations
