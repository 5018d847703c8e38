"""The text of every file the exporter writes: Postfix lookup tables, the main.cf lines, the
Dovecot SQL config and the SQL that creates the read-only roles.

Together with views_v1 (the views) and queries (the lookups over them) this module is the
mail-stack contract.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass, field

from mailadmin.contract import sqlite_files, views_v1
from mailadmin.contract.queries import (
    LOOKUP_FUNCTIONS,
    MAIN_CF_MAPS,
    POSTFIX_QUERIES,
    exported_query,
)

_ROLE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_SAFE_PATH = re.compile(r"^/[A-Za-z0-9._/+-]*$")
_DELIMITER = re.compile(r"^[-+=_~]{0,4}$")
_LISTEN = re.compile(r"^[A-Za-z0-9.:_-]+$")
# postconf -d parent_domain_matches_subdomains (Postfix 3.7) without relay_domains.
PARENT_DOMAIN_MATCHES_SUBDOMAINS = (
    "debug_peer_list, fast_flush_domains, mynetworks, permit_mx_backup_networks,"
    " qmqpd_authorized_clients, smtpd_access_maps"
)
POSTFIX_QUEUE_DIR = "/var/spool/postfix"
POSTFIX_SASL_SOCKET = f"{POSTFIX_QUEUE_DIR}/private/auth"


@dataclass(frozen=True)
class Target:
    """Everything the generated files need to know about the installation."""

    dialect: str
    database: str  # database name, or the SQLite file path
    hosts: tuple[tuple[str, int | None], ...] = ()
    postfix_role: str = "mailadmin_postfix"
    dovecot_role: str = "mailadmin_dovecot"
    postfix_password: str = ""
    dovecot_password: str = ""
    postfix_dir: str = "/etc/postfix/mailadmin"
    dovecot_dir: str = "/etc/dovecot"
    mail_base: str = "/var/vmail"
    min_uid: int = 1000
    password_scheme: str = "ARGON2ID"  # noqa: S105 - a scheme name
    mynetworks: str = "127.0.0.0/8 [::1]/128"
    proxy: bool = True
    mysql_role_host: str = "%"
    # Where Dovecot opens its SASL socket for Postfix; under the Postfix queue directory
    # main.cf names it relative to it (private/auth), elsewhere by its absolute path.
    sasl_socket: str = POSTFIX_SASL_SOCKET
    # The address extension delimiter (MAILADMIN_RECIPIENT_DELIMITER): Postfix's
    # recipient_delimiter; empty means no extensions.
    recipient_delimiter: str = "+"
    message_size_limit: int = 26214400  # MAILADMIN_MESSAGE_SIZE_LIMIT, bytes
    # The certificate (full chain) and key for Postfix and Dovecot; none: no TLS lines.
    tls_cert: str = ""
    tls_key: str = ""
    # The master.cf service names of submission (STARTTLS) and submissions (implicit TLS):
    # a port name from /etc/services or host:port.
    submission_listen: str = "submission"
    submissions_listen: str = "submissions"
    extra: dict[str, str] = field(default_factory=dict)

    def check(self) -> None:
        if self.dialect not in ("pgsql", "mysql", "sqlite"):
            raise ValueError(f"unknown dialect {self.dialect!r}: use pgsql, mysql or sqlite")
        for role in (self.postfix_role, self.dovecot_role):
            if not _ROLE.match(role):
                raise ValueError(f"role name {role!r}: use lowercase letters, digits and _")
        if self.postfix_role == self.dovecot_role:
            raise ValueError("the Postfix and Dovecot roles must differ")
        for label, path in (
            ("mail base", self.mail_base),
            ("Postfix config dir", self.postfix_dir),
            ("Dovecot config dir", self.dovecot_dir),
            ("SASL socket", self.sasl_socket),
        ):
            if not _SAFE_PATH.match(path) or "/../" in path + "/":
                raise ValueError(f"{label} {path!r}: an absolute path of plain characters")
        if self.dialect == "sqlite" and not _SAFE_PATH.match(self.database):
            raise ValueError(f"SQLite database path {self.database!r}: an absolute plain path")
        if self.min_uid < 1:
            raise ValueError("the minimum uid must be at least 1")
        if not _DELIMITER.match(self.recipient_delimiter):
            raise ValueError(
                f"recipient delimiter {self.recipient_delimiter!r}: up to four of + - = _ ~,"
                " or empty for none"
            )
        if self.message_size_limit < 1024:
            raise ValueError("the message size limit must be at least 1024 bytes")
        if bool(self.tls_cert) != bool(self.tls_key):
            raise ValueError("give the TLS certificate and its key together, or neither")
        for label, path in (("TLS certificate", self.tls_cert), ("TLS key", self.tls_key)):
            if path and (not _SAFE_PATH.match(path) or "/../" in path + "/"):
                raise ValueError(f"{label} {path!r}: an absolute path of plain characters")
        for listen in (self.submission_listen, self.submissions_listen):
            if not _LISTEN.match(listen):
                raise ValueError(f"service {listen!r}: a port name, a port or host:port")
        if self.submission_listen == self.submissions_listen:
            raise ValueError("submission and submissions need different listeners")


def _postfix_hosts(target: Target) -> str:
    hosts = []
    for host, port in target.hosts or (("localhost", None),):
        if host.startswith("/"):
            hosts.append(f"unix:{host}")
        else:
            name = f"[{host}]" if ":" in host else host
            hosts.append(f"inet:{name}:{port}" if port else f"inet:{name}")
    return " ".join(hosts)


def postfix_table(target: Target, name: str) -> str:
    if name == SENDER_LOGIN_ACCESS:
        query = sender_login_access_query(target.dialect)
    else:
        query = exported_query(target.dialect, name)
    if target.dialect == "sqlite":
        # The Postfix file, never the panel's: it holds no password hash (sqlite_files.py).
        return f"dbpath = {sqlite_files.postfix_database(target.database)}\nquery = {query}\n"
    return (
        f"hosts = {_postfix_hosts(target)}\n"
        f"user = {target.postfix_role}\n"
        f"password = {target.postfix_password}\n"
        f"dbname = {target.database}\n"
        f"query = {query}\n"
    )


def table_reference(target: Target, name: str) -> str:
    prefix = "proxy:" if target.proxy else ""
    return f"{prefix}{target.dialect}:{target.postfix_dir}/{name}.cf"


# An access table for port 25's check_sender_access: every address a login owns (the
# smtpd_sender_login_maps lookup) answers a refusal, so nobody sends to our users as one of
# them without logging in on the submission port. It reads the same view or function as
# smtpd_sender_login_maps, which the Postfix role may already read.
SENDER_LOGIN_ACCESS = "sender_login_access"
SENDER_LOGIN_REFUSAL = "553 5.7.1 not logged in: our users send through the submission port"


def sender_login_access_query(dialect: str) -> str:
    query = exported_query(dialect, "smtpd_sender_login_maps")
    column = query.split()[1]  # "*" for the lookup function, "login" for the view
    return query.replace(f"SELECT {column} ", f"SELECT '{SENDER_LOGIN_REFUSAL}' ", 1) + " LIMIT 1"


def main_cf_lines(target: Target) -> str:
    recipient_access = table_reference(target, "recipient_access")
    sender_access = table_reference(target, SENDER_LOGIN_ACCESS)
    lines = [
        "# Apply with: grep -v '^#' main.cf.lines | while read -r l; do postconf -e \"$l\"; done",
        "# Mail for these domains is looked up in mailadmin's database at every message.",
    ]
    for parameter, tables in MAIN_CF_MAPS.items():
        refs = ", ".join(table_reference(target, t) for t in tables)
        lines.append(f"{parameter} = {refs}")
    lines += [
        f"virtual_mailbox_base = {target.mail_base}",
        f"virtual_minimum_uid = {target.min_uid}",
        "virtual_transport = virtual",
        # Postfix's default also lets relay_domains match subdomains: the query would be asked
        # for the parent of sub.relay.example and every subdomain of a relayed or backed-up
        # domain would be relayed. Only the exact names in mailadmin's tables are ours.
        f"parent_domain_matches_subdomains = {PARENT_DOMAIN_MATCHES_SUBDOMAINS}",
        # The local class is the machine itself (root@$myhostname stays here); hosted domains
        # live in virtual_mailbox_domains only, and the two must never share a name: the
        # host's name ($myhostname) is never a hosted domain (docs/operators.md, 7. Check).
        "mydestination = $myhostname, localhost.$mydomain, localhost",
        # Address extensions (user+tag@): the exact address first, then the address without
        # the extension, then the catch-all; the extension is dropped when a mailbox or alias
        # answers, so Dovecot LMTP and virtual(8) see only the exact key they store.
        f"recipient_delimiter = {target.recipient_delimiter}",
        "propagate_unmatched_extensions = canonical",
        f"message_size_limit = {target.message_size_limit}",
        # Never an open relay: only these networks and authenticated clients may relay, every
        # other recipient must be one of our domains.
        f"mynetworks = {target.mynetworks}",
        "smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated,"
        " reject_unauth_destination",
        # A disabled mailbox is refused at RCPT time for every client, local ones too.
        f"smtpd_recipient_restrictions = check_recipient_access {recipient_access},"
        " reject_non_fqdn_recipient, permit_mynetworks, permit_sasl_authenticated,"
        " reject_unauth_destination",
        # Unknown users of our domains are refused at RCPT time, not bounced later.
        "smtpd_reject_unlisted_recipient = yes",
        # Port 25 has no SMTP AUTH (reject_*_sender_login_mismatch would be ignored there):
        # a client outside mynetworks cannot send as an address one of our logins owns
        # (sender_login_access.cf), nor from a sender domain that is not a domain name
        # (reject_unknown_sender_domain asks the DNS, except for our own domains).
        "smtpd_sender_restrictions = permit_mynetworks, reject_non_fqdn_sender,"
        f" reject_unknown_sender_domain, check_sender_access {sender_access}",
        "smtpd_helo_required = yes",
        "disable_vrfy_command = yes",
        # SASL through Dovecot (auth-mailadmin.conf.ext opens private/auth for Postfix),
        # offered only by the submission services of master.cf.lines, never on port 25.
        "smtpd_sasl_type = dovecot",
        f"smtpd_sasl_path = {_postfix_sasl_path(target)}",
        "smtpd_sasl_auth_enable = no",
        "smtpd_tls_auth_only = yes",
    ]
    if target.tls_cert:
        lines += [
            # Port 25 offers STARTTLS to whoever wants it; submission requires it.
            f"smtpd_tls_chain_files = {target.tls_key}, {target.tls_cert}",
            "smtpd_tls_security_level = may",
            "smtpd_tls_mandatory_protocols = >=TLSv1.2",
            "smtpd_tls_protocols = >=TLSv1.2",
        ]
    else:
        lines.append(
            "# No TLS lines: export with --tls-cert and --tls-key for STARTTLS on port 25 and"
            " the submission services."
        )
    return "\n".join(lines) + "\n"


def _submission_overrides(target: Target, *, wrapper: bool) -> list[tuple[str, str]]:
    recipient_access = table_reference(target, "recipient_access")
    syslog = "submissions" if wrapper else "submission"
    overrides = [("syslog_name", f"postfix/{syslog}")]
    if wrapper:
        overrides.append(("smtpd_tls_wrappermode", "yes"))
    overrides += [
        ("smtpd_tls_security_level", "encrypt"),
        ("smtpd_sasl_auth_enable", "yes"),
        ("smtpd_tls_auth_only", "yes"),
        ("smtpd_client_restrictions", "permit_sasl_authenticated,reject"),
        ("smtpd_sender_restrictions", "reject_sender_login_mismatch"),
        ("smtpd_relay_restrictions", "permit_sasl_authenticated,reject"),
        (
            "smtpd_recipient_restrictions",
            f"check_recipient_access,{recipient_access},permit_sasl_authenticated,reject",
        ),
    ]
    return overrides


def master_cf_lines(target: Target) -> str:
    """The submission services, in the forms `postconf -M -e` and `postconf -P -e` take."""
    lines = [
        "# Apply: lines 'service/type = entry' with postconf -M -e, the others (the -o",
        "# overrides, 'service/type/parameter = value') with postconf -P -e.",
    ]
    if not target.tls_cert:
        lines.append(
            "# No submission service: it needs TLS (export with --tls-cert and --tls-key)."
        )
        return "\n".join(lines) + "\n"
    lines.append(
        "# SMTP AUTH only here, only after TLS: STARTTLS on submission, implicit TLS on"
        " submissions."
    )
    for listen, wrapper in ((target.submission_listen, False), (target.submissions_listen, True)):
        # chroot "-" (no): smtpd reaches proxymap and the SASL socket in the queue directory.
        lines.append(f"{listen}/inet = {listen} inet n - - - - smtpd")
        lines += [
            f"{listen}/inet/{name} = {value}"
            for name, value in _submission_overrides(target, wrapper=wrapper)
        ]
    return "\n".join(lines) + "\n"


def _postfix_sasl_path(target: Target) -> str:
    # smtpd resolves a relative path against its queue directory (and may run chrooted there).
    prefix = POSTFIX_QUEUE_DIR + "/"
    if target.sasl_socket.startswith(prefix):
        return target.sasl_socket[len(prefix) :]
    return target.sasl_socket


def _dovecot_connect(target: Target) -> str:
    if target.dialect == "sqlite":
        return target.database  # the panel's file: Dovecot reads the hashes
    parts = []
    hosts = target.hosts or (("localhost", None),)
    if target.dialect == "pgsql" and len(hosts) > 1:
        # libpq's own host list: tried in order, each with its own port (an empty item is the
        # default port). Several host= settings would be Dovecot's load balancing instead,
        # which gives every host the last port= and fails logins while one host is down.
        parts.append("host=" + ",".join(host for host, _ in hosts))
        if any(port for _, port in hosts):
            parts.append("port=" + ",".join(str(port) if port else "" for _, port in hosts))
        hosts = ()
    for host, port in hosts:
        parts.append(f"host={host}")
        if port:
            parts.append(f"port={port}")
    parts += [
        f"dbname={target.database}",
        f"user={target.dovecot_role}",
        f"password={target.dovecot_password}",
    ]
    return " ".join(parts)


def _dovecot_user_query(target: Target) -> str:
    base = target.mail_base.rstrip("/")

    def cat(*parts: str) -> str:
        if target.dialect == "mysql":
            return "CONCAT(" + ", ".join(parts) + ")"
        return " || ".join(parts)

    home = cat(f"'{base}/'", "home")
    mbox = cat(f"'mbox:~/mail:INBOX={base}/'", "maildir")
    maildir = cat(f"'maildir:{base}/'", "maildir")
    mail = f"CASE format WHEN 'mbox' THEN {mbox} ELSE {maildir} END"
    quota_rule = cat("'*:bytes='", "quota_bytes")
    quota = f"CASE WHEN quota_bytes > 0 THEN {quota_rule} ELSE NULL END"
    # Dovecot reads ":" in a mail location as the start of a parameter (INBOX=, INDEX=…) and
    # expands "%" in what the userdb returns. The database refuses both in paths
    # (mailboxes/paths.py); the query refuses the user too, whatever is stored, so a stored
    # path can never carry settings. "%%" is a literal "%" in a Dovecot query.
    position = (
        "strpos({column}, '{ch}')" if target.dialect == "pgsql" else "instr({column}, '{ch}')"
    )
    plain = " AND ".join(
        position.format(column=column, ch=ch) + " = 0"
        for column in ("home", "maildir")
        for ch in (":", "%%")
    )
    return (
        f"SELECT {home} AS home, {mail} AS mail, uid, gid, {quota} AS quota_rule"
        " FROM mailadmin_dovecot_userdb WHERE domain = '%d' AND local_part = '%n'"
        f" AND {plain}"
    )


def dovecot_sql_conf(target: Target) -> str:
    return (
        f"driver = {target.dialect}\n"
        f"connect = {_dovecot_connect(target)}\n"
        f"default_pass_scheme = {target.password_scheme}\n"
        "password_query = SELECT username AS user, password FROM mailadmin_dovecot_passdb"
        " WHERE domain = '%d' AND local_part = '%n'\n"
        f"user_query = {_dovecot_user_query(target)}\n"
        "iterate_query = SELECT username AS user FROM mailadmin_dovecot_userdb\n"
    )


# Every character an address may have in mailadmin (mailadmin/names.py: RFC 5322 atext less "/",
# "%" and the wildcards "*" and "?", letters in either case before %Lu lowercases them).
# Dovecot's default set is only letters, digits and ".-_@", which refuses the login of o'brien@
# or john+work@; the SQL drivers escape %n and %d themselves, this list is a second fence.
DOVECOT_USERNAME_CHARS = (
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_@!#$&'+=^`{|}~"
)


def dovecot_auth_conf(target: Target) -> str:
    args = f"{target.dovecot_dir}/dovecot-sql.conf.ext"
    return (
        "# Include from conf.d/10-auth.conf in place of auth-system.conf.ext:\n"
        "#   !include auth-mailadmin.conf.ext\n"
        "# Logins are full addresses; mailadmin stores them lowercase.\n"
        "auth_username_format = %Lu\n"
        # Quoted: unquoted, Dovecot would read # as a comment and ' as a string.
        f'auth_username_chars = "{DOVECOT_USERNAME_CHARS}"\n'
        f"first_valid_uid = {target.min_uid}\n"
        "passdb {\n"
        "  driver = sql\n"
        f"  args = {args}\n"
        "}\n"
        "userdb {\n"
        "  driver = sql\n"
        f"  args = {args}\n"
        "}\n"
        "# Postfix authenticates SMTP clients through this socket (smtpd_sasl_path).\n"
        "service auth {\n"
        f"  unix_listener {target.sasl_socket} {{\n"
        "    mode = 0660\n"
        "    user = postfix\n"
        "    group = postfix\n"
        "  }\n"
        "}\n"
        "# Address extensions are Postfix's work (recipient_delimiter in main.cf): it tries\n"
        "# the exact address first and hands LMTP the address a mailbox stores. Dovecot 2.3's\n"
        "# LMTP would cut the extension before its userdb lookup (plus+box@ delivered to plus@),\n"
        "# so it gets no delimiter, and no folder is made from an extension.\n"
        "recipient_delimiter =\n"
        "lmtp_save_to_detail_mailbox = no\n"
    ) + _dovecot_tls(target)


def _dovecot_tls(target: Target) -> str:
    if not target.tls_cert:
        return "# No TLS lines: export with --tls-cert and --tls-key for IMAP over TLS.\n"
    return (
        "# IMAP STARTTLS and imaps with the same certificate as Postfix; no password in clear\n"
        "# except from this host (Dovecot counts loopback connections as secured).\n"
        "ssl = yes\n"
        f"ssl_cert = <{target.tls_cert}\n"
        f"ssl_key = <{target.tls_key}\n"
        "ssl_min_protocol = TLSv1.2\n"
        "disable_plaintext_auth = yes\n"
    )


def scram_sha_256(password: str, salt_seed: str, iterations: int = 4096) -> str:
    """A PostgreSQL SCRAM-SHA-256 verifier, so roles.sql never holds a password in clear.

    The salt is derived from the password and the role so that exporting twice gives the same
    file (the hand-edit check compares contents).
    """
    salt = hashlib.sha256(f"{salt_seed}\0{password}".encode()).digest()[:16]
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()

    def b64(raw: bytes) -> str:
        return base64.b64encode(raw).decode()

    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


def mysql_native_password(password: str) -> str:
    """MariaDB's mysql_native_password hash: '*' + SHA1(SHA1(password)) in upper hex."""
    digest = hashlib.sha1(hashlib.sha1(password.encode()).digest()).hexdigest()  # noqa: S324
    return "*" + digest.upper()


