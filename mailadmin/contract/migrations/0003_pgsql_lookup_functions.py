"""PostgreSQL: one SECURITY DEFINER lookup function per Postfix table (queries.py).

Each function wraps its table's view query, so that PL/pgSQL keeps one plan per proxymap
connection; no role may execute them until roles.sql grants it. MariaDB and SQLite keep
querying the views (docs/mail-stack.md), so nothing runs there. Backwards drops them.

The SQL is frozen here as files.lookup_functions_create_sql() wrote it when this migration was
added (54331d2), so that the migration does the same thing whatever queries.py says later.
"""

from django.db import migrations

# Generated once from files.lookup_functions_create_sql() at 54331d2; frozen.
FORWARD: dict[str, list[str]] = {
    "pgsql": [
        "CREATE OR REPLACE FUNCTION mailadmin_postfix_virtual_mailbox_domains_lookup(p_key text) RETURNS SETOF text LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public AS $$ BEGIN RETURN QUERY SELECT domain::text FROM mailadmin_postfix_domain WHERE domain = p_key AND kind = 'hosted'; END $$",
        "REVOKE ALL ON FUNCTION mailadmin_postfix_virtual_mailbox_domains_lookup(text) FROM PUBLIC",
        "CREATE OR REPLACE FUNCTION mailadmin_postfix_virtual_alias_domains_lookup(p_key text) RETURNS SETOF text LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public AS $$ BEGIN RETURN QUERY SELECT domain::text FROM mailadmin_postfix_domain WHERE domain = p_key AND kind = 'alias'; END $$",
        "REVOKE ALL ON FUNCTION mailadmin_postfix_virtual_alias_domains_lookup(text) FROM PUBLIC",
        "CREATE OR REPLACE FUNCTION mailadmin_postfix_relay_domains_lookup(p_key text) RETURNS SETOF text LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public AS $$ BEGIN RETURN QUERY SELECT domain::text FROM mailadmin_postfix_domain WHERE domain = p_key AND kind IN ('relay', 'backup'); END $$",
        "REVOKE ALL ON FUNCTION mailadmin_postfix_relay_domains_lookup(text) FROM PUBLIC",
        "CREATE OR REPLACE FUNCTION mailadmin_postfix_transport_maps_lookup(p_key text) RETURNS SETOF text LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public AS $$ BEGIN RETURN QUERY SELECT transport::text FROM mailadmin_postfix_domain WHERE domain = p_key AND transport <> ''; END $$",
        "REVOKE ALL ON FUNCTION mailadmin_postfix_transport_maps_lookup(text) FROM PUBLIC",
        "CREATE OR REPLACE FUNCTION mailadmin_postfix_virtual_mailbox_maps_lookup(p_domain text, p_local text) RETURNS SETOF text LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public AS $$ BEGIN RETURN QUERY SELECT maildir::text FROM mailadmin_postfix_mailbox WHERE domain = p_domain AND local_part = p_local; END $$",
        "REVOKE ALL ON FUNCTION mailadmin_postfix_virtual_mailbox_maps_lookup(text, text) FROM PUBLIC",
        "CREATE OR REPLACE FUNCTION mailadmin_postfix_virtual_uid_maps_lookup(p_domain text, p_local text) RETURNS SETOF text LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public AS $$ BEGIN RETURN QUERY SELECT uid::text FROM mailadmin_postfix_mailbox WHERE domain = p_domain AND local_part = p_local; END $$",
        "REVOKE ALL ON FUNCTION mailadmin_postfix_virtual_uid_maps_lookup(text, text) FROM PUBLIC",
        "CREATE OR REPLACE FUNCTION mailadmin_postfix_virtual_gid_maps_lookup(p_domain text, p_local text) RETURNS SETOF text LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public AS $$ BEGIN RETURN QUERY SELECT gid::text FROM mailadmin_postfix_mailbox WHERE domain = p_domain AND local_part = p_local; END $$",
        "REVOKE ALL ON FUNCTION mailadmin_postfix_virtual_gid_maps_lookup(text, text) FROM PUBLIC",
        "CREATE OR REPLACE FUNCTION mailadmin_postfix_virtual_alias_maps_lookup(p_domain text, p_local text) RETURNS SETOF text LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public AS $$ BEGIN RETURN QUERY SELECT destination::text FROM mailadmin_postfix_alias WHERE domain = p_domain AND local_part = p_local; END $$",
        "REVOKE ALL ON FUNCTION mailadmin_postfix_virtual_alias_maps_lookup(text, text) FROM PUBLIC",
        "CREATE OR REPLACE FUNCTION mailadmin_postfix_virtual_alias_catchall_maps_lookup(p_domain text, p_raw_key text) RETURNS SETOF text LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public AS $$ BEGIN RETURN QUERY SELECT destination::text FROM mailadmin_postfix_alias WHERE domain = p_domain AND local_part = '' AND substr(p_raw_key, 1, 1) = '@'; END $$",
        "REVOKE ALL ON FUNCTION mailadmin_postfix_virtual_alias_catchall_maps_lookup(text, text) FROM PUBLIC",
        "CREATE OR REPLACE FUNCTION mailadmin_postfix_smtpd_sender_login_maps_lookup(p_domain text, p_local text) RETURNS SETOF text LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public AS $$ BEGIN RETURN QUERY SELECT login::text FROM mailadmin_postfix_sender_login WHERE domain = p_domain AND local_part = p_local; END $$",
        "REVOKE ALL ON FUNCTION mailadmin_postfix_smtpd_sender_login_maps_lookup(text, text) FROM PUBLIC",
        "CREATE OR REPLACE FUNCTION mailadmin_postfix_recipient_access_lookup(p_domain text, p_local text) RETURNS SETOF text LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public AS $$ BEGIN RETURN QUERY SELECT action::text FROM mailadmin_postfix_recipient_access WHERE domain = p_domain AND local_part = p_local; END $$",
        "REVOKE ALL ON FUNCTION mailadmin_postfix_recipient_access_lookup(text, text) FROM PUBLIC",
    ],
    "mysql": [],
}

