"""A PostfixAdmin database for tests: its schema, realistic rows with odd ones, its queries.

The DDL follows PostfixAdmin's documented schema (tables domain, mailbox, alias,
alias_domain, admin, domain_admins and vacation, as its setup creates them on PostgreSQL and
MySQL; the PostgreSQL tables but vacation are the lookup benchmark's,
bench.postfixadmin.pgsql_ddl); the
lookup queries are those of its DOCUMENTS/POSTFIX_CONF.txt. Hashes are made here the way
PostfixAdmin's `encrypt` settings store them: md5crypt without a prefix (its default), and
`{SCHEME}` strings for its dovecot: settings.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

import bcrypt
import pytest
from passlib.hash import md5_crypt, sha512_crypt

from bench.postfixadmin import pgsql_ddl
from mailadmin import dburl
from tests.support import MYSQL_ADMIN_URL, PGSQL_ADMIN_URL, _pg_conninfo

# PostfixAdmin's vacation table (its vacation.pl replies from it), as upgrade.php creates it.
PGSQL_VACATION_DDL = """
CREATE TABLE public.vacation (
    email varchar(255) NOT NULL,
    subject varchar(255) NOT NULL,
    body text NOT NULL DEFAULT '',
    created timestamp with time zone DEFAULT now(),
    active boolean NOT NULL DEFAULT true,
    domain varchar(255) NOT NULL REFERENCES public.domain,
    modified timestamp with time zone DEFAULT now(),
    activefrom timestamp with time zone NOT NULL DEFAULT '2000-01-01 00:00:00',
    activeuntil timestamp with time zone NOT NULL DEFAULT '2038-01-18 00:00:00',
    interval_time integer NOT NULL DEFAULT 0,
    CONSTRAINT vacation_pkey PRIMARY KEY (email)
);
CREATE INDEX vacation_email_active ON public.vacation (email, active);
"""
PGSQL_DDL = pgsql_ddl("public") + PGSQL_VACATION_DDL

MYSQL_DDL = """
CREATE TABLE `domain` (
  `domain` varchar(255) NOT NULL,
  `description` varchar(255) CHARACTER SET utf8 NOT NULL DEFAULT '',
  `aliases` int(10) NOT NULL DEFAULT 0,
  `mailboxes` int(10) NOT NULL DEFAULT 0,
  `maxquota` bigint(20) NOT NULL DEFAULT 0,
  `quota` bigint(20) NOT NULL DEFAULT 0,
  `transport` varchar(255) DEFAULT NULL,
  `backupmx` tinyint(1) NOT NULL DEFAULT 0,
  `created` datetime NOT NULL DEFAULT '2000-01-01 00:00:00',
  `modified` datetime NOT NULL DEFAULT '2000-01-01 00:00:00',
  `active` tinyint(1) NOT NULL DEFAULT 1,
  PRIMARY KEY (`domain`)
) ENGINE=InnoDB DEFAULT CHARSET=latin1 COMMENT='Postfix Admin - Virtual Domains';
CREATE TABLE `mailbox` (
  `username` varchar(255) NOT NULL,
  `password` varchar(255) NOT NULL,
  `name` varchar(255) CHARACTER SET utf8 NOT NULL,
  `maildir` varchar(255) NOT NULL,
  `quota` bigint(20) NOT NULL DEFAULT 0,
  `local_part` varchar(255) NOT NULL,
  `domain` varchar(255) NOT NULL,
  `created` datetime NOT NULL DEFAULT '2000-01-01 00:00:00',
  `modified` datetime NOT NULL DEFAULT '2000-01-01 00:00:00',
  `active` tinyint(1) NOT NULL DEFAULT 1,
  PRIMARY KEY (`username`),
  KEY `domain` (`domain`)
) ENGINE=InnoDB DEFAULT CHARSET=latin1 COMMENT='Postfix Admin - Virtual Mailboxes';
CREATE TABLE `alias` (
  `address` varchar(255) NOT NULL,
  `goto` text NOT NULL,
  `domain` varchar(255) NOT NULL,
  `created` datetime NOT NULL DEFAULT '2000-01-01 00:00:00',
  `modified` datetime NOT NULL DEFAULT '2000-01-01 00:00:00',
  `active` tinyint(1) NOT NULL DEFAULT 1,
  PRIMARY KEY (`address`),
  KEY `domain` (`domain`)
) ENGINE=InnoDB DEFAULT CHARSET=latin1 COMMENT='Postfix Admin - Virtual Aliases';
CREATE TABLE `alias_domain` (
  `alias_domain` varchar(255) NOT NULL DEFAULT '',
  `target_domain` varchar(255) NOT NULL DEFAULT '',
  `created` datetime NOT NULL DEFAULT '2000-01-01 00:00:00',
  `modified` datetime NOT NULL DEFAULT '2000-01-01 00:00:00',
  `active` tinyint(1) NOT NULL DEFAULT 1,
  PRIMARY KEY (`alias_domain`),
  KEY `active` (`active`),
  KEY `target_domain` (`target_domain`)
) ENGINE=InnoDB DEFAULT CHARSET=latin1 COMMENT='Postfix Admin - Domain Aliases';
CREATE TABLE `admin` (
  `username` varchar(255) NOT NULL,
  `password` varchar(255) NOT NULL,
  `superadmin` tinyint(1) NOT NULL DEFAULT 0,
  `created` datetime NOT NULL DEFAULT '2000-01-01 00:00:00',
  `modified` datetime NOT NULL DEFAULT '2000-01-01 00:00:00',
  `active` tinyint(1) NOT NULL DEFAULT 1,
  PRIMARY KEY (`username`)
) ENGINE=InnoDB DEFAULT CHARSET=latin1 COMMENT='Postfix Admin - Virtual Admins';
CREATE TABLE `domain_admins` (
  `username` varchar(255) NOT NULL,
  `domain` varchar(255) NOT NULL,
  `created` datetime NOT NULL DEFAULT '2000-01-01 00:00:00',
  `active` tinyint(1) NOT NULL DEFAULT 1,
  KEY `username` (`username`)
) ENGINE=InnoDB DEFAULT CHARSET=latin1 COMMENT='Postfix Admin - Domain Admins';
CREATE TABLE `vacation` (
  `email` varchar(255) NOT NULL,
  `subject` varchar(255) CHARACTER SET utf8 NOT NULL,
  `body` text CHARACTER SET utf8 NOT NULL,
  `cache` text NOT NULL DEFAULT '',
  `domain` varchar(255) NOT NULL,
  `created` datetime NOT NULL DEFAULT '2000-01-01 00:00:00',
  `active` tinyint(1) NOT NULL DEFAULT 1,
  `modified` datetime NOT NULL DEFAULT '2000-01-01 00:00:00',
  `activefrom` timestamp NOT NULL DEFAULT '2000-01-01 00:00:00',
  `activeuntil` timestamp NOT NULL DEFAULT '2038-01-18 00:00:00',
  `interval_time` int(11) NOT NULL DEFAULT 0,
  PRIMARY KEY (`email`),
  KEY `email` (`email`)
) ENGINE=InnoDB DEFAULT CHARSET=latin1 COMMENT='Postfix Admin - Virtual Vacation';
"""

# PostfixAdmin's DOCUMENTS/POSTFIX_CONF.txt, one query per map file (booleans compared with
# '1' in quotes, the form that PostgreSQL and MySQL both accept). virtual_mailbox_domains
# uses its documented variant for servers that are also backup MX (backupmx = '0'), with the
# relay_domains query for the backup domains.
PFA_QUERIES = {
    "virtual_alias_maps": "SELECT goto FROM alias WHERE address='%s' AND active = '1'",
    "virtual_alias_domain_maps": (
        "SELECT goto FROM alias,alias_domain WHERE alias_domain.alias_domain = '%d'"
        " and alias.address = CONCAT('%u', '@', alias_domain.target_domain)"
        " AND alias.active = '1' AND alias_domain.active='1'"
    ),
    "virtual_alias_domain_catchall_maps": (
        "SELECT goto FROM alias,alias_domain WHERE alias_domain.alias_domain = '%d'"
        " and alias.address = CONCAT('@', alias_domain.target_domain)"
        " AND alias.active = '1' AND alias_domain.active='1'"
    ),
    "virtual_domains_maps": (
        "SELECT domain FROM domain WHERE domain='%s' AND backupmx = '0' AND active = '1'"
    ),
    "virtual_mailbox_maps": "SELECT maildir FROM mailbox WHERE username='%s' AND active = '1'",
    "virtual_alias_domain_mailbox_maps": (
        "SELECT maildir FROM mailbox,alias_domain WHERE alias_domain.alias_domain = '%d'"
        " and mailbox.username = CONCAT('%u', '@', alias_domain.target_domain)"
        " AND mailbox.active = '1' AND alias_domain.active='1'"
    ),
    "relay_domains": (
        "SELECT domain FROM domain WHERE domain='%s' AND backupmx = '1' AND active = '1'"
    ),
}
# main.cf as POSTFIX_CONF.txt sets it: the maps in lookup order.
PFA_ALIAS_MAPS = (
    "virtual_alias_maps",
    "virtual_alias_domain_maps",
    "virtual_alias_domain_catchall_maps",
)
PFA_MAILBOX_MAPS = ("virtual_mailbox_maps", "virtual_alias_domain_mailbox_maps")

# Clear passwords of the mailboxes whose hashes must verify after the migration.
PASSWORDS = {
    "john@example.com": "john-secret-1",
    "jane@example.com": "jane-secret-2",
    "bob@example.com": "bob-secret-33",
    "carol@example.com": "carol-secret-4",
    "dan@example.com": "dan-secret-55",
    "evan@example.com": "evan-clear-pass",
    "george@example.com": "george-secret-7",
    "harry@example.com": "harry-secret-8",
    "ivan@lmtp.example": "ivan-secret-99",
    "jan@xn--bcher-kva.example": "jan-secret-100",
    "kim@inactive.example": "kim-secret-111",
    "only@limited.example": "only-secret-12",
}
# Mailboxes and aliases the migration must skip, with a word of the reason it gives: only
# what cannot be kept. Every other row that breaks one of our rules is kept and a note says
# what it got (NOTES).
SKIPPED = {
    "alias sales@alias.example": "alias domain",
    "alias local@example.com": "not an e-mail address",
    "mailbox st*r@example.com": "doveadm",
    "mailbox colon@example.com": "Dovecot reads as configuration",
    "vacation st*r@example.com": "no such mailbox here",
    "vacation evan@example.com": "Give the reply a subject.",
}
MIB = 1024 * 1024
DAY = 86400
# PostfixAdmin's defaults of activefrom and activeuntil: no bound.
ALWAYS_FROM = "2000-01-01 00:00:00"
ALWAYS_UNTIL = "2038-01-18 00:00:00"
# Rows kept with an adjustment, each with (a part of) the note the report gives.
NOTES = (
    "mailbox locked@example.com: the stored password is neither a hash mailadmin can verify "
    "nor usable; it got a random password",
    "mailbox odd@example.com: password scheme {MD4} cannot be verified here; it got a random "
    "password",
    f"mailbox big@quota.example: quota {20 * MIB} bytes does not fit quota.example's maximum; "
    f"it gets {10 * MIB} bytes",
    f"mailbox free@quota.example: quota no limit does not fit quota.example's maximum; it gets "
    f"{10 * MIB} bytes",
    "quota.example: max_mailboxes raised from 2 to 3",
    "quota.example: max_aliases raised from 1 to 2",
    f"quota.example: total_quota raised from {15 * MIB} to {25 * MIB}",
    "limited.example: max_mailboxes raised from 1 to 2",
    "mailbox spacey@example.com: maildir 'example.com/Spacey Box/' is refused here",
    "it gets example.com/spacey/: before the switch run mv",
    "backup.example: backup MX accepting every recipient",
    "vacation john@example.com: PostfixAdmin replied once to each sender; here at most once "
    "every 60 days",
    "vacation bob@example.com: its last day, 2021-01-01, has passed: imported switched off",
    "vacation dan@example.com: interval of 7776000 seconds becomes 60 days",
)
# Maildirs the migration moves (the note above tells the operator to move the mail).
MOVED = {"example.com/Spacey Box/": "example.com/spacey/"}


def _blf(password: str) -> str:
    digest = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=5)).decode()
    return "{BLF-CRYPT}$2y$" + digest[4:]  # PHP's crypt() writes $2y$


def fixture_rows() -> dict[str, list[tuple[object, ...]]]:
    p = PASSWORDS
    md5 = __import__("hashlib").md5
    return {
        # domain, description, aliases, mailboxes, maxquota, quota, transport, backupmx, active
        "domain": [
            ("ALL", "", 0, 0, 0, 0, "", False, True),
            ("example.com", "Main company", 20, 20, 2048, 0, "virtual", False, True),
            ("lmtp.example", "", 0, 0, 0, 0, "lmtp:unix:private/dovecot-lmtp", False, True),
            ("backup.example", "secondary MX", 0, 0, 0, 0, "relay:[mx.backup.example]", True, True),
            ("inactive.example", "", 0, 0, 0, 0, "virtual", False, False),
            ("limited.example", "", -1, 1, 0, 0, "virtual", False, True),
            ("xn--bcher-kva.example", "IDN", 0, 0, 0, 0, "dovecot", False, True),
            ("alias.example", "", 0, 0, 0, 0, "virtual", False, True),
            # Limits its mailboxes and aliases break: 10 MB per mailbox, 15 MB in all.
            ("quota.example", "", 1, 2, 10, 15, "virtual", False, True),
            ("offalias.example", "switched off", 0, 0, 0, 0, "virtual", False, False),
        ],
        # username, password, name, maildir, quota (bytes), local_part, domain, active
        "mailbox": [
            (
                "john@example.com",
                md5_crypt.hash(p["john@example.com"]),
                "John",
                "example.com/john/",
                100 * 1024000,
                "john",
                "example.com",
                True,
            ),
            (
                "jane@example.com",
                "{SHA512-CRYPT}" + sha512_crypt.using(rounds=5000).hash(p["jane@example.com"]),
                "Jane Ö",
                "example.com/jane/",
                200 * 1024000,
                "jane",
                "example.com",
                True,
            ),
            (
                "bob@example.com",
                _blf(p["bob@example.com"]),
                "",
                "example.com/bob/",
                50 * 1024000,
                "bob",
                "example.com",
                True,
            ),
            (
                "carol@example.com",
                "{PLAIN-MD5}" + md5(p["carol@example.com"].encode()).hexdigest(),
                "",
                "example.com/carol/",
                1024000,
                "carol",
                "example.com",
                False,
            ),
            (
                "dan@example.com",
                sha512_crypt.using(rounds=5000).hash(p["dan@example.com"]),
                "",
                "example.com/dan/",
                1024000,
                "dan",
                "example.com",
                True,
            ),
            (
                "evan@example.com",
                p["evan@example.com"],
                "cleartext setting",
                "example.com/evan/",
                1024000,
                "evan",
                "example.com",
                True,
            ),
            (
                "george@example.com",
                md5_crypt.hash(p["george@example.com"]),
                "",
                "example.com/george/Maildir/",
                1024000,
                "george",
                "example.com",
                True,
            ),
            (
                "harry@example.com",
                md5_crypt.hash(p["harry@example.com"]),
                "mbox user",
                "example.com/harry",
                1024000,
                "harry",
                "example.com",
                True,
            ),
            (
                "locked@example.com",
                "*LOCKED*",
                "",
                "example.com/locked/",
                1024000,
                "locked",
                "example.com",
                True,
            ),
            (
                "ivan@lmtp.example",
                md5_crypt.hash(p["ivan@lmtp.example"]),
                "",
                "lmtp.example/ivan/",
                0,
                "ivan",
                "lmtp.example",
                True,
            ),
            (
                "jan@xn--bcher-kva.example",
                md5_crypt.hash(p["jan@xn--bcher-kva.example"]),
                "",
                "xn--bcher-kva.example/jan/",
                0,
                "jan",
                "xn--bcher-kva.example",
                True,
            ),
            (
                "kim@inactive.example",
                md5_crypt.hash(p["kim@inactive.example"]),
                "",
                "inactive.example/kim/",
                0,
                "kim",
                "inactive.example",
                True,
            ),
            (
                "only@limited.example",
                md5_crypt.hash(p["only@limited.example"]),
                "",
                "limited.example/only/",
                0,
                "only",
                "limited.example",
                True,
            ),
            (
                "over@limited.example",
                md5_crypt.hash("over-secret-13"),
                "",
                "limited.example/over/",
                0,
                "over",
                "limited.example",
                True,
            ),
            (
                "st*r@example.com",
                md5_crypt.hash("star-secret-14"),
                "",
                "example.com/st*r/",
                1024000,
                "st*r",
                "example.com",
                True,
            ),
            (
                "colon@example.com",
                md5_crypt.hash("colon-secret-15"),
                "",
                "example.com/colon:LAYOUT=fs/",
                1024000,
                "colon",
                "example.com",
                True,
            ),
            (
                "spacey@example.com",
                md5_crypt.hash("spacey-secret-16"),
                "",
                "example.com/Spacey Box/",
                1024000,
                "spacey",
                "example.com",
                True,
            ),
            (
                "upperdir@example.com",
                md5_crypt.hash("upper-secret-17"),
                "",
                "example.com/UpperDir/",
                1024000,
                "upperdir",
                "example.com",
                True,
            ),
            (
                "odd@example.com",
                "{MD4}" + "0" * 32,
                "",
                "example.com/odd/",
                1024000,
                "odd",
                "example.com",
                True,
            ),
            (
                "big@quota.example",
                md5_crypt.hash("big-secret-18"),
                "",
                "quota.example/big/",
                20 * MIB,
                "big",
                "quota.example",
                True,
            ),
            (
                "free@quota.example",
                md5_crypt.hash("free-secret-19"),
                "",
                "quota.example/free/",
                0,
                "free",
                "quota.example",
                True,
            ),
            (
                "small@quota.example",
                md5_crypt.hash("small-secret-20"),
                "",
                "quota.example/small/",
                5 * MIB,
                "small",
                "quota.example",
                True,
            ),
        ],
        # address, goto, domain, active
        "alias": [
            # Every mailbox's alias to itself, as PostfixAdmin creates them.
            (
                "john@example.com",
                "john@example.com,john#example.com@autoreply.example.com",
                "example.com",
                True,
            ),
            ("jane@example.com", "jane@example.com,jane@elsewhere.net", "example.com", True),
            ("bob@example.com", "bob@elsewhere.net", "example.com", True),
            ("carol@example.com", "carol@example.com", "example.com", False),
            ("dan@example.com", "dan@example.com", "example.com", True),
            ("evan@example.com", "evan@example.com", "example.com", True),
            ("george@example.com", "george@example.com", "example.com", True),
            ("harry@example.com", "harry@example.com", "example.com", True),
            ("locked@example.com", "locked@example.com", "example.com", True),
            ("ivan@lmtp.example", "ivan@lmtp.example", "lmtp.example", True),
            (
                "jan@xn--bcher-kva.example",
                "jan@xn--bcher-kva.example",
                "xn--bcher-kva.example",
                True,
            ),
            ("kim@inactive.example", "kim@inactive.example", "inactive.example", True),
            ("only@limited.example", "only@limited.example", "limited.example", True),
            ("over@limited.example", "over@limited.example", "limited.example", True),
            ("st*r@example.com", "st*r@example.com", "example.com", True),
            ("colon@example.com", "colon@example.com", "example.com", True),
            ("spacey@example.com", "spacey@example.com", "example.com", True),
            ("upperdir@example.com", "upperdir@example.com", "example.com", True),
            ("odd@example.com", "odd@example.com", "example.com", True),
            ("big@quota.example", "big@quota.example", "quota.example", True),
            ("free@quota.example", "free@quota.example", "quota.example", True),
            ("small@quota.example", "small@quota.example", "quota.example", True),
            # More aliases than quota.example allows.
            ("a1@quota.example", "big@quota.example", "quota.example", True),
            ("a2@quota.example", "small@quota.example,ext@elsewhere.net", "quota.example", True),
            # Plain aliases, a catch-all, an inactive one, odd spacing and case.
            (
                "team@example.com",
                "john@example.com, jane@example.com,ext@elsewhere.net",
                "example.com",
                True,
            ),
            ("upper@example.com", "JOHN@Example.COM", "example.com", True),
            ("old@example.com", "john@example.com", "example.com", False),
            ("@example.com", "dan@example.com", "example.com", True),
            (
                "info@xn--bcher-kva.example",
                "jan@xn--bcher-kva.example",
                "xn--bcher-kva.example",
                True,
            ),
            (
                "list@limited.example",
                "only@limited.example,ext@elsewhere.net",
                "limited.example",
                True,
            ),
            ("sales@alias.example", "john@example.com", "alias.example", True),
            ("local@example.com", "root", "example.com", True),
        ],
        # alias_domain, target_domain, active
        "alias_domain": [
            ("alias.example", "example.com", True),
            ("offalias.example", "example.com", False),
        ],
        # username, password, superadmin, active
        "admin": [
            ("admin@example.com", md5_crypt.hash("admin-pass"), True, True),
            ("oldsuper@example.net", md5_crypt.hash("old-pass"), False, True),
            ("dadmin@example.com", md5_crypt.hash("dadmin-pass"), False, True),
            ("ghost@example.net", md5_crypt.hash("ghost-pass"), False, False),
        ],
        # username, domain
        "domain_admins": [
            ("admin@example.com", "ALL"),
            ("oldsuper@example.net", "ALL"),
            ("dadmin@example.com", "example.com"),
            ("dadmin@example.com", "lmtp.example"),
            ("ghost@example.net", "gone.example"),
        ],
        # email, subject, body, active, domain, activefrom, activeuntil, interval_time (s)
        "vacation": [
            # On, PostfixAdmin's "always" dates and "reply once".
            (
                "john@example.com",
                "Out of office",
                'Away until "Monday".\r\nUrgent: call \\ 555.\r\n',
                True,
                "example.com",
                ALWAYS_FROM,
                ALWAYS_UNTIL,
                0,
            ),
            # Off, with dates to come and a week between replies.
            (
                "jane@example.com",
                "Відпустка",
                "Повернуся в серпні.",
                False,
                "example.com",
                "2030-07-01 00:00:00",
                "2030-07-31 00:00:00",
                7 * DAY,
            ),
            # Still on, but over: imported switched off.
            (
                "bob@example.com",
                "Away",
                "Gone.",
                True,
                "example.com",
                "2020-01-01 00:00:00",
                "2021-01-01 00:00:00",
                DAY,
            ),
            # Ninety days between replies: more than Pigeonhole allows.
            (
                "dan@example.com",
                "Away",
                "Gone.",
                True,
                "example.com",
                ALWAYS_FROM,
                ALWAYS_UNTIL,
                90 * DAY,
            ),
            # A mailbox the migration skips, and a reply without a subject.
            (
                "st*r@example.com",
                "Away",
                "Gone.",
                True,
                "example.com",
                ALWAYS_FROM,
                ALWAYS_UNTIL,
                0,
            ),
            ("evan@example.com", "", "Gone.", True, "example.com", ALWAYS_FROM, ALWAYS_UNTIL, 0),
        ],
    }


COLUMNS = {
    "domain": (
        "domain, description, aliases, mailboxes, maxquota, quota, transport, backupmx, active"
    ),
    "mailbox": "username, password, name, maildir, quota, local_part, domain, active",
    "alias": "address, goto, domain, active",
    "alias_domain": "alias_domain, target_domain, active",
    "admin": "username, password, superadmin, active",
    "domain_admins": "username, domain",
    "vacation": "email, subject, body, active, domain, activefrom, activeuntil, interval_time",
}


@dataclass
class PfaDatabase:
    dialect: str
    name: str
    host: str
    port: int
    user: str

    @property
    def url(self) -> str:
        scheme = "postgresql" if self.dialect == "pgsql" else "mysql"
        return f"{scheme}://{self.user}@{self.host}:{self.port}/{self.name}"

    def cf(self, folder: Path, name: str) -> str:
        """A Postfix table file with PostfixAdmin's query `name`; returns its reference."""
        path = folder / f"{name}.cf"
        path.write_text(
            f"hosts = inet:{self.host}:{self.port}\nuser = {self.user}\npassword =\n"
            f"dbname = {self.name}\nquery = {PFA_QUERIES[name]}\n"
        )
        return f"{self.dialect}:{path}"


