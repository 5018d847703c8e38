"""The same data laid out in PostfixAdmin's schema, and PostfixAdmin's documented queries.

The reference for the lookup benchmark: what a PostfixAdmin installation on PostgreSQL asks
for the same keys. The tables are those of PostfixAdmin's PostgreSQL schema (upgrade.php):
their columns as far as Postfix reads them, their primary keys and every index PostfixAdmin
creates on them. They live in the schema ``postfixadmin`` of the benchmark database, and the
benchmark's read-only role has ``search_path = postfixadmin``, so the queries below run
exactly as documented (DOCUMENTS/POSTFIX_CONF.txt and
DOCUMENTS/Postfix-Dovecot-Postgresql-Example.md), with the boolean literals of the PostgreSQL
example (``active = true``; MySQL's ``active = 1`` is a type error in PostgreSQL).

As in PostfixAdmin, every mailbox has an alias row on its own address (goto = itself), a
catch-all is the alias ``@domain``, an alias domain is also a row of ``domain``, and an
alias's destinations are one comma-separated ``goto``.
"""

from __future__ import annotations

SCHEMA = "postfixadmin"


def pgsql_ddl(schema: str) -> str:
    """PostfixAdmin's tables on PostgreSQL, created in `schema` (which must exist): domain,
    mailbox, alias, alias_domain, admin and domain_admins with their primary keys and the
    indexes upgrade.php creates. The migration tests build their PostfixAdmin database from
    this too."""
    return f"""
CREATE TABLE {schema}.domain (
    domain varchar(255) NOT NULL,
    description varchar(255) NOT NULL DEFAULT '',
    aliases integer NOT NULL DEFAULT 0,
    mailboxes integer NOT NULL DEFAULT 0,
    maxquota bigint NOT NULL DEFAULT 0,
    quota bigint NOT NULL DEFAULT 0,
    transport varchar(255) DEFAULT NULL,
    backupmx boolean NOT NULL DEFAULT false,
    created timestamp with time zone DEFAULT now(),
    modified timestamp with time zone DEFAULT now(),
    active boolean NOT NULL DEFAULT true,
    CONSTRAINT domain_key PRIMARY KEY (domain)
);
CREATE INDEX domain_domain_active ON {schema}.domain (domain, active);
CREATE TABLE {schema}.mailbox (
    username varchar(255) NOT NULL,
    password varchar(255) NOT NULL,
    name varchar(255) NOT NULL DEFAULT '',
    maildir varchar(255) NOT NULL,
    quota bigint NOT NULL DEFAULT 0,
    local_part varchar(255) NOT NULL,
    domain varchar(255) NOT NULL REFERENCES {schema}.domain,
    created timestamp with time zone DEFAULT now(),
    modified timestamp with time zone DEFAULT now(),
    active boolean NOT NULL DEFAULT true,
    CONSTRAINT mailbox_key PRIMARY KEY (username)
);
CREATE INDEX mailbox_username_active ON {schema}.mailbox (username, active);
CREATE INDEX mailbox_domain_idx ON {schema}.mailbox (domain);
CREATE TABLE {schema}.alias (
    address varchar(255) NOT NULL,
    goto text NOT NULL,
    domain varchar(255) NOT NULL REFERENCES {schema}.domain,
    created timestamp with time zone DEFAULT now(),
    modified timestamp with time zone DEFAULT now(),
    active boolean NOT NULL DEFAULT true,
    CONSTRAINT alias_key PRIMARY KEY (address)
);
CREATE INDEX alias_address_active ON {schema}.alias (address, active);
CREATE INDEX alias_domain_idx ON {schema}.alias (domain);
CREATE TABLE {schema}.alias_domain (
    alias_domain varchar(255) NOT NULL REFERENCES {schema}.domain (domain),
    target_domain varchar(255) NOT NULL REFERENCES {schema}.domain (domain),
    created timestamp with time zone DEFAULT now(),
    modified timestamp with time zone DEFAULT now(),
    active boolean NOT NULL DEFAULT true,
    CONSTRAINT alias_domain_pkey PRIMARY KEY (alias_domain)
);
CREATE INDEX alias_domain_active ON {schema}.alias_domain (alias_domain, active);
CREATE TABLE {schema}.admin (
    username varchar(255) NOT NULL,
    password varchar(255) NOT NULL DEFAULT '',
    superadmin boolean NOT NULL DEFAULT false,
    created timestamp with time zone DEFAULT now(),
    modified timestamp with time zone DEFAULT now(),
    active boolean NOT NULL DEFAULT true,
    CONSTRAINT admin_key PRIMARY KEY (username)
);
CREATE TABLE {schema}.domain_admins (
    username varchar(255) NOT NULL,
    domain varchar(255) NOT NULL,
    created timestamp with time zone DEFAULT now(),
    active boolean NOT NULL DEFAULT true
);
CREATE INDEX domain_admins_username ON {schema}.domain_admins (username);
"""


SCHEMA_SQL = f"""
DROP SCHEMA IF EXISTS {SCHEMA} CASCADE;
CREATE SCHEMA {SCHEMA};
{pgsql_ddl(SCHEMA)}"""


