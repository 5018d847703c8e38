"""The write layer: every rule holds, bad input changes nothing, scoping is enforced."""

from typing import Any

import pytest
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domains import services as ds
from domains.models import AliasDomain, Domain, ServerSettings
from domains.selectors import domain_get, domain_list
from mailadmin import passwords
from mailboxes import services as ms
from mailboxes.models import Alias, AliasDestination, Mailbox
from mailboxes.selectors import alias_get, mailbox_get
from tests import factories as f

pytestmark = pytest.mark.django_db

DOMAINS = ["example.com", "EXAMPLE.com", "bücher.example", "missing.example", "bad..domain"]
FIXED_HASH = "{PLAIN-MD5}5f4dcc3b5aa765d61d8327deb882cf99"


def counts():
    return (
        Domain.objects.count(),
        AliasDomain.objects.count(),
        Mailbox.objects.count(),
        Alias.objects.count(),
        AliasDestination.objects.count(),
    )


def refused(call, *, field: str, code: str | None = None, **kwargs) -> str:
    """Run a service call that must fail on `field` alone (NON_FIELD_ERRORS for a message of
    the whole object) with `code` when given; assert it changed nothing and return the
    field's message."""
    before = counts()
    with pytest.raises(ValidationError) as info:
        call(**kwargs)
    assert counts() == before
    errors = info.value.update_error_dict({})
    assert list(errors) == [field], errors
    if code is not None:
        assert [e.code for e in errors[field]] == [code], errors
    return " ".join(message for e in errors[field] for message in e.messages)


# --- domains -----------------------------------------------------------------------------------


def test_domain_create_normalises_idn():
    domain = f.domain("Bücher.Example")
    assert domain.name == "xn--bcher-kva.example"
    assert domain.display_name == "bücher.example"


def test_duplicate_domain_refused_in_any_case():
    f.domain("example.com")
    error = refused(
        ds.domain_create, field=NON_FIELD_ERRORS, code="conflict", actor=None, name="EXAMPLE.com"
    )
    assert error == "The domain example.com already exists."


def test_relay_domain_needs_transport():
    error = refused(
        ds.domain_create, field="transport", actor=None, name="relay.example", delivery="relay"
    )
    assert "needs a next hop" in error
    relay = f.domain("relay.example", delivery="relay", transport="smtp:[mx.example.net]:25")
    assert relay.transport == "smtp:[mx.example.net]:25"


@pytest.mark.parametrize("uid", [0, 1, 999, 2**31])
def test_uid_below_minimum_or_too_large_refused(uid):
    error = refused(
        ds.domain_create, field="uid", code="out_of_range", actor=None, name="example.com", uid=uid
    )
    assert error.startswith("uid must be between 1000 and ")


def test_domain_name_cannot_be_an_alias_domain():
    f.domain("target.example")
    ds.alias_domain_create(actor=None, name="alias.example", target="target.example")
    error = refused(ds.domain_create, field="name", actor=None, name="alias.example")
    assert error == "alias.example is already an alias domain."


def test_domain_delete_takes_everything_with_it():
    domain = f.domain()
    f.mailbox("a@example.com")
    f.alias("b@example.com", "a@example.com")
    ds.alias_domain_create(actor=None, name="other.example", target="example.com")
    gone = ds.domain_delete(actor=None, domain=domain)
    assert gone["mailboxes.Mailbox"] == 1
    assert gone["domains.AliasDomain"] == 1
    assert counts() == (0, 0, 0, 0, 0)


def test_server_settings_row_exists_and_is_single():
    assert ServerSettings.objects.get(id=1).default_uid == 5000
    with pytest.raises(IntegrityError), transaction.atomic():
        ServerSettings.objects.create(id=2)


def test_server_settings_refuses_root():
    with pytest.raises(ValidationError) as info:
        ds.server_settings_update(actor=None, default_uid=0)
    assert [e.code for e in info.value.error_dict["default_uid"]] == ["out_of_range"]
    assert list(info.value.error_dict) == ["default_uid"]
    assert ServerSettings.load().default_uid == 5000


# --- mailboxes ---------------------------------------------------------------------------------


def test_mailbox_create_generates_password_and_path():
    f.domain()
    mailbox, generated = ms.mailbox_create(actor=None, address="John.Doe@Example.com")
    assert mailbox.local_part == "john.doe"
    assert mailbox.path == "example.com/john.doe/"
    assert generated and passwords.verify_password(generated, mailbox.password)
    assert mailbox.password.startswith("{ARGON2ID}")


