"""A full JSON backup of every object, and its restore into an empty database.

The file is Django's JSON serialisation of every row of every model (users with their password
hashes, domains, alias domains, mailboxes, aliases, server settings, and the rows of any other
app) with natural keys for content types and permissions, inside a small envelope that names the
format. Primary keys and timestamps are kept, so a restore gives back the same database.

Left out: sessions, the admin's own log, content types and permissions (migrate makes them),
import jobs (they may hold clear passwords and mean nothing elsewhere) and, since version 2,
the mailboxes' Sieve scripts (derived from their settings: the restore publishes them again).

A mailbox's mail settings (vacation reply, filter rules, spam to Junk) are restored after every
other row, each checked by the sieve services' rules for every writer (a row that breaks one is
refused like any other bad row), and each such mailbox's script is then published, so that
Dovecot runs the same rules as before. The owner's language is set on the login row the
database's triggers made for the mailbox; the backup's username is the triggers' too, and
not restored. A restore audits nothing: it brings the audit log back as it was.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from itertools import chain
from typing import IO, Any

from django.apps import apps
from django.core import serializers
from django.core.exceptions import ValidationError
from django.core.management.color import no_style
from django.core.serializers.base import DeserializedObject
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

from mailboxes.models import Mailbox, MailboxLogin
from mailboxes.rules import owner_languages
from mailboxes.storage import stored_path_problems
from sieve import services as sieve_services
from sieve.models import FilterRule, SieveScript, SieveSettings, Vacation
from transfer.analyze import analyze_tables

FORMAT = "mailadmin-backup"
# 2: no Sieve scripts (a restore of version 1 skips them and publishes them again as well).
VERSION = 2
READABLE = (1, 2)
_SKIPPED_APPS = {"contenttypes", "sessions", "transfer"}
# DomainUsage is derived: the database's triggers rebuild it as the restore inserts the domains,
# mailboxes and aliases; restoring the saved counts on top would count every row twice. So is a
# SieveScript, rendered from the mailbox's settings by the code that reads this backup.
_SKIPPED_MODELS = {"auth.permission", "domains.domainusage", "sieve.sievescript"}
_SETTINGS_MODELS = (SieveSettings, Vacation, FilterRule)
# Rows that migrate itself may create; a restore replaces them.
_MAY_EXIST = {"domains.serversettings"}


class RestoreError(Exception):
    pass


class FullPrecisionEncoder(DjangoJSONEncoder):
    """Django's encoder cuts times to milliseconds; a backup keeps every microsecond, so that
    backup, restore and backup again give the same file."""

    def default(self, o: Any) -> Any:
        if isinstance(o, datetime.datetime):
            text = o.isoformat()
            return text.removesuffix("+00:00") + "Z" if text.endswith("+00:00") else text
        if isinstance(o, datetime.time):
            return o.isoformat()
        return super().default(o)


def backup_models() -> list[type[models.Model]]:
    app_list: dict[Any, list[type[models.Model]] | None] = {}
    for config in apps.get_app_configs():
        if config.label in _SKIPPED_APPS:
            continue
        chosen = [
            m
            for m in config.get_models()
            if not m._meta.proxy and m._meta.managed and m._meta.label_lower not in _SKIPPED_MODELS
        ]
        if chosen:
            app_list[config] = chosen
    return serializers.sort_dependencies(app_list.items(), allow_cycles=True)


def _objects() -> Iterator[models.Model]:
    return chain.from_iterable(
        model._base_manager.order_by("pk").iterator(chunk_size=2000) for model in backup_models()
    )


def write_backup(out: IO[str]) -> None:
    header = {
        "format": FORMAT,
        "version": VERSION,
        "created": timezone.now().isoformat(),
        "models": [m._meta.label_lower for m in backup_models()],
    }
    out.write(json.dumps(header)[:-1] + ', "objects": ')
    serializers.serialize(
        "json",
        _objects(),
        stream=out,
        use_natural_foreign_keys=True,
        indent=None,
        cls=FullPrecisionEncoder,
    )
    out.write("}\n")


def read_backup(stream: IO[str]) -> dict[str, Any]:
    try:
        data = json.load(stream)
    except json.JSONDecodeError as exc:
        raise RestoreError(f"not a JSON file: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise RestoreError(f"not a {FORMAT} file")
    if data.get("version") not in READABLE:
        raise RestoreError(
            f"backup version {data.get('version')!r}: this mailadmin reads "
            + " and ".join(map(str, READABLE))
        )
    return data


def _not_empty() -> list[str]:
    return [
        model._meta.label_lower
        for model in backup_models()
        if model._meta.label_lower not in _MAY_EXIST and model._base_manager.exists()
    ]


def _check_fields(obj: models.Model) -> None:
    """The field rules of every row (lengths, choices, characters); constraints and the path
    rule are checked by the database and after the load, uniqueness by the database."""
    related = [field.name for field in obj._meta.fields if field.is_relation]
    try:
        obj.clean_fields(exclude=related)
    except ValidationError as exc:
        raise RestoreError(f"{obj._meta.label_lower} {obj.pk}: {exc.messages}") from None


def _label(obj: models.Model) -> str:
    return f"{obj._meta.label_lower} {obj.pk}"


def _save(item: DeserializedObject) -> None:
    try:
        item.save()
    except IntegrityError as exc:
        # The transaction is lost either way: nothing is restored.
        raise RestoreError(f"{_label(item.object)}: the database refused it ({exc})") from None


def _reasons(exc: ValidationError) -> str:
    if not hasattr(exc, "error_dict"):
        return " ".join(exc.messages)
    return "; ".join(
        f"{field}: {' '.join(messages)}" if field != "__all__" else " ".join(messages)
        for field, messages in exc.message_dict.items()
    )


def _restore_languages(logins: list[models.Model]) -> None:
    """The owners' languages onto the login rows the triggers made with the mailboxes ("",
    English, is what they made)."""
    chosen: dict[str, list[Any]] = {}
    for login in logins:
        assert isinstance(login, MailboxLogin)
        if login.language not in owner_languages():
            raise RestoreError(
                f"{_label(login)}: language {login.language!r} is none of "
                + ", ".join(repr(code) for code in owner_languages())
            )
        if login.language:
            chosen.setdefault(login.language, []).append(login.pk)
    for language, pks in chosen.items():
        for start in range(0, len(pks), 1000):
            batch = pks[start : start + 1000]
            found = MailboxLogin.objects.filter(pk__in=batch).update(language=language)
            if found != len(set(batch)):
                raise RestoreError(
                    f"mailboxes.mailboxlogin: language {language!r} for a missing mailbox"
                )


def _restore_mail_settings(items: list[DeserializedObject]) -> set[type[models.Model]]:
    """Check each mailbox's settings with the sieve services' rules, save them, and publish
    the mailbox's script. No lock: until the restore commits, no one else sees its rows."""
    mailboxes = Mailbox.objects.select_related("domain").in_bulk(
        {item.object.mailbox_id for item in items}  # type: ignore[attr-defined]
    )
    rules: dict[int, list[DeserializedObject]] = {}
    for item in items:
        obj = item.object
        mailbox = mailboxes.get(obj.mailbox_id)  # type: ignore[attr-defined]
        if mailbox is None:
            raise RestoreError(f"{_label(obj)}: no such mailbox")
        obj.mailbox = mailbox  # type: ignore[attr-defined]
        _check_fields(obj)
        if isinstance(obj, FilterRule):
            rules.setdefault(mailbox.pk, []).append(item)
            continue
        if isinstance(obj, Vacation):
            if not isinstance(obj.addresses, list) or not all(
                isinstance(address, str) for address in obj.addresses
            ):
                raise RestoreError(f"{_label(obj)}: addresses: not a list of addresses")
            try:
                sieve_services.vacation_check_stored(vacation=obj)
            except ValidationError as exc:
                raise RestoreError(f"{_label(obj)} ({mailbox.address}): {_reasons(exc)}") from None
        _save(item)
    for mailbox_rules in rules.values():
        ordered = sorted(mailbox_rules, key=lambda item: item.object.position)  # type: ignore[attr-defined]
        earlier: list[FilterRule] = []
        for position, item in enumerate(ordered):
            rule = item.object
            assert isinstance(rule, FilterRule)
            where = f"{_label(rule)} ({rule.mailbox.address}, rule {position + 1})"
            if rule.position != position:
                raise RestoreError(f"{where}: the mailbox's rules are not at 0, 1, 2, ...")
            try:
                sieve_services.filter_rule_check_stored(rule=rule, earlier=earlier)
            except ValidationError as exc:
                raise RestoreError(f"{where}: {_reasons(exc)}") from None
            _save(item)
            earlier.append(rule)
    for mailbox in mailboxes.values():
        sieve_services.script_publish(mailbox=mailbox)
    return {type(item.object) for item in items}


