"""PostfixAdmin's admins (tables admin and domain_admins) as admin accounts, through the
accounts services, so that every account and every grant is audited like any other.

A superadmin is one with `superadmin` set or a domain_admins row for ALL (older versions).
Passwords are not imported (PostfixAdmin's admin hashes are not Django's): the accounts get an
unusable one and the report says to set one with `manage.py admin password`. An account whose
domains were not imported is still created (disabled or not, as it was), administering nothing
until a domain is granted. An existing account is never given more rights than it has, only the
domains it lacks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError

from accounts.services import admin_create, admin_grant
from domains.models import Domain
from mailadmin.names import normalize_domain
from transfer.postfixadmin.source import PfaData, as_flag, as_text

# Who the audit log says wrote the accounts (the operator's CLI: actor None).
AUDIT_LABEL = "PostfixAdmin import"


@dataclass
class AdminsImported:
    created: int = 0
    granted: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (what, why)
    notes: list[str] = field(default_factory=list)


def import_admins(data: PfaData) -> AdminsImported:
    """Create the admins that do not exist here and grant them the imported domains they
    administer in PostfixAdmin; the rest is reported."""
    result = AdminsImported()
    grants: dict[str, list[str]] = {}
    for row in data.rows("domain_admins"):
        username = as_text(row["username"]).strip()
        grants.setdefault(username, []).append(as_text(row["domain"]).strip())
    imported = _imported_domains({name for names in grants.values() for name in names})
    user_model = get_user_model()
    for row in data.rows("admin"):
        username = as_text(row["username"]).strip()
        names = grants.get(username, [])
        superadmin = as_flag(row.get("superadmin", False)) or any(n.upper() == "ALL" for n in names)
        # A superadmin administers every domain: no grants.
        domains = [] if superadmin else _domains_here(result, username, names, imported)
        user = user_model.objects.filter(username=user_model.normalize_username(username)).first()
        if user is None:
            _create(result, row, username, superadmin, domains)
            continue
        if superadmin and not user.is_superuser:
            result.skipped.append(
                (f"admin {username}", "exists here without superadmin rights; left as it is")
            )
        if domains:
            new = admin_grant(actor=None, user=user, domains=domains, actor_label=AUDIT_LABEL)
            result.granted += len(new)
    return result


def _create(
    result: AdminsImported,
    row: dict[str, Any],
    username: str,
    superadmin: bool,
    domains: list[str],
) -> None:
    try:
        admin_create(
            actor=None,
            username=username,
            superadmin=superadmin,
            domains=domains,
            password_hash=make_password(None),
            active=as_flag(row.get("active", True)),
            allow_no_domains=True,
            actor_label=AUDIT_LABEL,
        )
    except ValidationError as exc:
        result.skipped.append((f"admin {username}", " ".join(exc.messages)))
        return
    result.created += 1
    result.granted += len(domains)
    result.notes.append(
        f"admin {username}: password not imported; set one with "
        f"`manage.py admin password {username}`"
    )


def _domains_here(
    result: AdminsImported, username: str, names: list[str], imported: dict[str, str]
) -> list[str]:
    """Our names of the domains `username` administers in PostfixAdmin, once each; the ones
    not imported are reported."""
    domains: list[str] = []
    for name in names:
        if name in imported:
            domains.append(imported[name])
        else:
            result.skipped.append((f"admin {username} of {name}", "that domain was not imported"))
    return list(dict.fromkeys(domains))


def _imported_domains(names: set[str]) -> dict[str, str]:
    """{name as PostfixAdmin spells it: our name} for the names that are domains here."""
    ours: dict[str, str] = {}
    for name in names:
        if name.upper() == "ALL":
            continue
        try:
            ours[name] = normalize_domain(name)
        except ValidationError:
            continue  # not a domain name: it was not imported either
    found = set(Domain.objects.filter(name__in=set(ours.values())).values_list("name", flat=True))
    return {name: ours[name] for name in ours if ours[name] in found}