def roles_sql(target: Target) -> str:
    roles = (
        (target.postfix_role, target.postfix_password, views_v1.POSTFIX_VIEWS),
        (target.dovecot_role, target.dovecot_password, views_v1.ALL_VIEWS),
    )
    if target.dialect == "pgsql":
        return _pgsql_roles(target, roles)
    if target.dialect == "mysql":
        return _mysql_roles(target, roles)
    return (
        "-- SQLite has no roles: file modes take their place. Postfix reads the Postfix file\n"
        f"-- {sqlite_files.postfix_database(target.database)} (no password hashes; owner the\n"
        "-- panel's user, group postfix, mode 0640); Dovecot reads the panel's own file\n"
        f"-- {target.database} (group dovecot, mode 0640). See docs/operators.md, SQLite.\n"
    )


def _pgsql_roles(target: Target, roles: tuple[tuple[str, str, tuple[str, ...]], ...]) -> str:
    database = target.database.replace('"', '""')
    out = [
        f"-- Run as the owner of the database: psql -d {target.database} -f roles.sql",
        "-- Read-only roles: Postfix may read the Postfix views only (no password hashes);",
        "-- Dovecot may also read mailadmin_dovecot_passdb. Neither can read a table.",
        "-- Postfix's tables call the mailadmin_postfix_*_lookup functions, which only Postfix",
        "-- may execute. Run again after every upgrade that adds a lookup function.",
    ]
    for role, password, views in roles:
        out += [
            "DO $$ BEGIN",
            f"  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN",
            f"    CREATE ROLE {role};",
            "  END IF;",
            "END $$;",
            f"ALTER ROLE {role} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT"
            f" PASSWORD '{scram_sha_256(password, role)}';",
            f"ALTER ROLE {role} SET default_transaction_read_only = on;",
            f'GRANT CONNECT ON DATABASE "{database}" TO {role};',
            f"GRANT USAGE ON SCHEMA public TO {role};",
            f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role};",
            f"GRANT SELECT ON {', '.join(views)} TO {role};",
            f"REVOKE ALL ON ALL FUNCTIONS IN SCHEMA public FROM {role};",
        ]
    # The exported tables call the lookup functions (created by the contract's migrations).
    signatures = ", ".join(function.signature for function in LOOKUP_FUNCTIONS)
    out.append(f"GRANT EXECUTE ON FUNCTION {signatures} TO {target.postfix_role};")
    return "\n".join(out) + "\n"