def restore(data: dict[str, Any]) -> int:
    """Load a backup into an empty database, all or nothing; returns the number of objects."""
    occupied = _not_empty()
    if occupied:
        raise RestoreError(
            "the database is not empty (" + ", ".join(occupied) + "): restore needs a fresh one"
        )
    count = 0
    touched: set[type[models.Model]] = set()
    logins: list[models.Model] = []
    mail_settings: list[DeserializedObject] = []
    with transaction.atomic():
        for item in serializers.deserialize(
            "python", data["objects"], handle_forward_references=True
        ):
            obj = item.object
            if isinstance(obj, SieveScript):
                continue  # version 1: published again below
            count += 1
            if isinstance(obj, MailboxLogin):
                logins.append(obj)
                continue
            if isinstance(obj, _SETTINGS_MODELS):
                # After every other row: their rules read the mailbox's aliases.
                mail_settings.append(item)
                continue
            _check_fields(obj)
            _save(item)
            touched.add(type(obj))
        problems = stored_path_problems()
        if problems:
            raise RestoreError("mailbox paths break the path rule: " + "; ".join(problems))
        _restore_languages(logins)
        touched |= _restore_mail_settings(mail_settings)
        statements = connection.ops.sequence_reset_sql(no_style(), sorted(touched, key=str))
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)
        analyze_tables()  # once committed: the restored tables have planner statistics
    return count
