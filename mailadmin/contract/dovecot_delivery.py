"""Dovecot as the delivery agent: LMTP for Postfix, the quota plugin and its policy service,
usage written back to the database, the panel's Sieve scripts and ManageSieve for clients.

Three files (Dovecot 2.3 syntax, Debian 12):
- delivery-mailadmin.conf.ext, included at the end of dovecot.conf;
- dovecot-dict-sql.conf.ext, the SQL dict behind quota_clone and the Sieve dict storage;
- mailadmin-quota-warning.sh, run by the quota-warning service at 80, 95 and 100%.

Everything per user comes from the database at the next message: the limit is the userdb's
quota_rule, the rules are the script in mailadmin_dovecot_sieve, and the web process never
writes a file on the mail host. With `delivery = virtual` Postfix's virtual(8) delivers, and
the file keeps only what IMAP needs (the quota plugin and the usage copy).
"""

from __future__ import annotations

import re
from email.header import Header

from django.utils.translation import gettext as _
from django.utils.translation import override

from mailadmin.contract.dovecot_files import dovecot_connect
from mailadmin.contract.target import Target, is_loopback
from mailadmin.contract.usage_table import TABLE as USAGE_TABLE

DELIVERY_CONF = "delivery-mailadmin.conf.ext"
DICT_CONF = "dovecot-dict-sql.conf.ext"
QUOTA_WARNING_SCRIPT = "mailadmin-quota-warning.sh"
DICT_NAME = "mailadmin"
# The name of the panel's script in the Sieve dict (the view's constant name column).
PANEL_SCRIPT = "panel"
# quota-status answers: DUNNO lets the next restriction decide (unknown users, relayed
# recipients, mailboxes below their quota); a full mailbox is refused at RCPT time.
OVERQUOTA_REPLY = "552 5.2.2 Mailbox is full"
# Highest first: Dovecot runs only the first threshold a change crosses.
WARNING_PERCENTS = (100, 95, 80)
DOVECOT_LDA = "/usr/lib/dovecot/dovecot-lda"


def writes_usage(target: Target) -> bool:
    """Whether Dovecot writes the usage back. Not into SQLite: with no roles, a Dovecot that
    may write one table of the panel's file may write every one (docs/operators.md)."""
    return target.dialect != "sqlite"


def dict_sql_conf(target: Target) -> str:
    """The maps of Dovecot's SQL dict: quota_clone's two keys, Pigeonhole's two lookups."""
    maps = [
        ("priv/sieve/name/$name", "mailadmin_dovecot_sieve", "data_id", {"name": "$name"}),
        ("priv/sieve/data/$id", "mailadmin_dovecot_sieve", "script", {"data_id": "$id"}),
    ]
    if writes_usage(target):
        maps += [
            ("priv/quota/storage", USAGE_TABLE, "bytes", {}),
            ("priv/quota/messages", USAGE_TABLE, "messages", {}),
        ]
    out = [
        "# Dovecot's SQL dict for mailadmin: the panel's Sieve scripts read (sieve_before) and",
        "# quota usage written back (quota_clone). Keys are per user: username is %u.",
        # As the Dovecot role, as the passdb: the one role that may write this table.
        f"connect = {dovecot_connect(target)}",
    ]
    for pattern, table, value_field, fields in maps:
        out += [
            "map {",
            f"  pattern = {pattern}",
            f"  table = {table}",
            "  username_field = username",
            f"  value_field = {value_field}",
        ]
        if value_field in ("bytes", "messages"):
            out.append("  value_type = uint")
        if fields:
            out.append("  fields {")
            out += [f"    {name} = {value}" for name, value in fields.items()]
            out.append("  }")
        out.append("}")
    return "\n".join(out) + "\n"


