"""A Portuguese full-text index on message bodies, on PostgreSQL only.

SQLite has no full-text configuration of this kind; search there falls back to a plain
substring match (chat.selectors), so the index is simply not created.
"""

from django.db import migrations

INDEX = "chat_message_body_search"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON chat_message "
        "USING gin (to_tsvector('portuguese'::regconfig, COALESCE(body, '')))"
    )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("chat", "0001_initial")]

    operations = [migrations.RunPython(create_index, drop_index)]
