"""The alias and sender-login lookups probe their branches in order and stop at the first hit.

Their PostgreSQL functions ran the whole multi-branch view for every key (~350 µs a lookup on
PostfixAdmin's layout at 100k mailboxes, where PostfixAdmin's own query takes ~150: L7 in
docs/benchmarks.md). The new bodies (probes.py on the day) find the key's domain and probe an
alias, a mailbox, an alias domain's rewrite and the role fallback in turn, each through a
unique index. Same signatures and answers: the exported files need no new export.

Frozen here as queries.lookup_functions_create_sql() wrote them; BACKWARD restores 0007's
bodies. SQLite and MariaDB have no lookup functions, so nothing runs there.
"""

from django.db import migrations

FORWARD = [
    "CREATE OR REPLACE FUNCTION mailadmin_postfix_virtual_alias_maps_lookup(p_domain text, p_local text) RETURNS SETOF text LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public AS $$\nDECLARE\n  -- A local variable takes the collation of the call's arguments unless it names one, and\n  -- the exported call's keys are of collation \"C\", which no index answers (L5).\n  k_domain text COLLATE \"default\" := p_domain;\n  k_local text COLLATE \"default\" := p_local;\n  v_domain_id bigint;\n  v_domain text;\n  v_ok boolean;\n  v_via text;\n  v_alias_id bigint;\n  v_active boolean;\n  v_postmaster text;\nBEGIN\n  SELECT d.id, d.name, d.active AND d.delivery = 'hosted'\n    INTO v_domain_id, v_domain, v_ok\n    FROM domains_domain d WHERE d.name = k_domain;\n  IF NOT FOUND THEN\n    SELECT d.id, d.name, ad.active AND d.active AND d.delivery = 'hosted', ad.name\n      INTO v_domain_id, v_domain, v_ok, v_via\n      FROM domains_aliasdomain ad JOIN domains_domain d ON d.id = ad.target_id\n     WHERE ad.name = k_domain;\n  END IF;\n  IF NOT FOUND THEN\n    SELECT d.id, d.name, d.active AND d.delivery = 'hosted'\n      INTO v_domain_id, v_domain, v_ok\n      FROM domains_domain d WHERE d.unicode_key = k_domain;\n  END IF;\n  IF NOT FOUND THEN\n    SELECT d.id, d.name, ad.active AND d.active AND d.delivery = 'hosted', ad.name\n      INTO v_domain_id, v_domain, v_ok, v_via\n      FROM domains_aliasdomain ad JOIN domains_domain d ON d.id = ad.target_id\n     WHERE ad.unicode_key = k_domain;\n  END IF;\n  IF NOT FOUND OR NOT v_ok THEN\n    RETURN;\n  END IF;\n  SELECT a.id INTO v_alias_id FROM mailboxes_alias a\n   WHERE a.domain_id = v_domain_id AND a.local_part = k_local AND a.active;\n  IF v_via IS NULL THEN\n    -- A hosted domain: its alias (catch-all included), else the mailbox answering for itself.\n    IF FOUND THEN\n      RETURN QUERY SELECT t.address::text FROM mailboxes_aliasdestination t\n                    WHERE t.alias_id = v_alias_id;\n      RETURN;\n    END IF;\n    PERFORM 1 FROM mailboxes_mailbox m\n      WHERE m.domain_id = v_domain_id AND m.local_part = k_local;\n    IF FOUND THEN\n      RETURN NEXT k_local || '@' || v_domain;\n      RETURN;\n    END IF;\n  ELSE\n    -- An alias domain rewrites the target's existing addresses, and its catch-all key to\n    -- the target's catch-all.\n    IF k_local = '' THEN\n      IF FOUND THEN\n        RETURN NEXT '@' || v_domain;\n      END IF;\n      RETURN;\n    END IF;\n    PERFORM 1 FROM mailboxes_mailbox m\n      WHERE m.domain_id = v_domain_id AND m.local_part = k_local;\n    IF FOUND OR v_alias_id IS NOT NULL THEN\n      RETURN NEXT k_local || '@' || v_domain;\n      RETURN;\n    END IF;\n  END IF;\n  IF k_local IN ('postmaster', 'abuse') AND NOT EXISTS (\n       SELECT 1 FROM mailboxes_alias a\n        WHERE a.domain_id = v_domain_id AND a.local_part = '' AND a.active) THEN\n    SELECT s.postmaster_address INTO v_postmaster FROM domains_serversettings s WHERE s.id = 1;\n    IF v_postmaster <> '' THEN\n      RETURN NEXT v_postmaster;\n    END IF;\n  END IF;\n  RETURN;\nEND$$",
    "REVOKE ALL ON FUNCTION mailadmin_postfix_virtual_alias_maps_lookup(text, text) FROM PUBLIC",
    "CREATE OR REPLACE FUNCTION mailadmin_postfix_smtpd_sender_login_maps_lookup(p_domain text, p_local text) RETURNS SETOF text LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public AS $$\nDECLARE\n  -- A local variable takes the collation of the call's arguments unless it names one, and\n  -- the exported call's keys are of collation \"C\", which no index answers (L5).\n  k_domain text COLLATE \"default\" := p_domain;\n  k_local text COLLATE \"default\" := p_local;\n  v_domain_id bigint;\n  v_domain text;\n  v_ok boolean;\n  v_via text;\n  v_alias_id bigint;\n  v_active boolean;\n  v_postmaster text;\nBEGIN\n  SELECT d.id, d.name, d.active AND d.delivery = 'hosted'\n    INTO v_domain_id, v_domain, v_ok\n    FROM domains_domain d WHERE d.name = k_domain;\n  IF NOT FOUND THEN\n    SELECT d.id, d.name, ad.active AND d.active AND d.delivery = 'hosted', ad.name\n      INTO v_domain_id, v_domain, v_ok, v_via\n      FROM domains_aliasdomain ad JOIN domains_domain d ON d.id = ad.target_id\n     WHERE ad.name = k_domain;\n  END IF;\n  IF NOT FOUND THEN\n    SELECT d.id, d.name, d.active AND d.delivery = 'hosted'\n      INTO v_domain_id, v_domain, v_ok\n      FROM domains_domain d WHERE d.unicode_key = k_domain;\n  END IF;\n  IF NOT FOUND THEN\n    SELECT d.id, d.name, ad.active AND d.active AND d.delivery = 'hosted', ad.name\n      INTO v_domain_id, v_domain, v_ok, v_via\n      FROM domains_aliasdomain ad JOIN domains_domain d ON d.id = ad.target_id\n     WHERE ad.unicode_key = k_domain;\n  END IF;\n  IF NOT FOUND OR NOT v_ok THEN\n    RETURN;\n  END IF;\n  -- A mailbox sends as itself (an alias on its own address grants nothing) ...\n  SELECT m.active INTO v_active FROM mailboxes_mailbox m\n   WHERE m.domain_id = v_domain_id AND m.local_part = k_local;\n  IF FOUND THEN\n    IF v_active THEN\n      RETURN NEXT k_local || '@' || v_domain;\n    END IF;\n    RETURN;\n  END IF;\n  -- ... and the mailboxes an alias delivers to send as the alias.\n  IF k_local <> '' THEN\n    RETURN QUERY SELECT t.address::text\n                   FROM mailboxes_alias a JOIN mailboxes_aliasdestination t ON t.alias_id = a.id\n                  WHERE a.domain_id = v_domain_id AND a.local_part = k_local AND a.active;\n  END IF;\n  RETURN;\nEND$$",
    "REVOKE ALL ON FUNCTION mailadmin_postfix_smtpd_sender_login_maps_lookup(text, text) FROM PUBLIC",
]

