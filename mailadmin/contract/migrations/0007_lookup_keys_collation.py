"""Every PostgreSQL lookup function compares its keys in the collation of the columns.

The exported queries pass each key through convert_from(convert_to(key, 'LATIN1'), 'UTF8')
(Postfix 3.7's pgsql client declares LATIN1), and that expression is of collation "C": the
functions' parameters took it, their comparisons ran in "C", which the indexes (built in the
database's collation) cannot answer, and every lookup read whole tables (5 to 19 ms a lookup
at a million mailboxes, L5 in docs/benchmarks.md). The bodies now name COLLATE "default" on
every parameter. Same signatures, same answers: the exported files need no new export.

The SQL is frozen here as it was written (queries.lookup_functions_create_sql() on the day);
SQLite and MariaDB have no lookup functions, so nothing runs there.
"""

from django.db import migrations

FORWARD = [
    'CREATE OR REPLACE FUNCTION mailadmin_postfix_virtual_mailbox_domains_lookup(p_key text) RETURNS SETOF text LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public AS $$ BEGIN RETURN QUERY SELECT domain::text FROM mailadmin_postfix_domain WHERE domain = COALESCE((SELECT u.domain FROM mailadmin_postfix_domain u WHERE u.unicode_domain = (p_key COLLATE "default")), (p_key COLLATE "default")) AND kind = \'hosted\'; END $$',
    "REVOKE ALL ON FUNCTION mailadmin_postfix_virtual_mailbox_domains_lookup(text) FROM PUBLIC",
    'CREATE OR REPLACE FUNCTION mailadmin_postfix_virtual_alias_domains_lookup(p_key text) RETURNS SETOF text LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public AS $$ BEGIN RETURN QUERY SELECT domain::text FROM mailadmin_postfix_domain WHERE domain = COALESCE((SELECT u.domain FROM mailadmin_postfix_domain u WHERE u.unicode_domain = (p_key COLLATE "default")), (p_key COLLATE "default")) AND kind = \'alias\'; END $$',
    "REVOKE ALL ON FUNCTION mailadmin_postfix_virtual_alias_domains_lookup(text) FROM PUBLIC",
    "CREATE OR REPLACE FUNCTION mailadmin_postfix_relay_domains_lookup(p_key text) RETURNS SETOF text LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public AS $$ BEGIN RETURN QUERY SELECT domain::text FROM mailadmin_postfix_domain WHERE domain = COALESCE((SELECT u.domain FROM mailadmin_postfix_domain u WHERE u.unicode_domain = (p_key COLLATE \"default\")), (p_key COLLATE \"default\")) AND kind IN ('relay', 'backup'); END $$",
    "REVOKE ALL ON FUNCTION mailadmin_postfix_relay_domains_lookup(text) FROM PUBLIC",
    'CREATE OR REPLACE FUNCTION mailadmin_postfix_transport_maps_lookup(p_key text) RETURNS SETOF text LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public AS $$ BEGIN RETURN QUERY SELECT transport::text FROM mailadmin_postfix_domain WHERE domain = COALESCE((SELECT u.domain FROM mailadmin_postfix_domain u WHERE u.unicode_domain = (p_key COLLATE "default")), (p_key COLLATE "default")) AND transport <> \'\'; END $$',
    "REVOKE ALL ON FUNCTION mailadmin_postfix_transport_maps_lookup(text) FROM PUBLIC",
    'CREATE OR REPLACE FUNCTION mailadmin_postfix_virtual_mailbox_maps_lookup(p_domain text, p_local text) RETURNS SETOF text LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public AS $$ BEGIN RETURN QUERY SELECT maildir::text FROM mailadmin_postfix_mailbox WHERE domain = COALESCE((SELECT u.domain FROM mailadmin_postfix_domain u WHERE u.unicode_domain = (p_domain COLLATE "default")), (p_domain COLLATE "default")) AND local_part = (p_local COLLATE "default"); END $$',
    "REVOKE ALL ON FUNCTION mailadmin_postfix_virtual_mailbox_maps_lookup(text, text) FROM PUBLIC",
    'CREATE OR REPLACE FUNCTION mailadmin_postfix_virtual_uid_maps_lookup(p_domain text, p_local text) RETURNS SETOF text LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public AS $$ BEGIN RETURN QUERY SELECT uid::text FROM mailadmin_postfix_mailbox WHERE domain = COALESCE((SELECT u.domain FROM mailadmin_postfix_domain u WHERE u.unicode_domain = (p_domain COLLATE "default")), (p_domain COLLATE "default")) AND local_part = (p_local COLLATE "default"); END $$',
    "REVOKE ALL ON FUNCTION mailadmin_postfix_virtual_uid_maps_lookup(text, text) FROM PUBLIC",
    'CREATE OR REPLACE FUNCTION mailadmin_postfix_virtual_gid_maps_lookup(p_domain text, p_local text) RETURNS SETOF text LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public AS $$ BEGIN RETURN QUERY SELECT gid::text FROM mailadmin_postfix_mailbox WHERE domain = COALESCE((SELECT u.domain FROM mailadmin_postfix_domain u WHERE u.unicode_domain = (p_domain COLLATE "default")), (p_domain COLLATE "default")) AND local_part = (p_local COLLATE "default"); END $$',
    "REVOKE ALL ON FUNCTION mailadmin_postfix_virtual_gid_maps_lookup(text, text) FROM PUBLIC",
    'CREATE OR REPLACE FUNCTION mailadmin_postfix_virtual_alias_maps_lookup(p_domain text, p_local text) RETURNS SETOF text LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public AS $$ BEGIN RETURN QUERY SELECT destination::text FROM mailadmin_postfix_alias WHERE domain = COALESCE((SELECT u.domain FROM mailadmin_postfix_domain u WHERE u.unicode_domain = (p_domain COLLATE "default")), (p_domain COLLATE "default")) AND local_part = (p_local COLLATE "default"); END $$',
    "REVOKE ALL ON FUNCTION mailadmin_postfix_virtual_alias_maps_lookup(text, text) FROM PUBLIC",
    'CREATE OR REPLACE FUNCTION mailadmin_postfix_virtual_alias_catchall_maps_lookup(p_domain text, p_raw_key text) RETURNS SETOF text LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public AS $$ BEGIN RETURN QUERY SELECT destination::text FROM mailadmin_postfix_alias WHERE domain = COALESCE((SELECT u.domain FROM mailadmin_postfix_domain u WHERE u.unicode_domain = (p_domain COLLATE "default")), (p_domain COLLATE "default")) AND local_part = \'\' AND substr((p_raw_key COLLATE "default"), 1, 1) = \'@\'; END $$',
    "REVOKE ALL ON FUNCTION mailadmin_postfix_virtual_alias_catchall_maps_lookup(text, text) FROM PUBLIC",
    'CREATE OR REPLACE FUNCTION mailadmin_postfix_smtpd_sender_login_maps_lookup(p_domain text, p_local text) RETURNS SETOF text LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public AS $$ BEGIN RETURN QUERY SELECT login::text FROM mailadmin_postfix_sender_login WHERE domain = COALESCE((SELECT u.domain FROM mailadmin_postfix_domain u WHERE u.unicode_domain = (p_domain COLLATE "default")), (p_domain COLLATE "default")) AND local_part = (p_local COLLATE "default"); END $$',
    "REVOKE ALL ON FUNCTION mailadmin_postfix_smtpd_sender_login_maps_lookup(text, text) FROM PUBLIC",
    'CREATE OR REPLACE FUNCTION mailadmin_postfix_recipient_access_lookup(p_domain text, p_local text) RETURNS SETOF text LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public AS $$ BEGIN RETURN QUERY SELECT action::text FROM mailadmin_postfix_recipient_access WHERE domain = COALESCE((SELECT u.domain FROM mailadmin_postfix_domain u WHERE u.unicode_domain = (p_domain COLLATE "default")), (p_domain COLLATE "default")) AND local_part IN ((p_local COLLATE "default"), \'\'); END $$',
    "REVOKE ALL ON FUNCTION mailadmin_postfix_recipient_access_lookup(text, text) FROM PUBLIC",
    'CREATE OR REPLACE FUNCTION mailadmin_postfix_relay_recipient_maps_lookup(p_domain text, p_local text) RETURNS SETOF text LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public AS $$ BEGIN RETURN QUERY SELECT domain::text FROM mailadmin_postfix_relay_recipient WHERE domain = COALESCE((SELECT u.domain FROM mailadmin_postfix_domain u WHERE u.unicode_domain = (p_domain COLLATE "default")), (p_domain COLLATE "default")) AND local_part IN ((p_local COLLATE "default"), \'\'); END $$',
    "REVOKE ALL ON FUNCTION mailadmin_postfix_relay_recipient_maps_lookup(text, text) FROM PUBLIC",
]