def test_mbox_path_has_no_trailing_slash():
    f.domain()
    mailbox = f.mailbox("box@example.com", storage_format="mbox")
    assert mailbox.path == "example.com/box/mbox"


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("nobody@unknown.example", "There is no domain unknown.example."),
        ("bad@@example.com", "is not an e-mail address"),
        ("a/b@example.com", "“a/b” is not allowed before the @"),
        ("", "is not an e-mail address"),
        ("@example.com", "has nothing before the @"),
    ],
)
def test_bad_mailbox_addresses_change_nothing(address, reason):
    f.domain()
    error = refused(
        ms.mailbox_create, field="address", actor=None, address=address, password=f.PASSWORD
    )
    assert reason in error


def test_duplicate_mailbox_refused():
    f.domain()
    f.mailbox("user@example.com")
    error = refused(
        ms.mailbox_create,
        field="address",
        actor=None,
        address="USER@example.com",
        password=f.PASSWORD,
    )
    assert error == "The mailbox user@example.com already exists."


def test_mailbox_in_relay_domain_refused():
    f.domain("relay.example", delivery="relay", transport="smtp:[mx.example.net]")
    error = refused(
        ms.mailbox_create,
        field="address",
        actor=None,
        address="a@relay.example",
        password=f.PASSWORD,
    )
    assert "relay.example is not hosted here" in error


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short", "at least 8 characters"),
        ("x" * 2000, "too long"),
        ("line\nbreak", "line breaks or NUL"),
        ("nul\x00byte-long", "line breaks or NUL"),
    ],
    ids=["short", "long", "newline", "nul"],
)
def test_bad_passwords_refused(password, reason):
    f.domain()
    error = refused(
        ms.mailbox_create, field="password", actor=None, address="a@example.com", password=password
    )
    assert reason in error


def test_password_hash_must_be_known_scheme():
    f.domain()
    error = refused(
        ms.mailbox_create,
        field="password",
        actor=None,
        address="a@example.com",
        password_hash="{NOPE}x",
    )
    assert error == "That is not a {SCHEME}hash mailadmin can verify."
    mailbox, generated = ms.mailbox_create(
        actor=None,
        address="a@example.com",
        password_hash="{PLAIN-MD5}5f4dcc3b5aa765d61d8327deb882cf99",
    )
    assert generated is None
    assert passwords.verify_password("password", mailbox.password)


def test_mailbox_limit():
    f.domain(max_mailboxes=1)
    f.mailbox("a@example.com")
    error = refused(
        ms.mailbox_create, field="address", actor=None, address="b@example.com", password=f.PASSWORD
    )
    assert error == "example.com already has its maximum of 1 mailboxes."


def test_quota_limits_per_mailbox_and_total():
    f.domain(max_mailbox_quota=2 * 2**30, total_quota=3 * 2**30)
    default = f.mailbox("a@example.com")
    assert default.quota == 2 * 2**30  # the domain's maximum is the default
    new: dict[str, Any] = {"actor": None, "address": "b@example.com", "password": f.PASSWORD}
    per_mailbox = "example.com allows at most 2 GiB per mailbox."
    # Unlimited is more than the domain's maximum per mailbox.
    assert refused(ms.mailbox_create, field="quota", quota=0, **new) == per_mailbox
    assert refused(ms.mailbox_create, field="quota", quota=3 * 2**30, **new) == per_mailbox
    error = refused(ms.mailbox_create, field="quota", quota=2 * 2**30, **new)
    assert error == "example.com has 1 GiB of its total quota left."
    f.mailbox("b@example.com", quota=2**30)
    error = refused(
        ms.mailbox_update, field="quota", actor=None, mailbox=default, quota=2 * 2**30 + 1
    )
    assert error == per_mailbox
    default.refresh_from_db()
    assert default.quota == 2 * 2**30


def test_mailbox_uid_override_and_clear():
    f.domain()
    mailbox = f.mailbox(uid=6000, gid=6001)
    assert (mailbox.uid, mailbox.gid) == (6000, 6001)
    mailbox = ms.mailbox_update(actor=None, mailbox=mailbox, clear_uid=True)
    assert mailbox.uid is None and mailbox.gid == 6001
    error = refused(
        ms.mailbox_update, field="uid", code="out_of_range", actor=None, mailbox=mailbox, uid=0
    )
    assert error.startswith("uid must be between 1000 and ")
    mailbox.refresh_from_db()
    assert mailbox.uid is None


