"""The Postfix files: one lookup table (.cf) per exported query, the sender_login_access table
for port 25, and the main.cf and master.cf lines in the forms postconf takes."""

from __future__ import annotations

from mailadmin.contract import sqlite_files
from mailadmin.contract.queries import MAIN_CF_MAPS, exported_query
from mailadmin.contract.target import POSTFIX_QUEUE_DIR, Target

# postconf -d parent_domain_matches_subdomains (Postfix 3.7) without relay_domains.
PARENT_DOMAIN_MATCHES_SUBDOMAINS = (
    "debug_peer_list, fast_flush_domains, mynetworks, permit_mx_backup_networks,"
    " qmqpd_authorized_clients, smtpd_access_maps"
)


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


def _quota_check(target: Target) -> str:
    """The restriction that asks Dovecot's quota-status at RCPT time (LMTP delivery only)."""
    if target.delivery != "lmtp":
        return ""
    return f"check_policy_service unix:{postfix_socket_path(target.quota_status_socket)}"


def main_cf_lines(target: Target) -> str:
    recipient_access = table_reference(target, "recipient_access")
    quota_check = _quota_check(target)
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
        *_transport_lines(target),
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
        # A disabled mailbox is refused at RCPT time for every client, local ones too, and
        # so is a full one (Dovecot's quota-status: 552 5.2.2) instead of a bounce later.
        f"smtpd_recipient_restrictions = check_recipient_access {recipient_access},"
        " reject_non_fqdn_recipient,"
        + (f" {quota_check}," if quota_check else "")
        + " permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination",
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
        f"smtpd_sasl_path = {postfix_socket_path(target.sasl_socket)}",
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
    quota_check = _quota_check(target)
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
            f"check_recipient_access,{recipient_access},"
            + (quota_check.replace(" ", ",") + "," if quota_check else "")
            + "permit_sasl_authenticated,reject",
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


def postfix_socket_path(path: str) -> str:
    """A socket as main.cf names it: relative to the queue directory when it is inside it
    (smtpd and the lmtp client may run chrooted there), else absolute."""
    prefix = POSTFIX_QUEUE_DIR + "/"
    if path.startswith(prefix):
        return path[len(prefix) :]
    return path


def _transport_lines(target: Target) -> list[str]:
    if target.delivery == "virtual":
        return [
            "# virtual(8) delivers (export_maps --delivery virtual): no quota at delivery,",
            "# no Sieve filters or vacation replies.",
            "virtual_transport = virtual",
        ]
    return [
        # Dovecot delivers (delivery-mailadmin.conf.ext); virtual_mailbox_base and the uid/gid
        # maps stay for virtual(8), which a domain's own transport may still name.
        f"virtual_transport = lmtp:unix:{postfix_socket_path(target.lmtp_socket)}",
        # When quota-status cannot answer (Dovecot restarting), take the mail: LMTP checks
        # the quota again, and a temporary failure there keeps it queued.
        "smtpd_policy_service_default_action = DUNNO",
        # Dovecot 2.3's LMTP offers no SMTPUTF8: a message that needs it would be accepted and
        # then bounced (5.6.7). Not offered, the sending server uses A-labels or keeps it.
        "smtputf8_enable = no",
    ]
