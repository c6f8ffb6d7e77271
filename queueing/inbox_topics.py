"""Placeholder: replaced by the helper that owns this module."""


def register() -> None:
    return None