def test_set_password_rehashes_in_default_scheme():
    f.domain()
    mailbox = f.mailbox()
    ms.mailbox_set_password(actor=None, mailbox=mailbox, password="a new password")
    mailbox.refresh_from_db()
    assert passwords.verify_password("a new password", mailbox.password)
    assert not passwords.verify_password(f.PASSWORD, mailbox.password)


def test_database_refuses_uppercase_and_root_even_without_services():
    domain = f.domain()
    with pytest.raises(IntegrityError), transaction.atomic():
        Mailbox.objects.create(domain=domain, local_part="ok", password="{X}y", path="x/", uid=0)
    with pytest.raises(IntegrityError), transaction.atomic():
        Mailbox.objects.create(domain=domain, local_part="ok", password="nohash", path="x/")
    with pytest.raises(IntegrityError), transaction.atomic():
        Mailbox.objects.create(
            domain=domain, local_part="ok", password="{X}y", path="x/mbox", format="maildir"
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Domain.objects.create(name="relay2.example", delivery="relay", transport="")


# --- aliases -----------------------------------------------------------------------------------


def test_alias_with_several_destinations_one_row_each():
    f.domain()
    f.mailbox("a@example.com")
    alias = f.alias("team@example.com", "A@example.com", "b@elsewhere.example", "a@example.com")
    assert sorted(alias.destinations.values_list("address", flat=True)) == [
        "a@example.com",
        "b@elsewhere.example",
    ]


def test_catchall():
    f.domain()
    alias = f.alias("@example.com", "postmaster@elsewhere.example")
    assert alias.is_catchall
    assert alias_get(user=None, address="@example.com") == alias


def test_alias_pointing_to_itself_only_as_keep_copy():
    f.domain()
    error = refused(
        ms.alias_create,
        field="destinations",
        actor=None,
        address="me@example.com",
        destinations=["me@example.com"],
    )
    assert error == "me@example.com cannot point to itself unless it is a mailbox."
    f.mailbox("me@example.com")
    alias = f.alias("me@example.com", "me@example.com", "me@elsewhere.example")
    assert alias.destinations.count() == 2


def test_alias_needs_a_valid_destination():
    f.domain()
    new: dict[str, Any] = {"actor": None, "address": "a@example.com"}
    error = refused(ms.alias_create, field="destinations", destinations=[], **new)
    assert error == "An alias needs at least one destination."
    error = refused(
        ms.alias_create,
        field="destinations",
        code="invalid",
        destinations=["not an address"],
        **new,
    )
    assert error == "“not an address” is not an e-mail address (local@domain)."
    # A catch-all is an alias's own address, never a destination.
    error = refused(
        ms.alias_create, field="destinations", code="invalid", destinations=["@example.com"], **new
    )
    assert error == "“@example.com” has nothing before the @."


def test_alias_limit_and_duplicates():
    f.domain(max_aliases=1)
    f.alias("a@example.com", "x@elsewhere.example")
    new: dict[str, Any] = {"actor": None, "destinations": ["y@e.example"]}
    error = refused(ms.alias_create, field="address", address="A@example.com", **new)
    assert error == "The alias a@example.com already exists."
    error = refused(ms.alias_create, field="address", address="b@example.com", **new)
    assert error == "example.com already has its maximum of 1 aliases."


def test_alias_set_destinations_replaces():
    f.domain()
    alias = f.alias("a@example.com", "x@e.example", "y@e.example")
    ms.alias_set_destinations(actor=None, alias=alias, destinations=["y@e.example", "z@e.example"])
    assert sorted(alias.destinations.values_list("address", flat=True)) == [
        "y@e.example",
        "z@e.example",
    ]
    error = refused(
        ms.alias_set_destinations, field="destinations", actor=None, alias=alias, destinations=[]
    )
    assert error == "An alias needs at least one destination."
    assert alias.destinations.count() == 2


def test_alias_domain_rules():
    f.domain("target.example")
    f.domain("relay.example", delivery="relay", transport="smtp:[mx.example.net]")
    create = ds.alias_domain_create
    error = refused(
        create, field="name", actor=None, name="target.example", target="target.example"
    )
    assert error == "A domain cannot be an alias of itself."
    error = refused(create, field="target", actor=None, name="x.example", target="relay.example")
    assert error == "Only a hosted domain can be the target of an alias domain."
    error = refused(create, field="target", actor=None, name="x.example", target="missing.example")
    assert error == "There is no domain missing.example."
    error = refused(create, field="name", actor=None, name="relay.example", target="target.example")
    assert error == "relay.example is already a domain."
    alias_domain = create(actor=None, name="Alias.Example", target="target.example")
    assert alias_domain.name == "alias.example"
    error = refused(
        create,
        field=NON_FIELD_ERRORS,
        code="conflict",
        actor=None,
        name="alias.example",
        target="target.example",
    )
    assert error == "The alias domain alias.example already exists."


# --- scoping -----------------------------------------------------------------------------------


def test_domain_admin_sees_and_touches_only_their_domains():
    mine, theirs = f.domain("mine.example"), f.domain("theirs.example")
    admin = f.domain_admin("alice", mine)
    f.mailbox("a@theirs.example")
    assert [d.name for d in domain_list(user=admin)] == ["mine.example"]
    with pytest.raises(Http404):
        domain_get(user=admin, name="theirs.example")
    with pytest.raises(Http404):
        mailbox_get(user=admin, address="a@theirs.example")
    not_mine = "theirs.example is not one of your domains."
    error = refused(
        ms.mailbox_create,
        field="address",
        actor=admin,
        address="b@theirs.example",
        password=f.PASSWORD,
    )
    assert error == not_mine
    error = refused(
        ms.alias_create,
        field="address",
        actor=admin,
        address="x@theirs.example",
        destinations=["a@mine.example"],
    )
    assert error == not_mine
    error = refused(
        ds.alias_domain_create,
        field="target",
        actor=admin,
        name="new.example",
        target="theirs.example",
    )
    assert error == not_mine
    with pytest.raises(PermissionDenied):
        ds.domain_create(actor=admin, name="new.example")
    with pytest.raises(PermissionDenied):
        ds.domain_delete(actor=admin, domain=theirs)
    with pytest.raises(Mailbox.DoesNotExist):
        ms.mailbox_delete(actor=admin, mailbox=Mailbox.objects.get(local_part="a"))
    # and in their own domain everything works
    ms.mailbox_create(actor=admin, address="b@mine.example", password=f.PASSWORD)
    ms.alias_create(actor=admin, address="x@mine.example", destinations=["b@mine.example"])
    # an alias domain once a superadmin granted its name (tests/panel/test_alias_domain_grants.py)
    error = refused(
        ds.alias_domain_create,
        field="name",
        actor=admin,
        name="alias-of-mine.example",
        target="mine.example",
    )
    assert "not an alias domain a superadmin has allowed" in error
    ds.alias_domain_grant_create(actor=None, name="alias-of-mine.example", domain=mine)
    ds.alias_domain_create(actor=admin, name="alias-of-mine.example", target="mine.example")


def test_domain_admin_cannot_change_delivery_or_owner():
    mine = f.domain("mine.example")
    admin = f.domain_admin("alice", mine)
    with pytest.raises(PermissionDenied):
        ds.domain_update(actor=admin, domain=mine, uid=7000)
    ds.domain_update(actor=admin, domain=mine, description="ours")
    mine.refresh_from_db()
    assert mine.description == "ours" and mine.uid is None


def test_inactive_user_sees_nothing():
    mine = f.domain("mine.example")
    admin = f.domain_admin("alice", mine)
    admin.is_active = False
    admin.save()
    assert not domain_list(user=admin).exists()


def test_domain_list_counts_in_one_query(django_assert_num_queries):
    for n in range(3):
        f.domain(f"d{n}.example")
        f.mailbox(f"a@d{n}.example")
        f.mailbox(f"b@d{n}.example")
        f.alias(f"x@d{n}.example", "a@elsewhere.example")
    with django_assert_num_queries(1):
        rows = [(d.name, d.mailbox_count, d.alias_count) for d in domain_list(user=None)]  # type: ignore[attr-defined]
    assert rows == [(f"d{n}.example", 2, 1) for n in range(3)]


# --- fuzzing the write path ----------------------------------------------------------------------

_LOCAL_ALPHABET = "abcXYZ019.!#$%&'*+/=?^_`{|}~-\"\\ @;,<>()[]:\x00\n\tüß"


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(local=st.text(alphabet=_LOCAL_ALPHABET, max_size=70), domain=st.sampled_from(DOMAINS))
def test_mailbox_create_either_stores_canonical_row_or_changes_nothing(local, domain):
    if not Domain.objects.exists():
        f.domain("example.com")
        f.domain("xn--bcher-kva.example")
    before = counts()
    try:
        mailbox, _ = ms.mailbox_create(
            actor=None, address=f"{local}@{domain}", password_hash=FIXED_HASH
        )
    except ValidationError as exc:
        assert exc.messages and all(exc.messages)
        assert counts() == before
        return
    mailbox.refresh_from_db()
    assert mailbox.local_part == mailbox.local_part.lower() == local.strip().lower()
    assert "/" not in mailbox.local_part and "%" not in mailbox.local_part
    assert mailbox.path == f"{mailbox.domain.name}/{mailbox.local_part}/"
    assert counts()[2] == before[2] + 1


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(destinations=st.lists(st.text(alphabet=_LOCAL_ALPHABET + "@.", max_size=40), max_size=4))
def test_alias_create_either_stores_valid_rows_or_changes_nothing(destinations):
    if not Domain.objects.exists():
        f.domain("example.com")
    Alias.objects.all().delete()
    before = counts()
    try:
        alias = ms.alias_create(actor=None, address="fuzz@example.com", destinations=destinations)
    except ValidationError:
        assert counts() == before
        return
    stored = list(alias.destinations.values_list("address", flat=True))
    assert stored and all(a.count("@") == 1 and a == a.lower() for a in stored)


def test_domain_search_finds_idn_by_unicode_fragment():
    f.domain("bücher.example")
    f.domain("other.example")
    assert [d.name for d in domain_list(user=None, search="Bücher")] == ["xn--bcher-kva.example"]
    assert [d.name for d in domain_list(user=None, search="OTHER")] == ["other.example"]


def test_duplicate_reported_before_limit():
    f.domain(max_mailboxes=1)
    f.mailbox("a@example.com")
    error = refused(
        ms.mailbox_create, field="address", actor=None, address="a@example.com", password=f.PASSWORD
    )
    assert error == "The mailbox a@example.com already exists."


@pytest.mark.django_db(transaction=True)
def test_writes_that_lock_rows_work_outside_a_test_transaction():
    """select_for_update() needs a transaction: every service that locks opens its own."""
    domain = f.domain("target.example")
    alias_domain = ds.alias_domain_create(actor=None, name="alias.example", target="target.example")
    ds.alias_domain_set_active(actor=None, alias_domain=alias_domain, active=False)
    ds.domain_set_active(actor=None, domain=domain, active=False)
    mailbox = f.mailbox("a@target.example")
    ms.mailbox_set_active(actor=None, mailbox=mailbox, active=False)
    ms.mailbox_set_password(actor=None, mailbox=mailbox, password="another password")
    alias = f.alias("b@target.example", "a@target.example")
    ms.alias_set_active(actor=None, alias=alias, active=False)
    ms.alias_set_destinations(actor=None, alias=alias, destinations=["c@e.example"])
    ms.alias_delete(actor=None, alias=alias)
    ds.alias_domain_delete(actor=None, alias_domain=alias_domain)
    ms.mailbox_delete(actor=None, mailbox=mailbox)
    assert counts() == (1, 0, 0, 0, 0)


def test_only_a_superadmin_sets_a_mailbox_owner():
    admin = f.domain_admin("alice", f.domain("mine.example"))
    with pytest.raises(PermissionDenied):
        ms.mailbox_create(actor=admin, address="own@mine.example", password=f.PASSWORD, uid=4000)
    assert not Mailbox.objects.filter(local_part="own").exists()
    mailbox, _ = ms.mailbox_create(actor=admin, address="own@mine.example", password=f.PASSWORD)
    for change in ({"uid": 4000}, {"gid": 4000}, {"clear_uid": True}):
        with pytest.raises(PermissionDenied):
            ms.mailbox_update(actor=admin, mailbox=mailbox, **change)
    mailbox.refresh_from_db()
    assert (mailbox.uid, mailbox.gid) == (None, None)
    ms.mailbox_update(actor=admin, mailbox=mailbox, name="Own")  # the rest stays theirs
    mailbox.refresh_from_db()
    assert mailbox.name == "Own"
