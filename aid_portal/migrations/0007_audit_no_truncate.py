"""PostgreSQL refuses TRUNCATE of the audit log and its seals, except to their owner.

TRUNCATE fires no row trigger, so migration 0002's does not stop it; the application's
role lacks the privilege (aid_portal.dbroles), and this trigger refuses it even to a
role that was granted it by mistake. The owner (who could drop the trigger anyway) and
superusers pass: the test runner empties every table with TRUNCATE between tests.
"""

from django.db import migrations

SQL = """
CREATE FUNCTION aid_portal_audit_no_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
       AND NOT pg_has_role(current_user,
                           (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'USAGE')
    THEN
        RAISE EXCEPTION 'the audit log is append-only: TRUNCATE refused'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON aid_portal_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION aid_portal_audit_no_truncate();
CREATE TRIGGER audit_seal_no_truncate BEFORE TRUNCATE ON aid_portal_auditseal
    FOR EACH STATEMENT EXECUTE FUNCTION aid_portal_audit_no_truncate();
"""

REVERSE_SQL = """
DROP TRIGGER audit_seal_no_truncate ON aid_portal_auditseal;
DROP TRIGGER audit_no_truncate ON aid_portal_auditevent;
DROP FUNCTION aid_portal_audit_no_truncate();
"""


class Migration(migrations.Migration):
    dependencies = [("aid_portal", "0006_export_jobs")]

    operations = [migrations.RunSQL(SQL, REVERSE_SQL)]
