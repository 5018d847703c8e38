"""The write layer: every rule holds, bad input changes nothing, scoping is enforced."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
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


def refused(call, **kwargs):
    """Run a service call that must fail; assert it changed nothing and return the error."""
    before = counts()
    with pytest.raises(ValidationError) as info:
        call(**kwargs)
    assert counts() == before
    return info.value


# --- domains -----------------------------------------------------------------------------------


def test_domain_create_normalises_idn():
    domain = f.domain("Bücher.Example")
    assert domain.name == "xn--bcher-kva.example"
    assert domain.display_name == "bücher.example"


def test_duplicate_domain_refused_in_any_case():
    f.domain("example.com")
    error = refused(ds.domain_create, actor=None, name="EXAMPLE.com")
    assert "already exists" in str(error)


def test_relay_domain_needs_transport():
    error = refused(ds.domain_create, actor=None, name="relay.example", delivery="relay")
    assert "transport" in error.message_dict
    relay = f.domain("relay.example", delivery="relay", transport="smtp:[mx.example.net]:25")
    assert relay.transport == "smtp:[mx.example.net]:25"


@pytest.mark.parametrize("uid", [0, 1, 999, 2**31])
def test_uid_below_minimum_or_too_large_refused(uid):
    error = refused(ds.domain_create, actor=None, name="example.com", uid=uid)
    assert "uid" in error.message_dict


def test_domain_name_cannot_be_an_alias_domain():
    f.domain("target.example")
    ds.alias_domain_create(actor=None, name="alias.example", target="target.example")
    refused(ds.domain_create, actor=None, name="alias.example")


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
    with pytest.raises(ValidationError):
        ds.server_settings_update(actor=None, default_uid=0)
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
    "address",
    ["nobody@unknown.example", "bad@@example.com", "a/b@example.com", "", "@example.com"],
)
def test_bad_mailbox_addresses_change_nothing(address):
    f.domain()
    refused(ms.mailbox_create, actor=None, address=address, password=f.PASSWORD)


def test_duplicate_mailbox_refused():
    f.domain()
    f.mailbox("user@example.com")
    error = refused(ms.mailbox_create, actor=None, address="USER@example.com", password=f.PASSWORD)
    assert "already exists" in str(error)


def test_mailbox_in_relay_domain_refused():
    f.domain("relay.example", delivery="relay", transport="smtp:[mx.example.net]")
    error = refused(ms.mailbox_create, actor=None, address="a@relay.example", password=f.PASSWORD)
    assert "not hosted here" in str(error)


@pytest.mark.parametrize("password", ["short", "x" * 2000, "line\nbreak", "nul\x00byte-long"])
def test_bad_passwords_refused(password):
    f.domain()
    refused(ms.mailbox_create, actor=None, address="a@example.com", password=password)


def test_password_hash_must_be_known_scheme():
    f.domain()
    refused(ms.mailbox_create, actor=None, address="a@example.com", password_hash="{NOPE}x")
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
    error = refused(ms.mailbox_create, actor=None, address="b@example.com", password=f.PASSWORD)
    assert "maximum of 1 mailboxes" in str(error)


def test_quota_limits_per_mailbox_and_total():
    f.domain(max_mailbox_quota=2 * 2**30, total_quota=3 * 2**30)
    default = f.mailbox("a@example.com")
    assert default.quota == 2 * 2**30  # the domain's maximum is the default
    refused(ms.mailbox_create, actor=None, address="b@example.com", password=f.PASSWORD, quota=0)
    refused(
        ms.mailbox_create, actor=None, address="b@example.com", password=f.PASSWORD, quota=3 * 2**30
    )
    error = refused(
        ms.mailbox_create, actor=None, address="b@example.com", password=f.PASSWORD, quota=2 * 2**30
    )
    assert "total quota left" in str(error)
    f.mailbox("b@example.com", quota=2**30)
    with pytest.raises(ValidationError):
        ms.mailbox_update(actor=None, mailbox=default, quota=2 * 2**30 + 1)


def test_mailbox_uid_override_and_clear():
    f.domain()
    mailbox = f.mailbox(uid=6000, gid=6001)
    assert (mailbox.uid, mailbox.gid) == (6000, 6001)
    mailbox = ms.mailbox_update(actor=None, mailbox=mailbox, clear_uid=True)
    assert mailbox.uid is None and mailbox.gid == 6001
    with pytest.raises(ValidationError):
        ms.mailbox_update(actor=None, mailbox=mailbox, uid=0)


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
        ms.alias_create, actor=None, address="me@example.com", destinations=["me@example.com"]
    )
    assert "cannot point to itself" in str(error)
    f.mailbox("me@example.com")
    alias = f.alias("me@example.com", "me@example.com", "me@elsewhere.example")
    assert alias.destinations.count() == 2


def test_alias_needs_a_valid_destination():
    f.domain()
    refused(ms.alias_create, actor=None, address="a@example.com", destinations=[])
    refused(ms.alias_create, actor=None, address="a@example.com", destinations=["not an address"])
    refused(ms.alias_create, actor=None, address="a@example.com", destinations=["@example.com"])


def test_alias_limit_and_duplicates():
    f.domain(max_aliases=1)
    f.alias("a@example.com", "x@elsewhere.example")
    refused(ms.alias_create, actor=None, address="A@example.com", destinations=["y@e.example"])
    error = refused(
        ms.alias_create, actor=None, address="b@example.com", destinations=["y@e.example"]
    )
    assert "maximum of 1 aliases" in str(error)


def test_alias_set_destinations_replaces():
    f.domain()
    alias = f.alias("a@example.com", "x@e.example", "y@e.example")
    ms.alias_set_destinations(actor=None, alias=alias, destinations=["y@e.example", "z@e.example"])
    assert sorted(alias.destinations.values_list("address", flat=True)) == [
        "y@e.example",
        "z@e.example",
    ]
    with pytest.raises(ValidationError):
        ms.alias_set_destinations(actor=None, alias=alias, destinations=[])
    assert alias.destinations.count() == 2


def test_alias_domain_rules():
    f.domain("target.example")
    f.domain("relay.example", delivery="relay", transport="smtp:[mx.example.net]")
    refused(ds.alias_domain_create, actor=None, name="target.example", target="target.example")
    refused(ds.alias_domain_create, actor=None, name="x.example", target="relay.example")
    refused(ds.alias_domain_create, actor=None, name="x.example", target="missing.example")
    refused(ds.alias_domain_create, actor=None, name="relay.example", target="target.example")
    alias_domain = ds.alias_domain_create(actor=None, name="Alias.Example", target="target.example")
    assert alias_domain.name == "alias.example"
    refused(ds.alias_domain_create, actor=None, name="alias.example", target="target.example")


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
    refused(ms.mailbox_create, actor=admin, address="b@theirs.example", password=f.PASSWORD)
    refused(
        ms.alias_create, actor=admin, address="x@theirs.example", destinations=["a@mine.example"]
    )
    refused(ds.alias_domain_create, actor=admin, name="new.example", target="theirs.example")
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
    refused(
        ds.alias_domain_create, actor=admin, name="alias-of-mine.example", target="mine.example"
    )
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
    error = refused(ms.mailbox_create, actor=None, address="a@example.com", password=f.PASSWORD)
    assert "already exists" in str(error)


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
