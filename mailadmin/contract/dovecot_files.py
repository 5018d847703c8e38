"""The Dovecot files: the SQL passdb and userdb (dovecot-sql.conf.ext) and the auth include
(auth-mailadmin.conf.ext) with the SASL socket for Postfix and the TLS lines."""

from __future__ import annotations

from mailadmin.contract.target import Target


def dovecot_connect(target: Target) -> str:
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
    # The owner's language, for the quota warnings (delivery-mailadmin.conf.ext passes
    # %{userdb:mailadmin_language} to the warning script); one probe of the login key.
    language = (
        "(SELECT o.language FROM mailadmin_dovecot_owner o WHERE o.username = '%u')"
        " AS mailadmin_language"
    )
    return (
        f"SELECT {home} AS home, {mail} AS mail, uid, gid, {quota} AS quota_rule, {language}"
        " FROM mailadmin_dovecot_userdb WHERE domain = '%d' AND local_part = '%n'"
        f" AND {plain}"
    )


def dovecot_sql_conf(target: Target) -> str:
    return (
        f"driver = {target.dialect}\n"
        f"connect = {dovecot_connect(target)}\n"
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