# The two functions of 0007, as they were (for migrating back).
BACKWARD = [
    'CREATE OR REPLACE FUNCTION mailadmin_postfix_virtual_alias_maps_lookup(p_domain text, p_local text) RETURNS SETOF text LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public AS $$ BEGIN RETURN QUERY SELECT destination::text FROM mailadmin_postfix_alias WHERE domain = COALESCE((SELECT u.domain FROM mailadmin_postfix_domain u WHERE u.unicode_domain = (p_domain COLLATE "default")), (p_domain COLLATE "default")) AND local_part = (p_local COLLATE "default"); END $$',
    "REVOKE ALL ON FUNCTION mailadmin_postfix_virtual_alias_maps_lookup(text, text) FROM PUBLIC",
    'CREATE OR REPLACE FUNCTION mailadmin_postfix_smtpd_sender_login_maps_lookup(p_domain text, p_local text) RETURNS SETOF text LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public AS $$ BEGIN RETURN QUERY SELECT login::text FROM mailadmin_postfix_sender_login WHERE domain = COALESCE((SELECT u.domain FROM mailadmin_postfix_domain u WHERE u.unicode_domain = (p_domain COLLATE "default")), (p_domain COLLATE "default")) AND local_part = (p_local COLLATE "default"); END $$',
    "REVOKE ALL ON FUNCTION mailadmin_postfix_smtpd_sender_login_maps_lookup(text, text) FROM PUBLIC",
]


def _run(statements: list[str]):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("contract", "0008_quota_usage_follows_renames")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
