"""The four DDL steps of a snapshot import as functions that run as the schema's owner.

A snapshot's records are loaded into a table of their own, indexed, then attached as a
partition of verification_snapshotrecord, and dropped when replaced (feeds/services.py).
CREATE, ALTER ... ATTACH PARTITION and DROP need the owner of the table; the portal's
application role must not own anything (docs/deploy.md, "The database and its two
roles"). So these SECURITY DEFINER functions, owned by the role that migrates, do
exactly those steps for one snapshot id and nothing else: their only input is a
bigint, and the index columns are quoted as identifiers. A new table takes the
privileges its parent grants, so the application role can COPY into it.
"""

from django.db import migrations

SQL = """
CREATE FUNCTION aid_records_partition_create(snapshot bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    part text := 'verification_snapshotrecord_' || snapshot;
    grant_row record;
BEGIN
    EXECUTE format('DROP TABLE IF EXISTS %I', part);
    EXECUTE format(
        'CREATE TABLE %I (LIKE verification_snapshotrecord INCLUDING DEFAULTS)', part
    );
    EXECUTE format(
        'ALTER TABLE %I ALTER COLUMN snapshot_id SET DEFAULT %s, '
        'ADD CHECK (snapshot_id = %s)', part, snapshot, snapshot
    );
    FOR grant_row IN
        SELECT grantee, privilege_type FROM information_schema.role_table_grants
        WHERE table_schema = 'public' AND table_name = 'verification_snapshotrecord'
          AND privilege_type IN ('SELECT', 'INSERT', 'DELETE')
          AND grantee <> current_user
    LOOP
        EXECUTE format('GRANT %s ON %I TO %I', grant_row.privilege_type, part,
                       grant_row.grantee);
    END LOOP;
END;
$$;

CREATE FUNCTION aid_records_partition_index(snapshot bigint, names text[], columns text[])
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    part text := 'verification_snapshotrecord_' || snapshot;
    i integer;
BEGIN
    FOR i IN 1 .. coalesce(array_length(names, 1), 0) LOOP
        EXECUTE format(
            'CREATE INDEX %I ON %I (%s)', part || '_' || names[i], part,
            (SELECT string_agg(quote_ident(c), ', ')
             FROM unnest(string_to_array(columns[i], ',')) AS c)
        );
    END LOOP;
    EXECUTE format('ANALYZE %I', part);
END;
$$;

CREATE FUNCTION aid_records_partition_attach(snapshot bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    EXECUTE format(
        'ALTER TABLE verification_snapshotrecord ATTACH PARTITION %I FOR VALUES IN (%s)',
        'verification_snapshotrecord_' || snapshot, snapshot
    );
END;
$$;

CREATE FUNCTION aid_records_partition_drop(snapshot bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    EXECUTE format('DROP TABLE IF EXISTS %I', 'verification_snapshotrecord_' || snapshot);
END;
$$;

-- Only the roles the owner grants them to (aid_portal.dbroles) may call them.
REVOKE EXECUTE ON FUNCTION aid_records_partition_create(bigint) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION aid_records_partition_index(bigint, text[], text[]) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION aid_records_partition_attach(bigint) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION aid_records_partition_drop(bigint) FROM PUBLIC;
"""

REVERSE_SQL = """
DROP FUNCTION aid_records_partition_drop(bigint);
DROP FUNCTION aid_records_partition_attach(bigint);
DROP FUNCTION aid_records_partition_index(bigint, text[], text[]);
DROP FUNCTION aid_records_partition_create(bigint);
"""


class Migration(migrations.Migration):
    dependencies = [("verification", "0009_query_claimed_at")]

    operations = [migrations.RunSQL(SQL, REVERSE_SQL)]
