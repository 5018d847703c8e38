"""Migration from a PostfixAdmin database (PostgreSQL or MySQL/MariaDB).

PostfixAdmin's tables are read as they are (`SELECT *`, so that columns added or missing in
its versions do not matter) and turned into rows of the CSV import format, which then go
through the same importer as a CSV file: the same rules, limits and normalisation. Rows that
break a rule are skipped and reported, never half-imported; objects that already exist are
skipped, so a second run changes nothing.

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
- alias: `goto` is split into one destination a row. PostfixAdmin gives every mailbox an alias
  to itself; here a mailbox answers for itself, so that alias is left out. A mailbox alias
  whose destinations add others becomes an alias that keeps a copy (its own address stays in
  the list). Vacation destinations (`user#domain@autoreply...`) belong to PostfixAdmin's
  vacation script and are dropped (reported).
- alias_domain: an alias domain. admin/domain_admins: users; a superadmin is one with
  `superadmin` set or a domain_admins row for ALL (older versions). Their passwords are not
  imported (PostfixAdmin's admin hashes are not Django's): set one with `changepassword`.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction

from domains.models import Domain
from mailadmin import dburl, passwords
from mailboxes.paths import canonical_path, check_path
from transfer.csvformat import Record
from transfer.importer import Importer, Report, analyze_tables
from transfer.rows import split_address

MB = 1024 * 1024
TABLES = ("domain", "mailbox", "alias", "alias_domain", "admin", "domain_admins")
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


class SourceError(Exception):
    pass


@dataclass
class PfaData:
    tables: dict[str, list[dict[str, Any]]]

    def rows(self, table: str) -> list[dict[str, Any]]:
        return self.tables.get(table, [])


def _truthy(value: Any) -> bool:
    if isinstance(value, bytes):
        value = value.decode()
    if isinstance(value, str):
        return value.strip().lower() in {"1", "t", "true", "y", "yes"}
    return bool(value)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def read_source(url: str, password: str | None = None) -> PfaData:
    """Every row of PostfixAdmin's tables; a missing table reads as empty."""
    try:
        parts = dburl.parse(url)
    except ValueError as exc:
        raise SourceError(str(exc)) from None
    secret = password if password is not None else parts.password
    if parts.dialect == "pgsql":
        return _read_pgsql(parts, secret)
    if parts.dialect == "mysql":
        return _read_mysql(parts, secret)
    raise SourceError("PostfixAdmin runs on PostgreSQL or MySQL/MariaDB: use one of their URLs")


def _read_pgsql(parts: dburl.DatabaseURL, password: str) -> PfaData:
    import psycopg
    from psycopg.rows import dict_row

    kwargs: dict[str, Any] = {"dbname": parts.name, "user": parts.user or None}
    if parts.hosts:
        kwargs["host"] = ",".join(h for h, _p in parts.hosts)
        kwargs["port"] = ",".join(str(p or 5432) for _h, p in parts.hosts)
    if password:
        kwargs["password"] = password
    try:
        conn = psycopg.connect(**kwargs, row_factory=dict_row)
    except psycopg.Error as exc:
        raise SourceError(f"cannot connect to the PostfixAdmin database: {exc}") from None
    tables: dict[str, list[dict[str, Any]]] = {}
    with conn:
        present = {
            row["table_name"]
            for row in conn.execute(
                "SELECT table_name FROM information_schema.tables"
                " WHERE table_schema = current_schema()"
            )
        }
        for table in TABLES:
            if table in present:
                tables[table] = list(conn.execute(f'SELECT * FROM "{table}"'))  # noqa: S608 - fixed names
    return PfaData(tables)


def _read_mysql(parts: dburl.DatabaseURL, password: str) -> PfaData:
    import MySQLdb
    import MySQLdb.cursors

    kwargs: dict[str, Any] = {
        "db": parts.name,
        "user": parts.user or "root",
        "charset": "utf8mb4",
        "cursorclass": MySQLdb.cursors.DictCursor,
        # Read the [client] group of the option files (~/.my.cnf may hold the password).
        "read_default_group": "client",
    }
    host = parts.host
    if host.startswith("/"):
        kwargs["unix_socket"] = host
    else:
        kwargs["host"] = host or "localhost"
        kwargs["port"] = parts.port or 3306
    if password:
        kwargs["passwd"] = password
    try:
        conn = MySQLdb.connect(**kwargs)
    except MySQLdb.Error as exc:
        raise SourceError(f"cannot connect to the PostfixAdmin database: {exc}") from None
    tables: dict[str, list[dict[str, Any]]] = {}
    try:
        cursor = conn.cursor()
        cursor.execute("SHOW TABLES")
        present = {_text(next(iter(row.values()))) for row in cursor.fetchall()}
        for table in TABLES:
            if table in present:
                cursor.execute(f"SELECT * FROM `{table}`")  # noqa: S608 - fixed names
                tables[table] = list(cursor.fetchall())
    finally:
        conn.close()
    return PfaData(tables)


