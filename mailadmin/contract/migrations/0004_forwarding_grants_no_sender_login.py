"""Forwarding grants no sender login: mailadmin_postfix_sender_login no longer lets the
destinations of an alias on a mailbox's own address send as the mailbox.

Re-creates every view as views_v1.py stood when this migration was added (877ceb2); only
mailadmin_postfix_sender_login's text differs from 0002's, and its columns stay the same.
Backwards gives that view 0002's text again.

The SQL is frozen here as it was written, so that this migration does the same thing
whatever views_v1.py says later.

SQLite creates its views after every migrate from the live views_v1.py
(mailadmin/contract/sqlite_views.py), so nothing runs there.
"""

from django.db import migrations

# Generated once from views_v1.create_sql() at 877ceb2; frozen.
FORWARD: dict[str, list[str]] = {
    "pgsql": [
        """CREATE OR REPLACE VIEW mailadmin_postfix_domain AS
SELECT d.name AS domain, d.delivery AS kind, d.transport AS transport
  FROM domains_domain d
 WHERE d.active
UNION ALL
SELECT ad.name, 'alias', ''
  FROM domains_aliasdomain ad
  JOIN domains_domain d ON d.id = ad.target_id
 WHERE ad.active AND d.active AND d.delivery = 'hosted'""",
        """CREATE OR REPLACE VIEW mailadmin_postfix_mailbox AS
SELECT m.local_part AS local_part, d.name AS domain, m.path AS maildir,
       COALESCE(m.uid, d.uid, s.default_uid) AS uid,
       COALESCE(m.gid, d.gid, s.default_gid) AS gid
  FROM mailboxes_mailbox m
  JOIN domains_domain d ON d.id = m.domain_id
  LEFT JOIN domains_serversettings s ON s.id = 1
 WHERE m.active AND d.active AND d.delivery = 'hosted'""",
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
        """CREATE OR REPLACE VIEW mailadmin_postfix_sender_login AS
SELECT m.local_part AS local_part, d.name AS domain, m.local_part || '@' || d.name AS login
  FROM mailboxes_mailbox m
  JOIN domains_domain d ON d.id = m.domain_id
 WHERE m.active AND d.active AND d.delivery = 'hosted'
UNION ALL
SELECT a.local_part, d.name, t.address
  FROM mailboxes_alias a
  JOIN domains_domain d ON d.id = a.domain_id
  JOIN mailboxes_aliasdestination t ON t.alias_id = a.id
 WHERE a.active AND a.local_part <> '' AND d.active AND d.delivery = 'hosted'
   AND NOT EXISTS (SELECT 1 FROM mailboxes_mailbox m
                    WHERE m.domain_id = a.domain_id AND m.local_part = a.local_part)
UNION ALL
SELECT m.local_part, ad.name, m.local_part || '@' || d.name
  FROM domains_aliasdomain ad
  JOIN domains_domain d ON d.id = ad.target_id
  JOIN mailboxes_mailbox m ON m.domain_id = d.id
 WHERE ad.active AND m.active AND d.active AND d.delivery = 'hosted'
UNION ALL
SELECT a.local_part, ad.name, t.address
  FROM domains_aliasdomain ad
  JOIN domains_domain d ON d.id = ad.target_id
  JOIN mailboxes_alias a ON a.domain_id = d.id
  JOIN mailboxes_aliasdestination t ON t.alias_id = a.id
 WHERE ad.active AND a.active AND a.local_part <> '' AND d.active AND d.delivery = 'hosted'
   AND NOT EXISTS (SELECT 1 FROM mailboxes_mailbox m
                    WHERE m.domain_id = a.domain_id AND m.local_part = a.local_part)""",
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
        """CREATE OR REPLACE VIEW mailadmin_dovecot_userdb AS
SELECT m.local_part || '@' || d.name AS username, m.local_part AS local_part, d.name AS domain,
       d.name || '/' || m.local_part AS home, m.path AS maildir, m.format AS format,
       COALESCE(m.uid, d.uid, s.default_uid) AS uid,
       COALESCE(m.gid, d.gid, s.default_gid) AS gid,
       m.quota AS quota_bytes
  FROM mailboxes_mailbox m
  JOIN domains_domain d ON d.id = m.domain_id
  LEFT JOIN domains_serversettings s ON s.id = 1
 WHERE m.active AND d.active AND d.delivery = 'hosted'""",
        """CREATE OR REPLACE VIEW mailadmin_dovecot_passdb AS
SELECT m.local_part || '@' || d.name AS username, m.local_part AS local_part, d.name AS domain,
       m.password AS password
  FROM mailboxes_mailbox m
  JOIN domains_domain d ON d.id = m.domain_id
 WHERE m.active AND d.active AND d.delivery = 'hosted'""",
    ],
    "mysql": [
        """CREATE OR REPLACE SQL SECURITY DEFINER VIEW mailadmin_postfix_domain AS
SELECT d.name AS domain, d.delivery AS kind, d.transport AS transport
  FROM domains_domain d
 WHERE d.active
UNION ALL
SELECT ad.name, 'alias', ''
  FROM domains_aliasdomain ad
  JOIN domains_domain d ON d.id = ad.target_id
 WHERE ad.active AND d.active AND d.delivery = 'hosted'""",
        """CREATE OR REPLACE SQL SECURITY DEFINER VIEW mailadmin_postfix_mailbox AS
SELECT m.local_part AS local_part, d.name AS domain, m.path AS maildir,
       COALESCE(m.uid, d.uid, s.default_uid) AS uid,
       COALESCE(m.gid, d.gid, s.default_gid) AS gid
  FROM mailboxes_mailbox m
  JOIN domains_domain d ON d.id = m.domain_id
  LEFT JOIN domains_serversettings s ON s.id = 1
 WHERE m.active AND d.active AND d.delivery = 'hosted'""",
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
        """CREATE OR REPLACE SQL SECURITY DEFINER VIEW mailadmin_postfix_sender_login AS
SELECT m.local_part AS local_part, d.name AS domain, CONCAT(m.local_part, '@', d.name) AS login
  FROM mailboxes_mailbox m
  JOIN domains_domain d ON d.id = m.domain_id
 WHERE m.active AND d.active AND d.delivery = 'hosted'
UNION ALL
SELECT a.local_part, d.name, t.address
  FROM mailboxes_alias a
  JOIN domains_domain d ON d.id = a.domain_id
  JOIN mailboxes_aliasdestination t ON t.alias_id = a.id
 WHERE a.active AND a.local_part <> '' AND d.active AND d.delivery = 'hosted'
   AND NOT EXISTS (SELECT 1 FROM mailboxes_mailbox m
                    WHERE m.domain_id = a.domain_id AND m.local_part = a.local_part)
UNION ALL
SELECT m.local_part, ad.name, CONCAT(m.local_part, '@', d.name)
  FROM domains_aliasdomain ad
  JOIN domains_domain d ON d.id = ad.target_id
  JOIN mailboxes_mailbox m ON m.domain_id = d.id
 WHERE ad.active AND m.active AND d.active AND d.delivery = 'hosted'
UNION ALL
SELECT a.local_part, ad.name, t.address
  FROM domains_aliasdomain ad
  JOIN domains_domain d ON d.id = ad.target_id
  JOIN mailboxes_alias a ON a.domain_id = d.id
  JOIN mailboxes_aliasdestination t ON t.alias_id = a.id
 WHERE ad.active AND a.active AND a.local_part <> '' AND d.active AND d.delivery = 'hosted'
   AND NOT EXISTS (SELECT 1 FROM mailboxes_mailbox m
                    WHERE m.domain_id = a.domain_id AND m.local_part = a.local_part)""",
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
        """CREATE OR REPLACE SQL SECURITY DEFINER VIEW mailadmin_dovecot_userdb AS
SELECT CONCAT(m.local_part, '@', d.name) AS username, m.local_part AS local_part, d.name AS domain,
       CONCAT(d.name, '/', m.local_part) AS home, m.path AS maildir, m.format AS format,
       COALESCE(m.uid, d.uid, s.default_uid) AS uid,
       COALESCE(m.gid, d.gid, s.default_gid) AS gid,
       m.quota AS quota_bytes
  FROM mailboxes_mailbox m
  JOIN domains_domain d ON d.id = m.domain_id
  LEFT JOIN domains_serversettings s ON s.id = 1
 WHERE m.active AND d.active AND d.delivery = 'hosted'""",
        """CREATE OR REPLACE SQL SECURITY DEFINER VIEW mailadmin_dovecot_passdb AS
SELECT CONCAT(m.local_part, '@', d.name) AS username, m.local_part AS local_part, d.name AS domain,
       m.password AS password
  FROM mailboxes_mailbox m
  JOIN domains_domain d ON d.id = m.domain_id
 WHERE m.active AND d.active AND d.delivery = 'hosted'""",
    ],
}

