"""Domain states: disabled domains stay ours and refuse, U-labels, role addresses, relay lists.

- mailadmin_postfix_domain lists every domain and alias domain, with two new columns: active,
  and unicode_domain (the folded U-label an SMTPUTF8 client sends, domains 0010).
- mailadmin_postfix_recipient_access refuses every address of a disabled domain or alias
  domain ("550 5.2.1 Domain disabled"), for every client.
- mailadmin_postfix_alias answers postmaster@ and abuse@ of every hosted domain that has no
  mailbox, alias or catch-all for them with the server's postmaster address.
- mailadmin_postfix_relay_recipient (new) backs relay_recipient_maps (domains 0009).
- PostgreSQL: every lookup function maps a U-label to its A-label; relay_recipient_maps gets
  one. Run roles.sql again after this migration (docs/operators.md).

The SQL is frozen here as it was written, so that this migration does the same thing
whatever views_v1.py and files.py say later. SQLite creates its views after every migrate
(mailadmin/contract/sqlite_views.py), so nothing runs there.
"""

from django.db import migrations

# Generated once from views_v1.create_sql() and files.lookup_functions_create_sql(); frozen.
FORWARD: dict[str, list[str]] = {
    "pgsql": [
        """CREATE OR REPLACE VIEW mailadmin_postfix_domain AS
SELECT d.name AS domain, d.delivery AS kind, d.transport AS transport, d.active AS active,
       d.unicode_key AS unicode_domain
  FROM domains_domain d
UNION ALL
SELECT ad.name, 'alias', '', ad.active AND d.active, ad.unicode_key
  FROM domains_aliasdomain ad
  JOIN domains_domain d ON d.id = ad.target_id
 WHERE d.delivery = 'hosted'""",
        """CREATE OR REPLACE VIEW mailadmin_postfix_alias AS
SELECT a.local_part AS local_part, d.name AS domain, t.address AS destination
  FROM mailboxes_alias a
  JOIN domains_domain d ON d.id = a.domain_id
  JOIN mailboxes_aliasdestination t ON t.alias_id = a.id
 WHERE a.active AND d.active AND d.delivery = 'hosted'
UNION ALL
SELECT m.local_part, d.name, m.local_part || '@' || d.name
  FROM mailboxes_mailbox m
  JOIN domains_domain d ON d.id = m.domain_id
 WHERE d.active AND d.delivery = 'hosted'
   AND NOT EXISTS (SELECT 1 FROM mailboxes_alias a
                    WHERE a.domain_id = m.domain_id AND a.local_part = m.local_part AND a.active)
UNION ALL
SELECT m.local_part, ad.name, m.local_part || '@' || d.name
  FROM domains_aliasdomain ad
  JOIN domains_domain d ON d.id = ad.target_id
  JOIN mailboxes_mailbox m ON m.domain_id = d.id
 WHERE ad.active AND d.active AND d.delivery = 'hosted'
UNION ALL
SELECT a.local_part, ad.name, a.local_part || '@' || d.name
  FROM domains_aliasdomain ad
  JOIN domains_domain d ON d.id = ad.target_id
  JOIN mailboxes_alias a ON a.domain_id = d.id
 WHERE ad.active AND d.active AND d.delivery = 'hosted' AND a.active AND a.local_part <> ''
   AND NOT EXISTS (SELECT 1 FROM mailboxes_mailbox m
                    WHERE m.domain_id = a.domain_id AND m.local_part = a.local_part)
UNION ALL
SELECT '', ad.name, '@' || d.name
  FROM domains_aliasdomain ad
  JOIN domains_domain d ON d.id = ad.target_id
 WHERE ad.active AND d.active AND d.delivery = 'hosted'
   AND EXISTS (SELECT 1 FROM mailboxes_alias a
                WHERE a.domain_id = d.id AND a.local_part = '' AND a.active)
UNION ALL
SELECT 'postmaster', d.name, s.postmaster_address
  FROM domains_domain d
  JOIN domains_serversettings s ON s.id = 1
 WHERE d.active AND d.delivery = 'hosted'
   AND s.postmaster_address <> ''
   AND NOT EXISTS (SELECT 1 FROM mailboxes_mailbox m
                    WHERE m.domain_id = d.id AND m.local_part = 'postmaster')
   AND NOT EXISTS (SELECT 1 FROM mailboxes_alias a
                    WHERE a.domain_id = d.id AND a.local_part IN ('postmaster', '') AND a.active)
UNION ALL
SELECT 'postmaster', ad.name, s.postmaster_address
  FROM domains_aliasdomain ad
  JOIN domains_domain d ON d.id = ad.target_id
  JOIN domains_serversettings s ON s.id = 1
 WHERE ad.active AND d.active AND d.delivery = 'hosted'
   AND s.postmaster_address <> ''
   AND NOT EXISTS (SELECT 1 FROM mailboxes_mailbox m
                    WHERE m.domain_id = d.id AND m.local_part = 'postmaster')
   AND NOT EXISTS (SELECT 1 FROM mailboxes_alias a
                    WHERE a.domain_id = d.id AND a.local_part IN ('postmaster', '') AND a.active)
UNION ALL
SELECT 'abuse', d.name, s.postmaster_address
  FROM domains_domain d
  JOIN domains_serversettings s ON s.id = 1
 WHERE d.active AND d.delivery = 'hosted'
   AND s.postmaster_address <> ''
   AND NOT EXISTS (SELECT 1 FROM mailboxes_mailbox m
                    WHERE m.domain_id = d.id AND m.local_part = 'abuse')
   AND NOT EXISTS (SELECT 1 FROM mailboxes_alias a
                    WHERE a.domain_id = d.id AND a.local_part IN ('abuse', '') AND a.active)
UNION ALL
SELECT 'abuse', ad.name, s.postmaster_address
  FROM domains_aliasdomain ad
  JOIN domains_domain d ON d.id = ad.target_id
  JOIN domains_serversettings s ON s.id = 1
 WHERE ad.active AND d.active AND d.delivery = 'hosted'
   AND s.postmaster_address <> ''
   AND NOT EXISTS (SELECT 1 FROM mailboxes_mailbox m
                    WHERE m.domain_id = d.id AND m.local_part = 'abuse')
   AND NOT EXISTS (SELECT 1 FROM mailboxes_alias a
                    WHERE a.domain_id = d.id AND a.local_part IN ('abuse', '') AND a.active)""",
        """CREATE OR REPLACE VIEW mailadmin_postfix_recipient_access AS
SELECT m.local_part AS local_part, d.name AS domain, '550 5.2.1 Mailbox disabled' AS action
  FROM mailboxes_mailbox m
  JOIN domains_domain d ON d.id = m.domain_id
 WHERE NOT m.active AND d.active AND d.delivery = 'hosted'
   AND NOT EXISTS (SELECT 1 FROM mailboxes_alias a
                    WHERE a.domain_id = m.domain_id AND a.local_part = m.local_part AND a.active)
UNION ALL
SELECT m.local_part, ad.name, '550 5.2.1 Mailbox disabled'
  FROM domains_aliasdomain ad
  JOIN domains_domain d ON d.id = ad.target_id
  JOIN mailboxes_mailbox m ON m.domain_id = d.id
 WHERE ad.active AND NOT m.active AND d.active AND d.delivery = 'hosted'
   AND NOT EXISTS (SELECT 1 FROM mailboxes_alias a WHERE a.domain_id = m.domain_id
                      AND a.local_part = m.local_part AND a.active)
UNION ALL
SELECT CAST('' AS varchar(64)), d.name, '550 5.2.1 Domain disabled'
  FROM domains_domain d
 WHERE NOT d.active
UNION ALL
SELECT CAST('' AS varchar(64)), ad.name, '550 5.2.1 Domain disabled'
  FROM domains_aliasdomain ad
  JOIN domains_domain d ON d.id = ad.target_id
 WHERE NOT (ad.active AND d.active)""",
        """CREATE OR REPLACE VIEW mailadmin_postfix_relay_recipient AS
SELECT r.local_part AS local_part, d.name AS domain
  FROM domains_relayrecipient r
  JOIN domains_domain d ON d.id = r.domain_id
 WHERE d.active AND d.delivery IN ('relay', 'backup')
UNION ALL
SELECT '', d.name
  FROM domains_domain d
 WHERE d.active AND d.delivery IN ('relay', 'backup') AND d.relay_accept_any""",
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
    ],
    "mysql": [
        """CREATE OR REPLACE SQL SECURITY DEFINER VIEW mailadmin_postfix_domain AS
SELECT d.name AS domain, d.delivery AS kind, d.transport AS transport, d.active AS active,
       d.unicode_key AS unicode_domain
  FROM domains_domain d
UNION ALL
SELECT ad.name, 'alias', '', ad.active AND d.active, ad.unicode_key
  FROM domains_aliasdomain ad
  JOIN domains_domain d ON d.id = ad.target_id
 WHERE d.delivery = 'hosted'""",
        """CREATE OR REPLACE SQL SECURITY DEFINER VIEW mailadmin_postfix_alias AS
SELECT a.local_part AS local_part, d.name AS domain, t.address AS destination
  FROM mailboxes_alias a
  JOIN domains_domain d ON d.id = a.domain_id
  JOIN mailboxes_aliasdestination t ON t.alias_id = a.id
 WHERE a.active AND d.active AND d.delivery = 'hosted'
UNION ALL
SELECT m.local_part, d.name, CONCAT(m.local_part, '@', d.name)
  FROM mailboxes_mailbox m
  JOIN domains_domain d ON d.id = m.domain_id
 WHERE d.active AND d.delivery = 'hosted'
   AND NOT EXISTS (SELECT 1 FROM mailboxes_alias a
                    WHERE a.domain_id = m.domain_id AND a.local_part = m.local_part AND a.active)
UNION ALL
SELECT m.local_part, ad.name, CONCAT(m.local_part, '@', d.name)
  FROM domains_aliasdomain ad
  JOIN domains_domain d ON d.id = ad.target_id
  JOIN mailboxes_mailbox m ON m.domain_id = d.id
 WHERE ad.active AND d.active AND d.delivery = 'hosted'
UNION ALL
SELECT a.local_part, ad.name, CONCAT(a.local_part, '@', d.name)
  FROM domains_aliasdomain ad
  JOIN domains_domain d ON d.id = ad.target_id
  JOIN mailboxes_alias a ON a.domain_id = d.id
 WHERE ad.active AND d.active AND d.delivery = 'hosted' AND a.active AND a.local_part <> ''
   AND NOT EXISTS (SELECT 1 FROM mailboxes_mailbox m
                    WHERE m.domain_id = a.domain_id AND m.local_part = a.local_part)
UNION ALL
SELECT '', ad.name, CONCAT('@', d.name)
  FROM domains_aliasdomain ad
  JOIN domains_domain d ON d.id = ad.target_id
 WHERE ad.active AND d.active AND d.delivery = 'hosted'
   AND EXISTS (SELECT 1 FROM mailboxes_alias a
                WHERE a.domain_id = d.id AND a.local_part = '' AND a.active)
UNION ALL
SELECT 'postmaster', d.name, s.postmaster_address
  FROM domains_domain d
  JOIN domains_serversettings s ON s.id = 1
 WHERE d.active AND d.delivery = 'hosted'
   AND s.postmaster_address <> ''
   AND NOT EXISTS (SELECT 1 FROM mailboxes_mailbox m
                    WHERE m.domain_id = d.id AND m.local_part = 'postmaster')
   AND NOT EXISTS (SELECT 1 FROM mailboxes_alias a
                    WHERE a.domain_id = d.id AND a.local_part IN ('postmaster', '') AND a.active)
UNION ALL
SELECT 'postmaster', ad.name, s.postmaster_address
  FROM domains_aliasdomain ad
  JOIN domains_domain d ON d.id = ad.target_id
  JOIN domains_serversettings s ON s.id = 1
 WHERE ad.active AND d.active AND d.delivery = 'hosted'
   AND s.postmaster_address <> ''
   AND NOT EXISTS (SELECT 1 FROM mailboxes_mailbox m
                    WHERE m.domain_id = d.id AND m.local_part = 'postmaster')
   AND NOT EXISTS (SELECT 1 FROM mailboxes_alias a
                    WHERE a.domain_id = d.id AND a.local_part IN ('postmaster', '') AND a.active)
UNION ALL
SELECT 'abuse', d.name, s.postmaster_address
  FROM domains_domain d
  JOIN domains_serversettings s ON s.id = 1
 WHERE d.active AND d.delivery = 'hosted'
   AND s.postmaster_address <> ''
   AND NOT EXISTS (SELECT 1 FROM mailboxes_mailbox m
                    WHERE m.domain_id = d.id AND m.local_part = 'abuse')
   AND NOT EXISTS (SELECT 1 FROM mailboxes_alias a
                    WHERE a.domain_id = d.id AND a.local_part IN ('abuse', '') AND a.active)
UNION ALL
SELECT 'abuse', ad.name, s.postmaster_address
  FROM domains_aliasdomain ad
  JOIN domains_domain d ON d.id = ad.target_id
  JOIN domains_serversettings s ON s.id = 1
 WHERE ad.active AND d.active AND d.delivery = 'hosted'
   AND s.postmaster_address <> ''
   AND NOT EXISTS (SELECT 1 FROM mailboxes_mailbox m
                    WHERE m.domain_id = d.id AND m.local_part = 'abuse')
   AND NOT EXISTS (SELECT 1 FROM mailboxes_alias a
                    WHERE a.domain_id = d.id AND a.local_part IN ('abuse', '') AND a.active)""",
        """CREATE OR REPLACE SQL SECURITY DEFINER VIEW mailadmin_postfix_recipient_access AS
SELECT m.local_part AS local_part, d.name AS domain, '550 5.2.1 Mailbox disabled' AS action
  FROM mailboxes_mailbox m
  JOIN domains_domain d ON d.id = m.domain_id
 WHERE NOT m.active AND d.active AND d.delivery = 'hosted'
   AND NOT EXISTS (SELECT 1 FROM mailboxes_alias a
                    WHERE a.domain_id = m.domain_id AND a.local_part = m.local_part AND a.active)
UNION ALL
SELECT m.local_part, ad.name, '550 5.2.1 Mailbox disabled'
  FROM domains_aliasdomain ad
  JOIN domains_domain d ON d.id = ad.target_id
  JOIN mailboxes_mailbox m ON m.domain_id = d.id
 WHERE ad.active AND NOT m.active AND d.active AND d.delivery = 'hosted'
   AND NOT EXISTS (SELECT 1 FROM mailboxes_alias a WHERE a.domain_id = m.domain_id
                      AND a.local_part = m.local_part AND a.active)
UNION ALL
SELECT '', d.name, '550 5.2.1 Domain disabled'
  FROM domains_domain d
 WHERE NOT d.active
UNION ALL
SELECT '', ad.name, '550 5.2.1 Domain disabled'
  FROM domains_aliasdomain ad
  JOIN domains_domain d ON d.id = ad.target_id
 WHERE NOT (ad.active AND d.active)""",
        """CREATE OR REPLACE SQL SECURITY DEFINER VIEW mailadmin_postfix_relay_recipient AS
SELECT r.local_part AS local_part, d.name AS domain
  FROM domains_relayrecipient r
  JOIN domains_domain d ON d.id = r.domain_id
 WHERE d.active AND d.delivery IN ('relay', 'backup')
UNION ALL
SELECT '', d.name
  FROM domains_domain d
 WHERE d.active AND d.delivery IN ('relay', 'backup') AND d.relay_accept_any""",
    ],
}