# --- mapping ---------------------------------------------------------------------------------


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
        base = str(getattr(settings, "MAILADMIN_MAIL_BASE", "/var/vmail")).rstrip("/")
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
    base = str(getattr(settings, "MAILADMIN_MAIL_BASE", "/var/vmail")).rstrip("/") + "/"
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
    alias_domains = {_text(r["alias_domain"]).lower() for r in data.rows("alias_domain")}
    mailboxes = {_text(r["username"]).strip().lower() for r in data.rows("mailbox")}
    for row in data.rows("domain"):
        name = _text(row["domain"]).strip()
        if name.upper() == "ALL":
            continue  # PostfixAdmin's pseudo-domain of superadmins
        if name.lower() in alias_domains:
            continue  # imported from alias_domain
        notes = mapping.notes
        domain_cells[name.lower()] = cells = {
            "type": "domain",
            "name": name,
            "display_name": _text(row.get("description")),
            "delivery": "backup" if _truthy(row.get("backupmx")) else "hosted",
            "transport": map_transport(_text(row.get("transport"))),
            "max_mailboxes": _limit(row.get("mailboxes"), "mailboxes", name, notes),
            "max_aliases": _limit(row.get("aliases"), "aliases", name, notes),
            "max_quota": str(max(int(row.get("maxquota") or 0), 0) * MB),
            "total_quota": str(max(int(row.get("quota") or 0), 0) * MB),
            "active": "yes" if _truthy(row.get("active", True)) else "no",
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
        name = _text(row["alias_domain"])
        mapping.add(
            f"alias domain {name}",
            {
                "type": "aliasdomain",
                "name": name,
                "target": _text(row["target_domain"]),
                "active": "yes" if _truthy(row.get("active", True)) else "no",
            },
        )
    for row in data.rows("mailbox"):
        username = _text(row["username"]).strip()
        path, storage_format = _maildir(_text(row.get("maildir")))
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
        password = _mailbox_password(username, _text(row.get("password")), mapping.notes)
        mapping.add(
            f"mailbox {username}",
            {
                "type": "mailbox",
                "name": username,
                "password": password,
                "display_name": _text(row.get("name")),
                "quota": str(max(int(row.get("quota") or 0), 0)),
                "format": storage_format,
                "maildir": fitted,
                "active": "yes" if _truthy(row.get("active", True)) else "no",
            },
        )
    for row in data.rows("alias"):
        _map_alias(mapping, row, mailboxes, alias_domains)
    _fit_limits(mapping, domain_cells)
    return mapping


def _map_alias(
    mapping: Mapping, row: dict[str, Any], mailboxes: set[str], alias_domains: set[str]
) -> None:
    address = _text(row["address"]).strip()
    key = address.lower()
    destinations: list[str] = []
    for item in _text(row.get("goto")).split(","):
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
            "active": "yes" if _truthy(row.get("active", True)) else "no",
        },
    )


# --- the migration ---------------------------------------------------------------------------


@dataclass
class MigrationReport:
    imported: dict[str, int] = field(default_factory=dict)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def lines(self) -> Iterator[str]:
        total = sum(self.imported.values())
        counts = ", ".join(f"{n} {kind}" for kind, n in self.imported.items() if n)
        yield f"imported: {counts}" if total else "imported: nothing new"
        if self.skipped:
            yield f"skipped ({len(self.skipped)}):"
            for what, why in self.skipped:
                yield f"  {what}: {why}"
        if self.notes:
            yield "notes:"
            for note in self.notes:
                yield f"  {note}"


def _admins(data: PfaData, report: MigrationReport) -> None:
    user_model = get_user_model()
    grants: dict[str, list[str]] = {}
    for row in data.rows("domain_admins"):
        grants.setdefault(_text(row["username"]).strip(), []).append(_text(row["domain"]).strip())
    created = granted = 0
    for row in data.rows("admin"):
        username = _text(row["username"]).strip()
        domains = grants.get(username, [])
        superadmin = _truthy(row.get("superadmin", False)) or any(
            d.upper() == "ALL" for d in domains
        )
        user = user_model.objects.filter(username=username).first()
        if user is None:
            created += 1
            user = user_model(
                username=username,
                email=username if "@" in username else "",
                is_superuser=superadmin,
                is_staff=superadmin,
                is_active=_truthy(row.get("active", True)),
            )
            user.set_unusable_password()
            user.save()
            report.notes.append(
                f"admin {username}: password not imported; set one with "
                f"`manage.py changepassword {username}`"
            )
        elif superadmin and not user.is_superuser:
            report.skipped.append(
                (f"admin {username}", "exists here without superadmin rights; left as it is")
            )
        for name in domains:
            if name.upper() == "ALL" or superadmin:
                continue
            domain = Domain.objects.filter(name=name.strip().lower()).first()
            if domain is None:
                report.skipped.append(
                    (f"admin {username} of {name}", "that domain was not imported")
                )
                continue
            if not domain.admins.filter(pk=user.pk).exists():
                granted += 1
                domain.admins.add(user)
    report.imported["admin"] = created
    report.imported["domain grant"] = granted


class _DryRun(Exception):
    pass


def migrate(data: PfaData, *, dry_run: bool = False) -> MigrationReport:
    """Import `data` in one transaction; skipped rows are reported.

    A dry run does the whole import and rolls it back, so its report is exactly what a real
    run would do.
    """
    mapping = map_rows(data)
    report = MigrationReport(skipped=list(mapping.left_out), notes=list(mapping.notes))
    importer = Importer(mapping.records, actor=None, on_existing="skip", on_error="skip")
    try:
        with transaction.atomic():
            result: Report = importer.commit()
            for problem in sorted(result.skipped, key=lambda p: p.line):
                report.skipped.append((mapping.labels.get(problem.line, "?"), problem.reason))
            for kind in ("domain", "aliasdomain", "mailbox", "alias", "relayrecipient"):
                report.imported[kind] = result.created.get(kind, 0)
            _admins(data, report)
            if dry_run:
                raise _DryRun
    except _DryRun:
        return report
    analyze_tables()
    return report
