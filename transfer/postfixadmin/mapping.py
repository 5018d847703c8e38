"""PostfixAdmin's rows as rows of the CSV import format (`map_rows`).

What PostfixAdmin stores and what it becomes here:
- domain: limits (`aliases`, `mailboxes`: count, 0 none, -1 "disabled", which has no
  equivalent here and becomes no limit, reported), `maxquota` and `quota` in MB (here bytes,
  1 MB = 1 MiB), `backupmx` (a backup-MX domain), `transport` ("virtual" is the default
  delivery; a bare transport name such as "dovecot" becomes "dovecot:"). The pseudo-domain
  ALL and the domain rows of alias domains are not domains here.
- mailbox: password hashes kept (`{SCHEME}` as is; crypt strings without a prefix get the
  scheme their prefix names: $1$ MD5-CRYPT, $5$ SHA256-CRYPT, $6$ SHA512-CRYPT, $2y$
  BLF-CRYPT, $argon2id$ ARGON2ID; 32 hex digits PLAIN-MD5; anything else is taken as a clear
  password and hashed with the default scheme, unless it looks like a hash we cannot verify),
  the maildir path (relative to the mail base) and the quota in bytes.
- alias: `goto` is split into one destination a row. PostfixAdmin gives every mailbox an alias
  to itself; here a mailbox answers for itself, so that alias is left out. A mailbox alias
  whose destinations add others becomes an alias that keeps a copy (its own address stays in
  the list). Vacation destinations (`user#domain@autoreply...`) belong to PostfixAdmin's
  vacation script and are dropped (reported): the replies themselves come from its vacation
  table (vacations.py) and are sent by Dovecot's Sieve here.
- alias_domain: an alias domain.

A migration brings over every mailbox, alias and alias domain PostfixAdmin serves: where a
row breaks one of our rules, it is kept with the adjustment least surprising for the mail and
a note says what changed (`_fit_limits`, `_fit_path`, `map_password`):
- a quota above the domain's per-mailbox maximum, or 0 (no limit) in a domain with one,
  becomes the domain's maximum; 0 in a domain with only a total quota becomes that total;
- more mailboxes or aliases than the domain allows, or quotas that add up to more than its
  total: the domain's limit is raised to what it holds (PostfixAdmin served them all);
- a maildir path outside our path rule (a space, a path not under its own domain) becomes the
  usual domain/local/ path: the note gives the `mv` to run before the switch;
- a password hash we cannot verify (or a locked one): the mailbox keeps receiving mail with
  a random password nobody knows; the note says to set one.
Skipped, with the reason, is only what cannot be kept: a local part we refuse (`*`, `?`,
whose mail tools read them as wildcards), a maildir path with `:` or `%` (Dovecot reads them as
configuration, so where the mail really is cannot be told), a destination that is no address,
aliases inside an alias domain.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError

from mailadmin import passwords
from mailboxes.paths import canonical_path, check_path
from transfer.csvformat import Record
from transfer.postfixadmin.source import PfaData, as_flag, as_text
from transfer.rows import split_address

MB = 1024 * 1024
_CRYPT_PREFIXES = (
    ("$argon2id$", "ARGON2ID"),
    ("$argon2i$", "ARGON2I"),
    ("$1$", "MD5-CRYPT"),
    ("$5$", "SHA256-CRYPT"),
    ("$6$", "SHA512-CRYPT"),
    ("$2y$", "BLF-CRYPT"),
    ("$2a$", "BLF-CRYPT"),
    ("$2b$", "BLF-CRYPT"),
)
_HEX32 = re.compile(r"^[0-9a-fA-F]{32}$")
_VACATION = re.compile(r"^[^@]+#[^@]+@")


def map_password(stored: str) -> tuple[str | None, str]:
    """(value for the password column, note). None: the password cannot be imported (the
    mailbox then gets a random one: `_mailbox_password`)."""
    value = stored.strip()
    if not value:
        return None, "no password"
    if value.startswith("{"):
        if passwords.is_known_hash(value):
            return value, ""
        return None, f"password scheme {value.split('}')[0]}}} cannot be verified here"
    for prefix, scheme in _CRYPT_PREFIXES:
        if value.startswith(prefix):
            return f"{{{scheme}}}{value}", ""
    if _HEX32.match(value):
        return "{PLAIN-MD5}" + value.lower(), ""
    if value.startswith(("$", "*", "!")) or len(value) < 8:
        # A crypt string we do not know, or a locked/short one: not a password anyone uses.
        return None, "the stored password is neither a hash mailadmin can verify nor usable"
    # PostfixAdmin's "cleartext" setting stores passwords in clear: hash them now.
    return value, "clear password hashed with the default scheme"


def map_transport(value: str) -> str:
    text = value.strip()
    if text in ("", "virtual", "virtual:"):
        return ""
    if ":" not in text:
        return f"{text}:"
    return text


def _limit(value: Any, what: str, domain: str, notes: list[str]) -> str:
    number = int(value or 0)
    if number < 0:
        notes.append(f"{domain}: {what} = {number} (disabled) has no equivalent; no limit set")
        return "0"
    return str(number)


def _mailbox_password(username: str, stored: str, notes: list[str]) -> str:
    """The password cell; a hash we cannot verify becomes a random password nobody knows, so
    that the mailbox keeps receiving mail until an admin sets a new one."""
    password, note = map_password(stored)
    if password is None:
        notes.append(
            f"mailbox {username}: {note}; it got a random password: set a new one with "
            f"`manage.py mailbox passwd {username}`"
        )
        return passwords.generate_password()
    if note:
        notes.append(f"mailbox {username}: {note}")
    return password


def _fit_path(username: str, path: str, storage_format: str, notes: list[str]) -> str | None:
    """`path` if our path rule takes it; else the usual path with a note to move the mail
    there, or None (skip) when Dovecot would read part of it as configuration."""
    try:
        local_part, domain = split_address(username)
    except ValidationError:
        return path  # the importer refuses the address itself, with its reason
    try:
        return check_path(path, domain=domain, local_part=local_part, storage_format=storage_format)
    except ValidationError as exc:
        if ":" in path or "%" in path:
            return None
        usual = canonical_path(domain, local_part, storage_format)
        base = settings.MAILADMIN_MAIL_BASE.rstrip("/")
        notes.append(
            f"mailbox {username}: maildir {path!r} is refused here ({' '.join(exc.messages)}); "
            f"it gets {usual}: before the switch run mv {shlex.quote(f'{base}/{path}')} "
            f"{shlex.quote(f'{base}/{usual}')}"
        )
        return usual


def _fit_limits(mapping: Mapping, domains: dict[str, dict[str, str]]) -> None:
    """Quotas and counts within the limits of their domain: a mailbox's quota is fitted to the
    per-mailbox maximum, then a domain's limits are raised to what PostfixAdmin served."""
    mailboxes: dict[str, int] = {}
    aliases: dict[str, int] = {}
    quota: dict[str, int] = {}
    for record in mapping.records:
        kind = record.cells["type"]
        if kind not in ("mailbox", "alias"):
            continue
        name = record.cells["name"]
        domain = name.rpartition("@")[2].strip().lower()
        cells = domains.get(domain)
        if cells is None:
            continue
        if kind == "alias":
            aliases[domain] = aliases.get(domain, 0) + 1
            continue
        mailboxes[domain] = mailboxes.get(domain, 0) + 1
        given = int(record.cells["quota"])
        most, total = int(cells["max_quota"]), int(cells["total_quota"])
        fitted = given
        if most and (given == 0 or given > most):
            fitted = most
        elif not most and total and given == 0:
            fitted = total
        if fitted != given:
            record.cells["quota"] = str(fitted)
            shown = "no limit" if given == 0 else f"{given} bytes"
            mapping.notes.append(
                f"mailbox {name}: quota {shown} does not fit {domain}'s "
                f"{'maximum' if most else 'total'}; it gets {fitted} bytes"
            )
        quota[domain] = quota.get(domain, 0) + fitted
    for domain, cells in domains.items():
        for column, what, held in (
            ("max_mailboxes", "mailboxes", mailboxes.get(domain, 0)),
            ("max_aliases", "aliases", aliases.get(domain, 0)),
            ("total_quota", "bytes of quota", quota.get(domain, 0)),
        ):
            limit = int(cells[column])
            if limit and held > limit:
                cells[column] = str(held)
                mapping.notes.append(
                    f"{domain}: {column} raised from {limit} to {held}: PostfixAdmin serves "
                    f"{held} {what} there"
                )


