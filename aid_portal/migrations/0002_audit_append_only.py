"""PostgreSQL itself refuses UPDATE and DELETE on the audit log.

A plain trigger rather than a library's (django-pgtrigger's protection can be lifted
by a session variable): only someone who can ALTER the table could get around it. In
production the application's role neither owns the schema nor holds TRUNCATE on this
table (docs/deploy.md); TRUNCATE is left to privileges because the test runner
empties tables with it between transactional tests.
"""

from django.db import migrations

SQL = """
CREATE FUNCTION aid_portal_audit_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER audit_no_update_or_delete
    BEFORE UPDATE OR DELETE ON aid_portal_auditevent
    FOR EACH ROW EXECUTE FUNCTION aid_portal_audit_append_only();
"""

REVERSE_SQL = """
DROP TRIGGER audit_no_update_or_delete ON aid_portal_auditevent;
DROP FUNCTION aid_portal_audit_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("aid_portal", "0001_initial")]

    operations = [migrations.RunSQL(SQL, REVERSE_SQL)]