# files.lookup_functions_drop_sql() at 54331d2.
BACKWARD: dict[str, list[str]] = {
    "pgsql": [
        "DROP FUNCTION IF EXISTS mailadmin_postfix_virtual_mailbox_domains_lookup(text)",
        "DROP FUNCTION IF EXISTS mailadmin_postfix_virtual_alias_domains_lookup(text)",
        "DROP FUNCTION IF EXISTS mailadmin_postfix_relay_domains_lookup(text)",
        "DROP FUNCTION IF EXISTS mailadmin_postfix_transport_maps_lookup(text)",
        "DROP FUNCTION IF EXISTS mailadmin_postfix_virtual_mailbox_maps_lookup(text, text)",
        "DROP FUNCTION IF EXISTS mailadmin_postfix_virtual_uid_maps_lookup(text, text)",
        "DROP FUNCTION IF EXISTS mailadmin_postfix_virtual_gid_maps_lookup(text, text)",
        "DROP FUNCTION IF EXISTS mailadmin_postfix_virtual_alias_maps_lookup(text, text)",
        "DROP FUNCTION IF EXISTS mailadmin_postfix_virtual_alias_catchall_maps_lookup(text, text)",
        "DROP FUNCTION IF EXISTS mailadmin_postfix_smtpd_sender_login_maps_lookup(text, text)",
        "DROP FUNCTION IF EXISTS mailadmin_postfix_recipient_access_lookup(text, text)",
    ],
    "mysql": [],
}

_DIALECTS = {"postgresql": "pgsql", "mysql": "mysql"}


def _run(statements: dict[str, list[str]]):
    def run(apps, schema_editor):
        dialect = _DIALECTS.get(schema_editor.connection.vendor)
        if dialect is None:
            return  # SQLite, like MariaDB (no statements), keeps querying the views
        for statement in statements[dialect]:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    # MariaDB cannot roll DDL back; CREATE OR REPLACE makes the step safe to rerun.
    atomic = False

    dependencies = [
        # The functions read the views of 0001 and 0002 (PL/pgSQL resolves them at each call).
        ("contract", "0002_recipient_access"),
    ]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