def _mysql_roles(target: Target, roles: tuple[tuple[str, str, tuple[str, ...]], ...]) -> str:
    database = target.database.replace("`", "``")
    host = target.mysql_role_host.replace("'", "")
    out = [
        f"-- Run as an administrator: mariadb {target.database} < roles.sql",
        "-- Read-only roles: Postfix may read the Postfix views only (no password hashes);",
        "-- Dovecot may also read mailadmin_dovecot_passdb. Neither can read a table.",
    ]
    for role, password, views in roles:
        account = f"'{role}'@'{host}'"
        hashed = mysql_native_password(password)
        out += [
            f"CREATE USER IF NOT EXISTS {account} IDENTIFIED BY PASSWORD '{hashed}';",
            f"ALTER USER {account} IDENTIFIED BY PASSWORD '{hashed}';",
        ]
        # No global REVOKE: it would also strip the account's grants on other databases
        # (a second mailadmin installation on the same server).
        out += [f"GRANT SELECT ON `{database}`.`{view}` TO {account};" for view in views]
    return "\n".join(out) + "\n"


def render_all(target: Target) -> dict[str, str]:
    """Relative path -> content of every file for `target`."""
    target.check()
    files = {f"postfix/{name}.cf": postfix_table(target, name) for name in POSTFIX_QUERIES}
    files[f"postfix/{SENDER_LOGIN_ACCESS}.cf"] = postfix_table(target, SENDER_LOGIN_ACCESS)
    files["postfix/main.cf.lines"] = main_cf_lines(target)
    files["postfix/master.cf.lines"] = master_cf_lines(target)
    files["dovecot/dovecot-sql.conf.ext"] = dovecot_sql_conf(target)
    files["dovecot/auth-mailadmin.conf.ext"] = dovecot_auth_conf(target)
    files["sql/roles.sql"] = roles_sql(target)
    return files
