"""The application's database role: what it may do, granted by the schema's owner.

The portal runs as a role that owns nothing (docs/deploy.md, "The database and its two
roles"): it reads and writes rows, calls the functions the owner provides for the DDL
a snapshot import needs (migration verification/0010), and nothing more. It cannot
TRUNCATE, DROP or ALTER anything, and cannot UPDATE or DELETE audit rows or their
seals. ``app_role_grant`` is run by the owner after every migration (new tables need
their grants); ``manage.py grant_app_role <role>`` does the same on a server, and the
launcher does it for the embedded PostgreSQL.
"""

from __future__ import annotations

from django.db import connections, transaction
from psycopg2 import sql

# Tables whose rows, once written, never change: the application role may only add.
APPEND_ONLY = ("aid_portal_auditevent", "aid_portal_auditseal")

_GRANTS = [
    "GRANT USAGE ON SCHEMA public TO {role}",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
    "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
    "GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO {role}",
    # The REVOKE comes after the GRANT above, which would give UPDATE and DELETE back.
    "REVOKE UPDATE, DELETE, TRUNCATE ON {append_only} FROM {role}",
    "REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA public FROM {role}",
]


def app_role_grant(role: str, *, using: str = "default") -> None:
    """Give ``role`` what the portal needs and no more. Safe to run again."""
    connection = connections[using]
    with transaction.atomic(using=using), connection.cursor() as cursor:
        for statement in _GRANTS:
            cursor.execute(
                sql.SQL(statement)
                .format(
                    role=sql.Identifier(role),
                    append_only=sql.SQL(", ").join(map(sql.Identifier, APPEND_ONLY)),
                )
                .as_string(cursor.connection)
            )