def _maildir(value: str) -> tuple[str, str]:
    """(path under the mail base, storage format)."""
    path = value.strip()
    base = settings.MAILADMIN_MAIL_BASE.rstrip("/") + "/"
    if path.startswith(base):
        path = path[len(base) :]
    return path, "maildir" if path.endswith("/") else "mbox"


@dataclass
class Mapping:
    """PostfixAdmin's rows as import records, with what was left out and why."""

    records: list[Record] = field(default_factory=list)
    labels: dict[int, str] = field(default_factory=dict)
    left_out: list[tuple[str, str]] = field(default_factory=list)  # (what, why)
    notes: list[str] = field(default_factory=list)

    def add(self, label: str, cells: dict[str, str]) -> None:
        line = len(self.records) + 1
        self.records.append(Record(line, cells))
        self.labels[line] = label


def map_rows(data: PfaData) -> Mapping:
    mapping = Mapping()
    domain_cells: dict[str, dict[str, str]] = {}
    alias_domains = {as_text(r["alias_domain"]).lower() for r in data.rows("alias_domain")}
    mailboxes = {as_text(r["username"]).strip().lower() for r in data.rows("mailbox")}
    for row in data.rows("domain"):
        name = as_text(row["domain"]).strip()
        if name.upper() == "ALL":
            continue  # PostfixAdmin's pseudo-domain of superadmins
        if name.lower() in alias_domains:
            continue  # imported from alias_domain
        notes = mapping.notes
        domain_cells[name.lower()] = cells = {
            "type": "domain",
            "name": name,
            "display_name": as_text(row.get("description")),
            "delivery": "backup" if as_flag(row.get("backupmx")) else "hosted",
            "transport": map_transport(as_text(row.get("transport"))),
            "max_mailboxes": _limit(row.get("mailboxes"), "mailboxes", name, notes),
            "max_aliases": _limit(row.get("aliases"), "aliases", name, notes),
            "max_quota": str(max(int(row.get("maxquota") or 0), 0) * MB),
            "total_quota": str(max(int(row.get("quota") or 0), 0) * MB),
            "active": "yes" if as_flag(row.get("active", True)) else "no",
        }
        if cells["delivery"] == "backup":
            # PostfixAdmin's backup MX takes mail for any local part; so does it here, until
            # the domain's recipients are listed (docs/import-export.md).
            cells["accept_any"] = "yes"
            notes.append(
                f"{name}: backup MX accepting every recipient, as in PostfixAdmin; list its "
                f"recipients (`manage.py relayrecipient replace {name}`) and turn that off "
                f"(`manage.py relayrecipient accept-any {name} no`) to stop backscatter"
            )
        mapping.add(f"domain {name}", cells)
    for row in data.rows("alias_domain"):
        name = as_text(row["alias_domain"])
        mapping.add(
            f"alias domain {name}",
            {
                "type": "aliasdomain",
                "name": name,
                "target": as_text(row["target_domain"]),
                "active": "yes" if as_flag(row.get("active", True)) else "no",
            },
        )
    for row in data.rows("mailbox"):
        username = as_text(row["username"]).strip()
        path, storage_format = _maildir(as_text(row.get("maildir")))
        fitted = _fit_path(username, path, storage_format, mapping.notes)
        if fitted is None:
            mapping.left_out.append(
                (
                    f"mailbox {username}",
                    f"maildir {path!r} holds “:” or “%”, which Dovecot reads as configuration "
                    "in a mail location: fix it in PostfixAdmin and run the migration again",
                )
            )
            continue
        password = _mailbox_password(username, as_text(row.get("password")), mapping.notes)
        mapping.add(
            f"mailbox {username}",
            {
                "type": "mailbox",
                "name": username,
                "password": password,
                "display_name": as_text(row.get("name")),
                "quota": str(max(int(row.get("quota") or 0), 0)),
                "format": storage_format,
                "maildir": fitted,
                "active": "yes" if as_flag(row.get("active", True)) else "no",
            },
        )
    for row in data.rows("alias"):
        _map_alias(mapping, row, mailboxes, alias_domains)
    _fit_limits(mapping, domain_cells)
    return mapping


def _map_alias(
    mapping: Mapping, row: dict[str, Any], mailboxes: set[str], alias_domains: set[str]
) -> None:
    address = as_text(row["address"]).strip()
    key = address.lower()
    destinations: list[str] = []
    for item in as_text(row.get("goto")).split(","):
        destination = item.strip()
        if not destination:
            continue
        if _VACATION.match(destination):
            mapping.notes.append(f"alias {address}: vacation destination {destination} left out")
            continue
        destinations.append(destination)
    if key in mailboxes and [d.lower() for d in destinations] in ([key], []):
        return  # the mailbox's alias to itself: implicit here
    if not destinations:
        mapping.left_out.append((f"alias {address}", "no destination"))
        return
    if key.rpartition("@")[2] in alias_domains:
        mapping.left_out.append(
            (
                f"alias {address}",
                "an alias in an alias domain: here an alias domain mirrors its target's "
                "addresses and has none of its own",
            )
        )
        return
    mapping.add(
        f"alias {address}",
        {
            "type": "alias",
            "name": address,
            "destinations": " ".join(destinations),
            "active": "yes" if as_flag(row.get("active", True)) else "no",
        },
    )