# The views and functions of 0004, as they were (for migrating back).
BACKWARD: dict[str, list[str]] = {
    "pgsql": [
        "DROP FUNCTION IF EXISTS mailadmin_postfix_relay_recipient_maps_lookup(text, text)",
        "DROP VIEW IF EXISTS mailadmin_postfix_relay_recipient",
        "DROP VIEW IF EXISTS mailadmin_postfix_domain",
        "DROP VIEW IF EXISTS mailadmin_postfix_alias",
        "DROP VIEW IF EXISTS mailadmin_postfix_recipient_access",
        """CREATE OR REPLACE VIEW mailadmin_postfix_domain AS
SELECT d.name AS domain, d.delivery AS kind, d.transport AS transport
  FROM domains_domain d
 WHERE d.active
UNION ALL
SELECT ad.name, 'alias', ''
  FROM domains_aliasdomain ad
  JOIN domains_domain d ON d.id = ad.target_id
 WHERE ad.active AND d.active AND d.delivery = 'hosted'""",
        """CREATE OR REPLACE VIEW mailadmin_postfix_alias AS
SELECT a.local_part AS local_part, d.name AS domain, t.address AS destination
  FROM mailboxes_alias a
  JOIN domains_domain d ON d.id = a.domain_id
  JOIN mailboxes_aliasdestination t ON t.alias_id = a.id
 WHERE a.active AND d.active AND d.delivery = 'hosted'
UNION ALL
SELECT m.local_part, d.name, m.local_part || '@' || d.name
  FROM mailboxes_mailbox m
  JOIN domains_domain d ON d.id = m.domain_id
 WHERE d.active AND d.delivery = 'hosted'
   AND NOT EXISTS (SELECT 1 FROM mailboxes_alias a
                    WHERE a.domain_id = m.domain_id AND a.local_part = m.local_part AND a.active)
UNION ALL
SELECT m.local_part, ad.name, m.local_part || '@' || d.name
  FROM domains_aliasdomain ad
  JOIN domains_domain d ON d.id = ad.target_id
  JOIN mailboxes_mailbox m ON m.domain_id = d.id
 WHERE ad.active AND d.active AND d.delivery = 'hosted'
UNION ALL
SELECT a.local_part, ad.name, a.local_part || '@' || d.name
  FROM domains_aliasdomain ad
  JOIN domains_domain d ON d.id = ad.target_id
  JOIN mailboxes_alias a ON a.domain_id = d.id
 WHERE ad.active AND d.active AND d.delivery = 'hosted' AND a.active AND a.local_part <> ''
   AND NOT EXISTS (SELECT 1 FROM mailboxes_mailbox m
                    WHERE m.domain_id = a.domain_id AND m.local_part = a.local_part)
UNION ALL
SELECT '', ad.name, '@' || d.name
  FROM domains_aliasdomain ad
  JOIN domains_domain d ON d.id = ad.target_id
 WHERE ad.active AND d.active AND d.delivery = 'hosted'
   AND EXISTS (SELECT 1 FROM mailboxes_alias a
                WHERE a.domain_id = d.id AND a.local_part = '' AND a.active)""",
        """CREATE OR REPLACE VIEW mailadmin_postfix_recipient_access AS
SELECT m.local_part AS local_part, d.name AS domain, '550 5.2.1 Mailbox disabled' AS action
  FROM mailboxes_mailbox m
  JOIN domains_domain d ON d.id = m.domain_id
 WHERE NOT m.active AND d.active AND d.delivery = 'hosted'
   AND NOT EXISTS (SELECT 1 FROM mailboxes_alias a
                    WHERE a.domain_id = m.domain_id AND a.local_part = m.local_part AND a.active)
UNION ALL
SELECT m.local_part, ad.name, '550 5.2.1 Mailbox disabled'
  FROM domains_aliasdomain ad
  JOIN domains_domain d ON d.id = ad.target_id
  JOIN mailboxes_mailbox m ON m.domain_id = d.id
 WHERE ad.active AND NOT m.active AND d.active AND d.delivery = 'hosted'
   AND NOT EXISTS (SELECT 1 FROM mailboxes_alias a WHERE a.domain_id = m.domain_id
                      AND a.local_part = m.local_part AND a.active)""",
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
    "mysql": [
        "DROP VIEW IF EXISTS mailadmin_postfix_relay_recipient",
        """CREATE OR REPLACE SQL SECURITY DEFINER VIEW mailadmin_postfix_domain AS
SELECT d.name AS domain, d.delivery AS kind, d.transport AS transport
  FROM domains_domain d
 WHERE d.active
UNION ALL
SELECT ad.name, 'alias', ''
  FROM domains_aliasdomain ad
  JOIN domains_domain d ON d.id = ad.target_id
 WHERE ad.active AND d.active AND d.delivery = 'hosted'""",
        """CREATE OR REPLACE SQL SECURITY DEFINER VIEW mailadmin_postfix_alias AS
SELECT a.local_part AS local_part, d.name AS domain, t.address AS destination
  FROM mailboxes_alias a
  JOIN domains_domain d ON d.id = a.domain_id
  JOIN mailboxes_aliasdestination t ON t.alias_id = a.id
 WHERE a.active AND d.active AND d.delivery = 'hosted'
UNION ALL
SELECT m.local_part, d.name, CONCAT(m.local_part, '@', d.name)
  FROM mailboxes_mailbox m
  JOIN domains_domain d ON d.id = m.domain_id
 WHERE d.active AND d.delivery = 'hosted'
   AND NOT EXISTS (SELECT 1 FROM mailboxes_alias a
                    WHERE a.domain_id = m.domain_id AND a.local_part = m.local_part AND a.active)
UNION ALL
SELECT m.local_part, ad.name, CONCAT(m.local_part, '@', d.name)
  FROM domains_aliasdomain ad
  JOIN domains_domain d ON d.id = ad.target_id
  JOIN mailboxes_mailbox m ON m.domain_id = d.id
 WHERE ad.active AND d.active AND d.delivery = 'hosted'
UNION ALL
SELECT a.local_part, ad.name, CONCAT(a.local_part, '@', d.name)
  FROM domains_aliasdomain ad
  JOIN domains_domain d ON d.id = ad.target_id
  JOIN mailboxes_alias a ON a.domain_id = d.id
 WHERE ad.active AND d.active AND d.delivery = 'hosted' AND a.active AND a.local_part <> ''
   AND NOT EXISTS (SELECT 1 FROM mailboxes_mailbox m
                    WHERE m.domain_id = a.domain_id AND m.local_part = a.local_part)
UNION ALL
SELECT '', ad.name, CONCAT('@', d.name)
  FROM domains_aliasdomain ad
  JOIN domains_domain d ON d.id = ad.target_id
 WHERE ad.active AND d.active AND d.delivery = 'hosted'
   AND EXISTS (SELECT 1 FROM mailboxes_alias a
                WHERE a.domain_id = d.id AND a.local_part = '' AND a.active)""",
        """CREATE OR REPLACE SQL SECURITY DEFINER VIEW mailadmin_postfix_recipient_access AS
SELECT m.local_part AS local_part, d.name AS domain, '550 5.2.1 Mailbox disabled' AS action
  FROM mailboxes_mailbox m
  JOIN domains_domain d ON d.id = m.domain_id
 WHERE NOT m.active AND d.active AND d.delivery = 'hosted'
   AND NOT EXISTS (SELECT 1 FROM mailboxes_alias a
                    WHERE a.domain_id = m.domain_id AND a.local_part = m.local_part AND a.active)
UNION ALL
SELECT m.local_part, ad.name, '550 5.2.1 Mailbox disabled'
  FROM domains_aliasdomain ad
  JOIN domains_domain d ON d.id = ad.target_id
  JOIN mailboxes_mailbox m ON m.domain_id = d.id
 WHERE ad.active AND NOT m.active AND d.active AND d.delivery = 'hosted'
   AND NOT EXISTS (SELECT 1 FROM mailboxes_alias a WHERE a.domain_id = m.domain_id
                      AND a.local_part = m.local_part AND a.active)""",
    ],
}

_DIALECTS = {"postgresql": "pgsql", "mysql": "mysql"}


def _run(statements: dict[str, list[str]]):
    def run(apps, schema_editor):
        dialect = _DIALECTS.get(schema_editor.connection.vendor)
        if dialect is None:
            return  # SQLite: see mailadmin/contract/sqlite_views.py
        for statement in statements[dialect]:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    # MariaDB cannot roll DDL back; CREATE OR REPLACE makes the step safe to rerun.
    atomic = False

    dependencies = [
        ("contract", "0004_forwarding_grants_no_sender_login"),
        ("domains", "0010_unicode_keys_postmaster"),
    ]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