def fill_steps() -> list[tuple[str, str]]:
    """(name, SQL) copying mailadmin's tables into PostfixAdmin's layout, in one pass each."""
    s = SCHEMA
    return [
        (
            "pfa_domains",
            f"""
INSERT INTO {s}.domain (domain, description, transport, backupmx, active)
SELECT name, description, NULLIF(transport, ''), delivery <> 'hosted', active
  FROM domains_domain
UNION ALL
SELECT name, '', NULL, false, true FROM domains_aliasdomain
""",
        ),
        (
            "pfa_mailboxes",
            f"""
INSERT INTO {s}.mailbox (username, password, name, maildir, quota, local_part, domain, active)
SELECT m.local_part || '@' || d.name, m.password, m.name, m.path, m.quota, m.local_part,
       d.name, m.active
  FROM mailboxes_mailbox m
  JOIN domains_domain d ON d.id = m.domain_id
""",
        ),
        (
            "pfa_aliases",
            f"""
INSERT INTO {s}.alias (address, goto, domain, active)
SELECT a.local_part || '@' || d.name, string_agg(t.address, ',' ORDER BY t.address), d.name,
       a.active
  FROM mailboxes_alias a
  JOIN domains_domain d ON d.id = a.domain_id
  JOIN mailboxes_aliasdestination t ON t.alias_id = a.id
 GROUP BY a.id, a.local_part, d.name, a.active
""",
        ),
        (
            "pfa_mailbox_aliases",
            # PostfixAdmin writes an alias row for each mailbox it creates: address -> itself.
            f"""
INSERT INTO {s}.alias (address, goto, domain, active)
SELECT m.local_part || '@' || d.name, m.local_part || '@' || d.name, d.name, m.active
  FROM mailboxes_mailbox m
  JOIN domains_domain d ON d.id = m.domain_id
 WHERE NOT EXISTS (SELECT 1 FROM mailboxes_alias a
                    WHERE a.domain_id = m.domain_id AND a.local_part = m.local_part)
""",
        ),
        (
            "pfa_alias_domains",
            f"""
INSERT INTO {s}.alias_domain (alias_domain, target_domain, active)
SELECT ad.name, d.name, ad.active
  FROM domains_aliasdomain ad
  JOIN domains_domain d ON d.id = ad.target_id
""",
        ),
    ]


# PostfixAdmin's documented lookup tables, in the order main.cf names them.
QUERIES: dict[str, str] = {
    "virtual_domains_maps": (
        "SELECT domain FROM domain WHERE domain='%s' and backupmx = false and active = true"
    ),
    "virtual_alias_maps": "SELECT goto FROM alias WHERE address='%s' AND active = true",
    "virtual_alias_domain_maps": (
        "SELECT goto FROM alias,alias_domain WHERE alias_domain.alias_domain = '%d'"
        " and alias.address = CONCAT('%u', '@', alias_domain.target_domain)"
        " AND alias.active = true AND alias_domain.active= true"
    ),
    "virtual_alias_domain_catchall_maps": (
        "SELECT goto FROM alias,alias_domain WHERE alias_domain.alias_domain = '%d'"
        " and alias.address = CONCAT('@', alias_domain.target_domain)"
        " AND alias.active = true AND alias_domain.active= true"
    ),
    "virtual_mailbox_maps": "SELECT maildir FROM mailbox WHERE username='%s' AND active = true",
    "virtual_alias_domain_mailbox_maps": (
        "SELECT maildir FROM mailbox,alias_domain WHERE alias_domain.alias_domain = '%d'"
        " and mailbox.username = CONCAT('%u', '@', alias_domain.target_domain)"
        " AND mailbox.active = true AND alias_domain.active = true"
    ),
}

# main.cf parameter -> PostfixAdmin's tables for it (virtual_uid_maps and virtual_gid_maps
# are static: in PostfixAdmin's examples, so they cost no lookup there).
CHAINS: dict[str, tuple[str, ...]] = {
    "virtual_mailbox_domains": ("virtual_domains_maps",),
    "virtual_alias_maps": (
        "virtual_alias_maps",
        "virtual_alias_domain_maps",
        "virtual_alias_domain_catchall_maps",
    ),
    "virtual_mailbox_maps": ("virtual_mailbox_maps", "virtual_alias_domain_mailbox_maps"),
}


def role_sql(role: str, password: str, database: str) -> str:
    """A read-only login for PostfixAdmin's tables, as its docs set one up for Postfix."""
    from mailadmin.contract.roles import scram_sha_256

    return f"""
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN
    CREATE ROLE {role};
  END IF;
END $$;
ALTER ROLE {role} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT
  PASSWORD '{scram_sha_256(password, role)}';
ALTER ROLE {role} IN DATABASE "{database}" SET search_path = {SCHEMA};
ALTER ROLE {role} IN DATABASE "{database}" SET default_transaction_read_only = on;
GRANT CONNECT ON DATABASE "{database}" TO {role};
GRANT USAGE ON SCHEMA {SCHEMA} TO {role};
GRANT SELECT ON ALL TABLES IN SCHEMA {SCHEMA} TO {role};
"""


def table_file(query: str, *, host: str, port: int, role: str, password: str, db: str) -> str:
    """A pgsql: lookup table file in the form of PostfixAdmin's examples."""
    return (
        f"user = {role}\npassword = {password}\nhosts = inet:{host}:{port}\n"
        f"dbname = {db}\nquery = {query}\n"
    )