# 0002's state: its text of mailadmin_postfix_sender_login (the other views are unchanged).
BACKWARD: dict[str, list[str]] = {
    "pgsql": [
        """CREATE OR REPLACE VIEW mailadmin_postfix_sender_login AS
SELECT m.local_part AS local_part, d.name AS domain, m.local_part || '@' || d.name AS login
  FROM mailboxes_mailbox m
  JOIN domains_domain d ON d.id = m.domain_id
 WHERE m.active AND d.active AND d.delivery = 'hosted'
UNION ALL
SELECT a.local_part, d.name, t.address
  FROM mailboxes_alias a
  JOIN domains_domain d ON d.id = a.domain_id
  JOIN mailboxes_aliasdestination t ON t.alias_id = a.id
 WHERE a.active AND a.local_part <> '' AND d.active AND d.delivery = 'hosted'
UNION ALL
SELECT m.local_part, ad.name, m.local_part || '@' || d.name
  FROM domains_aliasdomain ad
  JOIN domains_domain d ON d.id = ad.target_id
  JOIN mailboxes_mailbox m ON m.domain_id = d.id
 WHERE ad.active AND m.active AND d.active AND d.delivery = 'hosted'
UNION ALL
SELECT a.local_part, ad.name, t.address
  FROM domains_aliasdomain ad
  JOIN domains_domain d ON d.id = ad.target_id
  JOIN mailboxes_alias a ON a.domain_id = d.id
  JOIN mailboxes_aliasdestination t ON t.alias_id = a.id
 WHERE ad.active AND a.active AND a.local_part <> '' AND d.active AND d.delivery = 'hosted'""",
    ],
    "mysql": [
        """CREATE OR REPLACE SQL SECURITY DEFINER VIEW mailadmin_postfix_sender_login AS
SELECT m.local_part AS local_part, d.name AS domain, CONCAT(m.local_part, '@', d.name) AS login
  FROM mailboxes_mailbox m
  JOIN domains_domain d ON d.id = m.domain_id
 WHERE m.active AND d.active AND d.delivery = 'hosted'
UNION ALL
SELECT a.local_part, d.name, t.address
  FROM mailboxes_alias a
  JOIN domains_domain d ON d.id = a.domain_id
  JOIN mailboxes_aliasdestination t ON t.alias_id = a.id
 WHERE a.active AND a.local_part <> '' AND d.active AND d.delivery = 'hosted'
UNION ALL
SELECT m.local_part, ad.name, CONCAT(m.local_part, '@', d.name)
  FROM domains_aliasdomain ad
  JOIN domains_domain d ON d.id = ad.target_id
  JOIN mailboxes_mailbox m ON m.domain_id = d.id
 WHERE ad.active AND m.active AND d.active AND d.delivery = 'hosted'
UNION ALL
SELECT a.local_part, ad.name, t.address
  FROM domains_aliasdomain ad
  JOIN domains_domain d ON d.id = ad.target_id
  JOIN mailboxes_alias a ON a.domain_id = d.id
  JOIN mailboxes_aliasdestination t ON t.alias_id = a.id
 WHERE ad.active AND a.active AND a.local_part <> '' AND d.active AND d.delivery = 'hosted'""",
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
        ("contract", "0003_pgsql_lookup_functions"),
        # The tables the views read, as for 0001.
        ("domains", "0002_server_settings_row"),
        ("mailboxes", "0001_initial"),
    ]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
