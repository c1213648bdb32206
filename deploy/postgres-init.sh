#!/bin/sh
# Run once by the postgres image on an empty data folder: the two roles and the
# database of docs/deploy.md ("The database and its two roles").
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" <<SQL
CREATE ROLE aid_owner LOGIN PASSWORD '$AID_OWNER_PASSWORD';
CREATE ROLE aid_app   LOGIN PASSWORD '$AID_APP_PASSWORD';
CREATE DATABASE aid_portal OWNER aid_owner ENCODING 'UTF8' TEMPLATE template0;
\connect aid_portal
ALTER SCHEMA public OWNER TO aid_owner;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO aid_app;
ALTER DEFAULT PRIVILEGES FOR ROLE aid_owner IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO aid_app;
ALTER DEFAULT PRIVILEGES FOR ROLE aid_owner IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO aid_app;
SQL
