"""Make transfers append-only in the database itself (PostgreSQL).

The ledger only ever inserts transfers; a correction is a new, reversing transfer. The
trigger refuses UPDATE and DELETE from anywhere (a stray query, a shell), so a balance can
always be recomputed from the rows. SQLite, the embedded default, is left without it, as for
the audit trail: test databases there are emptied row by row between tests.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION wallet_transfer_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'wallet_transfer is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER wallet_transfer_append_only
    BEFORE UPDATE OR DELETE ON wallet_transfer
    FOR EACH ROW EXECUTE FUNCTION wallet_transfer_refuse_change();
"""
DROP = """
DROP TRIGGER IF EXISTS wallet_transfer_append_only ON wallet_transfer;
DROP FUNCTION IF EXISTS wallet_transfer_refuse_change();
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        # params=None: the SQL has a literal %, which must not be read as a placeholder.
        schema_editor.execute(CREATE, params=None)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("wallet", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
