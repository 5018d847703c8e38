"""A full JSON backup of every object, and its restore into an empty database.

The file is Django's JSON serialisation of every row of every model (users with their password
hashes, domains, alias domains, mailboxes, aliases, server settings, and the rows of any other
app) with natural keys for content types and permissions, inside a small envelope that names the
format. Primary keys and timestamps are kept, so a restore gives back the same database.

Left out: sessions, the admin's own log, content types and permissions (migrate makes them),
and import jobs (they may hold clear passwords and mean nothing elsewhere).
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
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

from mailboxes.storage import stored_path_problems

FORMAT = "mailadmin-backup"
VERSION = 1
_SKIPPED_APPS = {"contenttypes", "sessions", "transfer"}
# DomainUsage is derived: the database's triggers rebuild it as the restore inserts the domains,
# mailboxes and aliases; restoring the saved counts on top would count every row twice.
_SKIPPED_MODELS = {"auth.permission", "domains.domainusage"}
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
    if data.get("version") != VERSION:
        raise RestoreError(
            f"backup version {data.get('version')!r}: this mailadmin reads {VERSION}"
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


def restore(data: dict[str, Any]) -> int:
    """Load a backup into an empty database, all or nothing; returns the number of objects."""
    occupied = _not_empty()
    if occupied:
        raise RestoreError(
            "the database is not empty (" + ", ".join(occupied) + "): restore needs a fresh one"
        )
    count = 0
    touched: set[type[models.Model]] = set()
    with transaction.atomic():
        for item in serializers.deserialize(
            "python", data["objects"], handle_forward_references=True
        ):
            _check_fields(item.object)
            try:
                item.save()
            except IntegrityError as exc:
                # The transaction is lost either way: nothing is restored.
                label = f"{item.object._meta.label_lower} {item.object.pk}"
                raise RestoreError(f"{label}: the database refused it ({exc})") from None
            touched.add(type(item.object))
            count += 1
        problems = stored_path_problems()
        if problems:
            raise RestoreError("mailbox paths break the path rule: " + "; ".join(problems))
        statements = connection.ops.sequence_reset_sql(no_style(), sorted(touched, key=str))
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)
    return count
