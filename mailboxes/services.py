"""Writes of mailboxes. The panel's views, the management commands and the owners'
self-service all call these.

The rules themselves live in mailboxes/rules.py, shared with the bulk import; the writes of
aliases and forwarding live in mailboxes/alias_services.py and are importable from here too.
Every write that checks a domain limit first locks the domain row and reads its usage counters
(mailboxes/locks.py), so two concurrent creates cannot both slip under a limit; the unique
constraints settle races on the same address.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from audit.services import diff, record, record_changes
from mailadmin import passwords
from mailadmin.access import Actor
from mailadmin.ids import check_owner_id
from mailadmin.writes import Checks, save_checked
from mailboxes import rules
from mailboxes.alias_services import (
    FORWARDING_DESCRIPTION,
    alias_create,
    alias_delete,
    alias_set_active,
    alias_set_destinations,
    forwarding_set,
)
from mailboxes.locks import hosted_domain_for_update, mailbox_for_update, usage
from mailboxes.loops import alias_expansion_problems, aliases_pointing_at, describe, visible_to
from mailboxes.maildirs import awaiting_archive_error, homes_awaiting_archive
from mailboxes.models import Alias, Mailbox, MailboxLogin, StorageFormat
from mailboxes.paths import canonical_path
from mailboxes.rules import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, check_password
from mailboxes.storage import check_owner_ids, path_conflict

__all__ = [
    "FORWARDING_DESCRIPTION",
    "MAX_PASSWORD_LENGTH",
    "MIN_PASSWORD_LENGTH",
    "alias_create",
    "alias_delete",
    "alias_set_active",
    "alias_set_destinations",
    "check_password",
    "forwarding_set",
    "mailbox_create",
    "mailbox_delete",
    "mailbox_rehash_password",
    "mailbox_set_active",
    "mailbox_set_language",
    "mailbox_set_password",
    "mailbox_update",
]

# What a mailbox's "create" audit entry records (never the password).
AUDITED_FIELDS = ("name", "quota", "format", "uid", "gid", "active")


@transaction.atomic
def mailbox_create(
    *,
    actor: Actor,
    address: str,
    password: str | None = None,
    password_hash: str | None = None,
    name: str = "",
    quota: int | None = None,
    storage_format: str = StorageFormat.MAILDIR,
    uid: int | None = None,
    gid: int | None = None,
    active: bool = True,
    alias_copy: bool | None = None,
) -> tuple[Mailbox, str | None]:
    """Create a mailbox; returns it and the generated password when none was given.

    At the address of an alias that does not list it, the new mailbox would receive nothing
    (the contract: an active alias answers before the mailbox), so the writer says which it
    means: `alias_copy` True adds the address to the alias's destinations (the mailbox gets
    the alias's mail too), False leaves the alias taking it all; None is refused.
    """
    local_part, domain_name = rules.split_address(address)
    domain = hosted_domain_for_update(actor, domain_name)
    check_owner_ids(actor, uid, gid)
    canonical = f"{local_part}@{domain.name}"
    quota = rules.quota_or_default(domain, quota)
    # Every mistake at once: the address, the limits, the password, the owner ids.
    checks = Checks()
    with checks:
        rules.check_storage_format(storage_format)
    counters = usage(domain) if domain.max_mailboxes or domain.total_quota else None
    alias = domain.aliases.filter(local_part=local_part).first()
    with checks:
        if domain.mailboxes.filter(local_part=local_part).exists():
            raise ValidationError({"address": rules.mailbox_exists(canonical)})
        if alias is not None and alias_copy is None and not _alias_lists(alias, canonical):
            raise ValidationError({"alias_copy": rules.mailbox_at_alias(canonical)})
        if homes_awaiting_archive(domain.name, {local_part}):
            # The old directory would be handed to the new mailbox (mailboxes/maildirs/).
            raise ValidationError({"address": awaiting_archive_error(canonical)})
        # Only a free address takes a place: a taken one is reported, not the full domain.
        rules.check_room_for_mailbox(domain, mailboxes=counters.mailboxes if counters else 0)
    with checks:
        rules.check_quota(domain, quota, allocated=counters.quota_allocated if counters else 0)
    with checks:
        if password_hash is not None:
            rules.check_password_hash(password_hash)
        elif password is not None:
            rules.check_password(password)
    with checks:
        uid = check_owner_id(uid, field="uid")
    with checks:
        gid = check_owner_id(gid, field="gid")
    checks.raise_errors()
    generated = None
    if password_hash is not None:
        stored = password_hash
    else:
        if password is None:
            password = generated = passwords.generate_password()
        stored = passwords.hash_password(password)
    path = canonical_path(domain.name, local_part, storage_format)
    holder = path_conflict(domain=domain.name, local_part=local_part, path=path)
    if holder is not None:
        # A mailbox imported with a path of its own sits where this one's mail would go.
        raise ValidationError({"address": rules.path_taken(path, holder.address)})
    mailbox = Mailbox(
        domain=domain,
        local_part=local_part,
        name=name.strip(),
        password=stored,
        quota=quota,
        format=storage_format,
        path=path,
        uid=uid,
        gid=gid,
        active=active,
    )
    save_checked(mailbox, conflict=rules.mailbox_exists(canonical))
    record(
        actor=actor,
        action="create",
        obj=mailbox,
        domain=domain.name,
        changes={field: getattr(mailbox, field) for field in AUDITED_FIELDS},
    )
    if alias is not None and alias_copy and not _alias_lists(alias, canonical):
        # Now that the mailbox exists, its address among the alias's destinations is a copy.
        destinations = [*alias.destinations.values_list("address", flat=True), canonical]
        alias_set_destinations(actor=actor, alias=alias, destinations=destinations)
    return mailbox, generated


def _alias_lists(alias: Alias, address: str) -> bool:
    return alias.destinations.filter(address=address).exists()


def _store_password(
    locked: Mailbox, password: str, *, actor: Actor, by_owner: bool, rehash: bool = False
) -> None:
    """Hash `password` in the default scheme onto the locked mailbox, and audit it.

    `by_owner`: the mailbox's owner set it; the audit names the owner by address. `rehash`: the
    same password in the default scheme (the audit names the schemes). The audit says that the
    password changed, never what it is.
    """
    old = locked.password
    locked.password = passwords.hash_password(password)
    changes = None
    if rehash:
        changes = {"scheme": [passwords.scheme_of(old), passwords.scheme_of(locked.password)]}
    fields = ["password", "updated_at"]
    if by_owner and not rehash and locked.must_change_password:
        # The change an admin asked for at the owner's next login is done.
        locked.must_change_password = False
        fields.append("must_change_password")
    locked.save(update_fields=fields)
    record(
        actor=actor,
        actor_label=locked.address if by_owner else "",
        action="rehash" if rehash else "password",
        obj=locked,
        domain=locked.domain.name,
        changes=changes,
    )


@transaction.atomic
def mailbox_set_password(
    *, actor: Actor, mailbox: Mailbox, password: str, by_owner: bool = False
) -> Mailbox:
    """Store a new password in the default scheme.

    `by_owner`: the mailbox's owner chose it (selfservice checked the current password and the
    owner's policy first): the audit names the owner, and a forced change is done.
    """
    rules.check_password(password)
    locked = mailbox_for_update(actor, mailbox)
    _store_password(locked, password, actor=actor, by_owner=by_owner)
    return locked


@transaction.atomic
def mailbox_rehash_password(*, mailbox: Mailbox, password: str) -> bool:
    """At the owner's login: store `password`, just verified against `mailbox.password`, in the
    default scheme, unless the stored hash changed meanwhile (a password change racing with the
    login is never overwritten by the old password). The password itself stays what it was, so
    no rule of a new password applies."""
    locked = mailbox_for_update(None, mailbox)
    if locked.password != mailbox.password:
        return False
    _store_password(locked, password, actor=None, by_owner=True, rehash=True)
    mailbox.password = locked.password
    return True


@transaction.atomic
def mailbox_update(
    *,
    actor: Actor,
    mailbox: Mailbox,
    name: str | None = None,
    quota: int | None = None,
    uid: int | None = None,
    gid: int | None = None,
    clear_uid: bool = False,
    clear_gid: bool = False,
    active: bool | None = None,
) -> Mailbox:
    mailbox = mailbox_for_update(actor, mailbox, lock_domain=quota is not None)
    check_owner_ids(actor, uid, gid, clear_uid, clear_gid)
    watched = ("name", "quota", "uid", "gid", "active")
    before = {field: getattr(mailbox, field) for field in watched}
    if name is not None:
        mailbox.name = name.strip()
    if quota is not None:
        domain = mailbox.domain
        allocated = usage(domain).quota_allocated - mailbox.quota if domain.total_quota else 0
        rules.check_quota(domain, quota, allocated=allocated)
        mailbox.quota = quota
    if uid is not None or clear_uid:
        mailbox.uid = None if clear_uid else check_owner_id(uid, field="uid")
    if gid is not None or clear_gid:
        mailbox.gid = None if clear_gid else check_owner_id(gid, field="gid")
    if active is not None:
        mailbox.active = active
    save_checked(mailbox, conflict=_("The mailbox could not be saved."))
    changed = diff(before, {field: getattr(mailbox, field) for field in watched})
    record_changes(actor=actor, obj=mailbox, domain=mailbox.domain.name, changes=changed)
    return mailbox


def mailbox_set_language(*, mailbox: Mailbox, language: str) -> None:
    """Keep the language the owner uses the panel in on their login row, for the quota
    warnings Dovecot writes them (mailadmin_dovecot_owner). A preference of the owner's, set
    as they use the panel: not audited, and no write when it is already the one kept."""
    code = rules.check_owner_language(language)
    MailboxLogin.objects.filter(mailbox=mailbox).exclude(language=code).update(language=code)


def mailbox_set_active(*, actor: Actor, mailbox: Mailbox, active: bool) -> Mailbox:
    return mailbox_update(actor=actor, mailbox=mailbox, active=active)


@transaction.atomic
def mailbox_delete(*, actor: Actor, mailbox: Mailbox) -> None:
    """Delete the mailbox row; its mail on disk stays for the operator to archive
    (`prepare_maildirs --archive-orphans`); until then the address cannot be created again
    (mailbox_create), so that no new owner gets the old mail."""
    locked = mailbox_for_update(actor, mailbox)
    address = locked.address
    record(actor=actor, action="delete", obj=locked, domain=locked.domain.name)
    locked.delete()
    # A mailbox answers for itself; once it is gone its address may be taken by the catch-all,
    # which can close a loop through the aliases that list it (mailboxes/loops.py).
    problems = alias_expansion_problems(aliases_pointing_at([address]))
    if problems:
        may_see = visible_to(actor)
        raise ValidationError(
            {
                "__all__": [
                    _("%(address)s cannot be deleted: ") % {"address": address}
                    + describe(problem, may_see=may_see)
                    for problem in problems.values()
                ]
            }
        )