def _lmtp_lines(target: Target) -> list[str]:
    protocols = "lmtp sieve" if target.managesieve_port else "lmtp"
    lines = [
        f"protocols = $protocols {protocols}",
        "# Postfix delivers here (virtual_transport = lmtp:unix:private/dovecot-lmtp).",
        "service lmtp {",
        f"  unix_listener {target.lmtp_socket} {{",
        "    mode = 0600",
        "    user = postfix",
        "    group = postfix",
        "  }",
        "}",
        "protocol lmtp {",
        "  mail_plugins = $mail_plugins sieve",
        "}",
        "# A full mailbox is refused at RCPT in LMTP too: mail that reached it through an",
        "# alias passed quota-status under the alias's address.",
        "lmtp_rcpt_check_quota = yes",
        "# Postfix's policy check at RCPT time (check_policy_service in main.cf).",
        "service quota-status {",
        "  executable = quota-status -p postfix",
        f"  unix_listener {target.quota_status_socket} {{",
        "    mode = 0600",
        "    user = postfix",
        "    group = postfix",
        "  }",
        "  client_limit = 1",
        "}",
        "service quota-warning {",
        f"  executable = script {target.dovecot_dir}/{QUOTA_WARNING_SCRIPT}",
        "  # Root: dovecot-lda switches to the uid of the mailbox it writes the warning into.",
        "  user = root",
        "  unix_listener quota-warning {",
        "    mode = 0660",
        f"    group = {target.mail_group}",
        "  }",
        "}",
    ]
    if target.managesieve_port:
        lines += [
            "# ManageSieve (RFC 5804) for mail clients: their scripts live in the mail home",
            "# (~/sieve) and run after the panel's rules; the panel never writes them.",
            "service managesieve-login {",
            "  inet_listener sieve {",
            f"    port = {target.managesieve_port}",
            "  }",
            "}",
        ]
    if target.doveadm_port:
        lines += _doveadm_lines(target)
    if target.submission_host:
        lines.append(f"submission_host = {target.submission_host}")
    return lines


def _doveadm_lines(target: Target) -> list[str]:
    """doveadm's HTTP API for the panel, which cannot read the mail homes itself."""
    lines = [
        "# doveadm's HTTP API for the panel (MAILADMIN_DOVEADM_URL): it lists the scripts mail",
        "# clients keep over ManageSieve (sieveList of Pigeonhole's doveadm plugin, which",
        "# doveadm loads by itself) to show them to the owner and the admins; it never changes",
        "# them. The key may run every doveadm command on every mailbox: this file stays",
        "# readable by root and the dovecot group only.",
        f"doveadm_api_key = {target.doveadm_api_key}",
        "service doveadm {",
        "  inet_listener http {",
        f"    address = {target.doveadm_listen}",
        f"    port = {target.doveadm_port}",
    ]
    if not is_loopback(target.doveadm_listen):
        lines.append("    # Reachable from other hosts: TLS with the certificate above.")
        lines.append("    ssl = yes")
    lines += ["  }", "}"]
    return lines


def _plugin_lines(target: Target) -> list[str]:
    lines = [
        "plugin {",
        "  # The limit is the userdb's quota_rule (the mailbox's quota; none: no limit).",
        "  quota = count:User quota",
        "  quota_vsizes = yes",
        "  # The message that crosses the limit is still taken, up to 10% over it.",
        "  quota_grace = 10%%",
    ]
    if writes_usage(target):
        lines.append(f"  quota_clone_dict = proxy::{DICT_NAME}")
    else:
        lines.append("  # No quota_clone: Dovecot may not write the panel's SQLite file.")
    if target.delivery == "lmtp":
        lines += [
            "  quota_status_success = DUNNO",
            "  quota_status_nouser = DUNNO",
            f'  quota_status_overquota = "{OVERQUOTA_REPLY}"',
        ]
        for number, percent in enumerate(WARNING_PERCENTS, start=1):
            suffix = "" if number == 1 else str(number)
            lines.append(
                f"  quota_warning{suffix} = storage={percent}%% quota-warning {percent} %u"
                " %{userdb:mailadmin_language}"
            )
        lines += [
            "  # The panel's rules first (filters, vacation, spam to Junk), from the database;",
            "  # then the script a mail client uploaded over ManageSieve, if one is active.",
            "  # No name here starts with a dot: the Maildir is the home itself, where Maildir++",
            "  # takes every .name for a folder (.dovecot.sieve breaks the quota count).",
            f"  sieve_before = dict:proxy::{DICT_NAME};name={PANEL_SCRIPT};bindir=~/sieve-bin",
            "  sieve = file:~/sieve;active=~/dovecot.sieve",
            "  # Vacation replies go from <> (RFC 3834) and answer the address the mail was",
            "  # sent to, an alias's included.",
            "  sieve_vacation_use_original_recipient = yes",
        ]
    lines.append("}")
    return lines