def create_pfa_database(dialect: str) -> PfaDatabase:
    """A new database with PostfixAdmin's schema and the fixture rows."""
    name = f"postfixadmin_{uuid.uuid4().hex[:10]}"
    rows = fixture_rows()
    if dialect == "pgsql":
        import psycopg

        admin = dburl.parse(PGSQL_ADMIN_URL)
        try:
            with psycopg.connect(_pg_conninfo(admin.name), autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
        except Exception as exc:
            pytest.skip(f"PostgreSQL is not reachable: {exc}")
        with psycopg.connect(_pg_conninfo(name)) as conn:
            conn.execute(PGSQL_DDL)
            for table, values in rows.items():
                marks = ", ".join(["%s"] * len(values[0]))
                with conn.cursor() as cursor:
                    cursor.executemany(
                        f"INSERT INTO {table} ({COLUMNS[table]}) VALUES ({marks})",  # noqa: S608
                        values,
                    )
        return PfaDatabase("pgsql", name, admin.host, admin.port or 5432, admin.user)
    import MySQLdb

    admin = dburl.parse(MYSQL_ADMIN_URL)
    try:
        conn = MySQLdb.connect(
            host=admin.host, port=admin.port or 3306, user=admin.user, charset="utf8mb4"
        )
    except Exception as exc:
        pytest.skip(f"MariaDB is not reachable: {exc}")
    try:
        cursor = conn.cursor()
        cursor.execute(f"CREATE DATABASE `{name}`")
        cursor.execute(f"USE `{name}`")
        for statement in MYSQL_DDL.split(";"):
            if statement.strip():
                cursor.execute(statement)
        for table, values in rows.items():
            marks = ", ".join(["%s"] * len(values[0]))
            cursor.executemany(
                f"INSERT INTO `{table}` ({COLUMNS[table]}) VALUES ({marks})",  # noqa: S608
                [tuple(int(v) if isinstance(v, bool) else v for v in row) for row in values],
            )
        conn.commit()
    finally:
        conn.close()
    return PfaDatabase("mysql", name, admin.host, admin.port or 3306, admin.user)


def drop_pfa_database(db: PfaDatabase) -> None:
    if db.dialect == "pgsql":
        import psycopg

        admin = dburl.parse(PGSQL_ADMIN_URL)
        with psycopg.connect(_pg_conninfo(admin.name), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db.name}" WITH (FORCE)')
    else:
        import MySQLdb

        conn = MySQLdb.connect(host=db.host, port=db.port, user=db.user)
        conn.cursor().execute(f"DROP DATABASE IF EXISTS `{db.name}`")
        conn.close()