# The functions of 0005, as they were (for migrating back).
BACKWARD = [
    "CREATE OR REPLACE FUNCTION mailadmin_postfix_virtual_mailbox_domains_lookup(p_key text) RETURNS SETOF text LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public AS $$ BEGIN RETURN QUERY SELECT domain::text FROM mailadmin_postfix_domain WHERE domain = COALESCE((SELECT u.domain FROM mailadmin_postfix_domain u WHERE u.unicode_domain = p_key), p_key) AND kind = 'hosted'; END $$",
    "REVOKE ALL ON FUNCTION mailadmin_postfix_virtual_mailbox_domains_lookup(text) FROM PUBLIC",
    "CREATE OR REPLACE FUNCTION mailadmin_postfix_virtual_alias_domains_lookup(p_key text) RETURNS SETOF text LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public AS $$ BEGIN RETURN QUERY SELECT domain::text FROM mailadmin_postfix_domain WHERE domain = COALESCE((SELECT u.domain FROM mailadmin_postfix_domain u WHERE u.unicode_domain = p_key), p_key) AND kind = 'alias'; END $$",
    "REVOKE ALL ON FUNCTION mailadmin_postfix_virtual_alias_domains_lookup(text) FROM PUBLIC",
    "CREATE OR REPLACE FUNCTION mailadmin_postfix_relay_domains_lookup(p_key text) RETURNS SETOF text LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public AS $$ BEGIN RETURN QUERY SELECT domain::text FROM mailadmin_postfix_domain WHERE domain = COALESCE((SELECT u.domain FROM mailadmin_postfix_domain u WHERE u.unicode_domain = p_key), p_key) AND kind IN ('relay', 'backup'); END $$",
    "REVOKE ALL ON FUNCTION mailadmin_postfix_relay_domains_lookup(text) FROM PUBLIC",
    "CREATE OR REPLACE FUNCTION mailadmin_postfix_transport_maps_lookup(p_key text) RETURNS SETOF text LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public AS $$ BEGIN RETURN QUERY SELECT transport::text FROM mailadmin_postfix_domain WHERE domain = COALESCE((SELECT u.domain FROM mailadmin_postfix_domain u WHERE u.unicode_domain = p_key), p_key) AND transport <> ''; END $$",
    "REVOKE ALL ON FUNCTION mailadmin_postfix_transport_maps_lookup(text) FROM PUBLIC",
    "CREATE OR REPLACE FUNCTION mailadmin_postfix_virtual_mailbox_maps_lookup(p_domain text, p_local text) RETURNS SETOF text LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public AS $$ BEGIN RETURN QUERY SELECT maildir::text FROM mailadmin_postfix_mailbox WHERE domain = COALESCE((SELECT u.domain FROM mailadmin_postfix_domain u WHERE u.unicode_domain = p_domain), p_domain) AND local_part = p_local; END $$",
    "REVOKE ALL ON FUNCTION mailadmin_postfix_virtual_mailbox_maps_lookup(text, text) FROM PUBLIC",
    "CREATE OR REPLACE FUNCTION mailadmin_postfix_virtual_uid_maps_lookup(p_domain text, p_local text) RETURNS SETOF text LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public AS $$ BEGIN RETURN QUERY SELECT uid::text FROM mailadmin_postfix_mailbox WHERE domain = COALESCE((SELECT u.domain FROM mailadmin_postfix_domain u WHERE u.unicode_domain = p_domain), p_domain) AND local_part = p_local; END $$",
    "REVOKE ALL ON FUNCTION mailadmin_postfix_virtual_uid_maps_lookup(text, text) FROM PUBLIC",
    "CREATE OR REPLACE FUNCTION mailadmin_postfix_virtual_gid_maps_lookup(p_domain text, p_local text) RETURNS SETOF text LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public AS $$ BEGIN RETURN QUERY SELECT gid::text FROM mailadmin_postfix_mailbox WHERE domain = COALESCE((SELECT u.domain FROM mailadmin_postfix_domain u WHERE u.unicode_domain = p_domain), p_domain) AND local_part = p_local; END $$",
    "REVOKE ALL ON FUNCTION mailadmin_postfix_virtual_gid_maps_lookup(text, text) FROM PUBLIC",
    "CREATE OR REPLACE FUNCTION mailadmin_postfix_virtual_alias_maps_lookup(p_domain text, p_local text) RETURNS SETOF text LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public AS $$ BEGIN RETURN QUERY SELECT destination::text FROM mailadmin_postfix_alias WHERE domain = COALESCE((SELECT u.domain FROM mailadmin_postfix_domain u WHERE u.unicode_domain = p_domain), p_domain) AND local_part = p_local; END $$",
    "REVOKE ALL ON FUNCTION mailadmin_postfix_virtual_alias_maps_lookup(text, text) FROM PUBLIC",
    "CREATE OR REPLACE FUNCTION mailadmin_postfix_virtual_alias_catchall_maps_lookup(p_domain text, p_raw_key text) RETURNS SETOF text LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public AS $$ BEGIN RETURN QUERY SELECT destination::text FROM mailadmin_postfix_alias WHERE domain = COALESCE((SELECT u.domain FROM mailadmin_postfix_domain u WHERE u.unicode_domain = p_domain), p_domain) AND local_part = '' AND substr(p_raw_key, 1, 1) = '@'; END $$",
    "REVOKE ALL ON FUNCTION mailadmin_postfix_virtual_alias_catchall_maps_lookup(text, text) FROM PUBLIC",
    "CREATE OR REPLACE FUNCTION mailadmin_postfix_smtpd_sender_login_maps_lookup(p_domain text, p_local text) RETURNS SETOF text LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public AS $$ BEGIN RETURN QUERY SELECT login::text FROM mailadmin_postfix_sender_login WHERE domain = COALESCE((SELECT u.domain FROM mailadmin_postfix_domain u WHERE u.unicode_domain = p_domain), p_domain) AND local_part = p_local; END $$",
    "REVOKE ALL ON FUNCTION mailadmin_postfix_smtpd_sender_login_maps_lookup(text, text) FROM PUBLIC",
    "CREATE OR REPLACE FUNCTION mailadmin_postfix_recipient_access_lookup(p_domain text, p_local text) RETURNS SETOF text LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public AS $$ BEGIN RETURN QUERY SELECT action::text FROM mailadmin_postfix_recipient_access WHERE domain = COALESCE((SELECT u.domain FROM mailadmin_postfix_domain u WHERE u.unicode_domain = p_domain), p_domain) AND local_part IN (p_local, ''); END $$",
    "REVOKE ALL ON FUNCTION mailadmin_postfix_recipient_access_lookup(text, text) FROM PUBLIC",
    "CREATE OR REPLACE FUNCTION mailadmin_postfix_relay_recipient_maps_lookup(p_domain text, p_local text) RETURNS SETOF text LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public AS $$ BEGIN RETURN QUERY SELECT domain::text FROM mailadmin_postfix_relay_recipient WHERE domain = COALESCE((SELECT u.domain FROM mailadmin_postfix_domain u WHERE u.unicode_domain = p_domain), p_domain) AND local_part IN (p_local, ''); END $$",
    "REVOKE ALL ON FUNCTION mailadmin_postfix_relay_recipient_maps_lookup(text, text) FROM PUBLIC",
]


def _run(statements: list[str]):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("contract", "0006_dovecot_delivery")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