def delivery_conf(target: Target) -> str:
    kind = (
        "Dovecot LMTP delivers (quota enforced at RCPT time, Sieve filters and vacation)"
        if target.delivery == "lmtp"
        else "Postfix's virtual(8) delivers: no quota at delivery, no Sieve, usage only"
        " as IMAP sees it"
    )
    lines = [
        f"# mailadmin: {kind}.",
        f"# Include at the end of dovecot.conf: !include {target.dovecot_dir}/{DELIVERY_CONF}",
        "mail_plugins = $mail_plugins quota" + (" quota_clone" if writes_usage(target) else ""),
        "protocol imap {",
        "  mail_plugins = $mail_plugins imap_quota",
        "}",
        "# Mail processes run as each mailbox's uid; this group reaches the dict socket and",
        "# the quota-warning socket.",
        f"mail_access_groups = {target.mail_group}",
        "dict {",
        f"  {DICT_NAME} = {target.dialect}:{target.dovecot_dir}/{DICT_CONF}",
        "}",
        "service dict {",
        "  unix_listener dict {",
        "    mode = 0660",
        f"    group = {target.mail_group}",
        "  }",
        "}",
    ]
    if target.delivery == "lmtp":
        lines += _lmtp_lines(target)
    lines += _plugin_lines(target)
    return "\n".join(lines) + "\n"


def _warning_texts(language: str) -> tuple[str, str]:
    """(Subject header, body) in `language`; the shell fills in $PERCENT and $USER.

    The figure stays outside the subject's encoded word, where the shell can reach it.
    """
    with override(language):
        label = _("Mailbox usage:")
        body = _(
            "Your mailbox $USER is %(percent)s%% full.\n\n"
            "When it is full, new mail to it is refused. Delete old messages or empty the "
            "Trash and Junk folders, or ask your administrator for more space.\n"
        ) % {"percent": "$PERCENT"}
    if not label.isascii():
        label = Header(label, "utf-8").encode()
    return f"{label} $PERCENT%", body


def _sh_double_quoted(text: str) -> str:
    """`text` as a shell word in which $PERCENT and $USER expand and nothing else does."""
    escaped = re.sub(r'([\\"`])', r"\\\1", text)
    return '"' + re.sub(r"\$(?!PERCENT\b|USER\b)", r"\\$", escaped) + '"'


def quota_warning_script(target: Target) -> str:
    cases = []
    for language, pattern in (("uk", "uk*"), ("en", "*")):
        subject, body = _warning_texts(language)
        cases += [
            f"    {pattern})",
            f"        SUBJECT={_sh_double_quoted(subject)}",
            f"        BODY={_sh_double_quoted(body)} ;;",
        ]
    percents = "|".join(str(p) for p in WARNING_PERCENTS)
    return "\n".join(
        [
            "#!/bin/sh",
            "# mailadmin's quota warning (export_maps writes it). Dovecot's quota-warning",
            "# service runs it as root with PERCENT USER LANGUAGE when a mailbox crosses 80, 95",
            "# or 100% of its quota; the warning goes into the mailbox itself (past the quota)",
            "# in the owner's language, from the postmaster of the mailbox's domain.",
            "set -eu",
            "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
            "PERCENT=${1:-} USER=${2:-} LANGUAGE=${3:-}",
            "# The socket is open to every mail process: take only what Dovecot sends (the",
            "# arguments are always quoted below; these checks keep the message sane).",
            f'case $PERCENT in {percents}) ;; *) echo "bad percent" >&2; exit 64 ;; esac',
            'case $USER in *@*.*) ;; *) echo "bad user" >&2; exit 64 ;; esac',
            'case $USER in *[[:cntrl:]/]*) echo "bad user" >&2; exit 64 ;; esac',
            "DOMAIN=${USER##*@}",
            "case $LANGUAGE in",
            *cases,
            "esac",
            "{",
            '    printf "From: postmaster@%s\\n" "$DOMAIN"',
            '    printf "To: %s\\n" "$USER"',
            '    printf "Subject: %s\\n" "$SUBJECT"',
            '    printf "Auto-Submitted: auto-generated\\n"',
            '    printf "MIME-Version: 1.0\\n"',
            '    printf "Content-Type: text/plain; charset=utf-8\\n"',
            '    printf "Content-Transfer-Encoding: 8bit\\n\\n"',
            '    printf "%s" "$BODY"',
            f'}} | {DOVECOT_LDA} -c {target.dovecot_conf} -d "$USER" \\',
            # Without the quota plugin: past the quota, and with no warnings of its own (the
            # warning may cross the next threshold, whose warning would cross the next). The
            # usage copy follows at the mailbox's next change.
            "    -o mail_plugins=",
            "",
        ]
    )
