"""Alias writes that would make Postfix defer mail are refused (mailboxes/loops.py).

Three layers: the model of cleanup_map1n.c against the real Postfix (a private instance with
a texthash table, one SMTP transaction per case), the resolution against the contract views
(the exported queries, as the address trace sends them), and the services' refusals.
"""

from __future__ import annotations

import re
import smtplib
from collections.abc import Iterator

import pytest
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from domains import services as domain_services
from domains.models import Domain
from mailadmin.contract.trace import Lookups
from mailboxes import alias_tables, loops
from mailboxes import services as ms
from mailboxes.models import Alias, AliasDestination, Mailbox
from tests import factories
from tests.dovecot_harness import free_loopback_port
from tests.postfix_harness import PrivatePostfix, wait_for

ARROW = " → "


def table(**entries: str) -> dict[str, tuple[str, ...]]:
    """{"a": "b c"} as the table {"a@x.example": ("b@x.example", "c@x.example")}."""
    return {
        f"{key}@x.example": tuple(f"{value}@x.example" for value in values.split())
        for key, values in entries.items()
    }


# -- the model of cleanup_map1n.c ----------------------------------------------------------------


def wide(count: int) -> dict[str, tuple[str, ...]]:
    return {"a@x.example": tuple(f"u{i}@out.example" for i in range(count))}


def doubling(levels: int) -> dict[str, tuple[str, ...]]:
    """p0 and q0 to p1 and q1, and so on: 2**levels addresses in the end, and no loop."""
    return {
        f"{side}{level}@x.example": (f"p{level + 1}@x.example", f"q{level + 1}@x.example")
        for level in range(levels)
        for side in "pq"
    }


def chain(length: int) -> dict[str, tuple[str, ...]]:
    """c0 to c1 to ... to c{length}: `length` rewrites of one address in a row."""
    return {f"c{i}@x.example": (f"c{i + 1}@x.example",) for i in range(length)}


# (name, table, address, what Postfix does: None accepts, else the deferral's code)
MODEL_CASES = [
    ("two steps", table(a="b", b="a"), "a", loops.LOOP),
    ("three steps", table(a="b", b="c", c="a"), "a", loops.LOOP),
    ("loop on a side branch", table(a="m b", b="c", c="b"), "a", loops.LOOP),
    ("loop on an appended branch", table(a="m b", b="a"), "a", loops.LOOP),
    ("copy kept at the start", table(a="a b", b="a"), "a", None),
    ("copy kept at the end", table(a="b a", b="a"), "a", None),
    ("copy kept half way", table(a="b", b="b a"), "a", None),
    ("loop beside a copy", table(a="a b", b="c", c="b"), "a", loops.LOOP),
    ("diamond", table(a="b c", b="d", c="d", d="d"), "a", None),
    ("self only", table(a="a"), "a", None),
    ("1000 addresses", wide(1000), "a", None),
    ("1001 addresses", wide(1001), "a", loops.TOO_MANY),
    ("1024 addresses without a loop", doubling(10), "p0", loops.TOO_MANY),
    ("999 rewrites in a row", chain(999), "c0", None),
    ("1000 rewrites in a row", chain(1000), "c0", loops.TOO_DEEP),
]


def model(entries: dict[str, tuple[str, ...]], address: str) -> str | None:
    problem = loops.judge(f"{address}@x.example", entries)
    return problem.code if problem else None


@pytest.mark.parametrize(
    ("entries", "address", "expected"),
    [case[1:] for case in MODEL_CASES],
    ids=[case[0] for case in MODEL_CASES],
)
def test_model(entries, address, expected) -> None:
    assert model(entries, address) == expected


def test_model_names_the_loop() -> None:
    problem = loops.judge("a@x.example", table(a="m b", b="c", c="b"))
    assert problem is not None
    assert problem.path == ("a@x.example", "b@x.example", "c@x.example", "b@x.example")


@pytest.fixture(scope="module")
def postfix() -> Iterator[PrivatePostfix]:
    """A private Postfix whose virtual_alias_maps is a texthash table of every model case."""
    instance = PrivatePostfix(smtp_port=free_loopback_port())
    instance.create()
    lines = []
    domains = []
    for number, (_name, entries, _address, _expected) in enumerate(MODEL_CASES):
        domain = f"case{number}.example"
        domains.append(domain)
        for key, values in entries.items():
            moved = [value.replace("@x.example", f"@{domain}") for value in values]
            lines.append(f"{key.replace('@x.example', f'@{domain}')} {', '.join(moved)}\n")
    path = instance.config_dir / "virtual"
    path.write_text("".join(lines), encoding="utf-8")
    instance.postconf(
        f"virtual_alias_domains = {' '.join(domains)}",
        f"virtual_alias_maps = texthash:{path}",
    )
    instance.start()
    try:
        yield instance
    finally:
        # master(8) leaves its pid file behind, which stop() waits 20 s for: ask Postfix.
        instance.postfix("stop", check=False)
        wait_for(
            lambda: instance.postfix("status", check=False).returncode != 0,
            "Postfix to stop",
            log=instance.log,
        )
        instance._started = False
        instance.stop()


def smtp_outcome(port: int, recipient: str) -> str | None:
    """None when Postfix takes the message, else the code of the reply to DATA."""
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        smtp.ehlo("client.mailadmin.test")
        try:
            smtp.sendmail("someone@out.example", [recipient], "Subject: loop\n\nbody\n")
        except smtplib.SMTPDataError as exc:
            error = exc.smtp_error
            return f"{exc.smtp_code} {error.decode() if isinstance(error, bytes) else error}"
    return None


@pytest.mark.tools
@pytest.mark.parametrize("number", range(len(MODEL_CASES)), ids=[c[0] for c in MODEL_CASES])
def test_model_agrees_with_the_real_postfix(postfix, number: int) -> None:
    _name, _entries, address, expected = MODEL_CASES[number]
    answer = smtp_outcome(postfix.smtp_port, f"{address}@case{number}.example")
    if expected is None:
        assert answer is None
    else:
        assert answer == "451 4.6.0 Alias expansion error"


# -- the resolution, against the contract views ------------------------------------------------


def postfix_answer(lookups: Lookups, address: str) -> tuple[str, ...] | None:
    """virtual_alias_maps as cleanup asks it: user@domain, then @domain; "@other" is the same
    user in the other domain (virtual(5), RESULT ADDRESS REWRITING)."""
    local = address.rpartition("@")[0]
    asked = lookups.ask_all("virtual_alias_maps", address)
    if not asked[-1].found:
        asked = lookups.ask_all("virtual_alias_maps", "@" + address.rpartition("@")[2])
    if not asked[-1].found:
        return None
    rows = [row.lower() for row in asked[-1].rows]
    if rows[0].startswith("@"):
        rows[0] = local + rows[0]
    return tuple(sorted(rows))


@pytest.mark.django_db
def test_resolution_matches_the_contract_views() -> None:
    from tests.contract.scenario import build

    build()
    factories.alias("fwd@example.com", "alice@alias.example", "x@elsewhere.net")
    addresses = [
        "alice@example.com",  # a mailbox
        "dave@example.com",  # keeps a copy
        "team@example.com",
        "nobody@example.com",  # the catch-all
        "old@example.com",  # an inactive alias: the catch-all takes it
        "carol@example.com",  # an inactive mailbox still answers for itself
        "alice@alias.example",
        "team@alias.example",
        "nobody@alias.example",  # the alias domain's catch-all follows the target's
        "nobody@alias-nocatch.example",
        "gina@inactive.example",
        "x@relay.example",
        "x@elsewhere.net",
        "fwd@example.com",
        "erin@example.com",  # forwarded without a copy
        "henry@nocatch.example",
        "nobody@nocatch.example",
        "frank@nodefault.example",
        "alice@off-alias.example",
        "jan@xn--bcher-kva.example",
    ]
    graph = alias_tables.resolve(addresses)
    lookups = Lookups()
    for address in addresses:
        expected = postfix_answer(lookups, address)
        got = graph[address]
        assert (tuple(sorted(got)) if got is not None else None) == expected, address


# -- the services ----------------------------------------------------------------------------------


@pytest.fixture
def x(db):
    domain = factories.domain("x.example")
    domain_services.alias_domain_create(actor=None, name="ax.example", target="x.example")
    return domain


def refused(**kwargs) -> str:
    """alias_create(**kwargs) is refused on its destinations alone, with one message about the
    new alias, and writes nothing; returns the message."""
    before = (Alias.objects.count(), AliasDestination.objects.count())
    with pytest.raises(ValidationError) as info:
        ms.alias_create(actor=kwargs.pop("actor", None), **kwargs)
    assert (Alias.objects.count(), AliasDestination.objects.count()) == before
    errors = info.value.message_dict
    assert list(errors) == ["destinations"], errors
    [message] = errors["destinations"]
    assert message.startswith(f"Mail to {kwargs['address']} would "), message
    return message


def path(*addresses: str) -> str:
    return ARROW.join(addresses)


def written_before(address: str, *destinations: str, active: bool = True) -> Alias:
    """An alias row to an address that does not exist yet, as an import of older data leaves
    one: the services refuse that (mailboxes/unknown_destinations.py), and a loop needs its
    first half to point at the second before the second exists."""
    local_part, _at, domain = address.rpartition("@")
    alias = Alias.objects.create(
        domain=Domain.objects.get(name=domain), local_part=local_part, active=active
    )
    AliasDestination.objects.bulk_create(
        AliasDestination(alias=alias, address=destination) for destination in destinations
    )
    return alias


def test_two_step_loop_is_refused(x) -> None:
    written_before("b@x.example", "a@x.example")
    message = refused(address="a@x.example", destinations=["b@x.example"])
    assert path("a@x.example", "b@x.example", "a@x.example") in message
    assert "defer" in message
    assert not Alias.objects.filter(local_part="a").exists()


def test_three_step_loop_is_refused(x) -> None:
    written_before("c@x.example", "a@x.example")
    factories.alias("b@x.example", "c@x.example")
    message = refused(address="a@x.example", destinations=["b@x.example"])
    assert path("a@x.example", "b@x.example", "c@x.example", "a@x.example") in message


def test_loop_through_an_alias_domain_is_refused(x) -> None:
    written_before("b@x.example", "a@x.example")
    message = refused(address="a@x.example", destinations=["b@ax.example"])
    assert path("a@x.example", "b@ax.example", "b@x.example", "a@x.example") in message


def test_a_mailbox_forwarding_to_its_alias_domain_form_loops(x) -> None:
    # Not a copy: a@ax.example is rewritten to a@x.example, which the alias rewrites again.
    factories.mailbox("a@x.example")
    message = refused(address="a@x.example", destinations=["a@ax.example"], mailbox_copy=False)
    assert path("a@x.example", "a@ax.example", "a@x.example") in message


def test_loop_through_catch_alls_is_refused(x) -> None:
    factories.domain("y.example")
    written_before("@y.example", "b@x.example")
    message = refused(address="@x.example", destinations=["a@y.example"])
    assert path("@x.example", "a@y.example", "b@x.example", "a@y.example") in message


def test_catch_all_to_an_unknown_address_of_its_own_domain_is_no_loop(x) -> None:
    # nobody@x.example expands to itself through the catch-all: kept, then bounced by virtual(8).
    factories.alias("@x.example", "nobody@x.example")


def test_changing_destinations_can_close_a_loop(x) -> None:
    written_before("b@x.example", "a@x.example")
    alias = factories.alias("a@x.example", "elsewhere@out.example")
    with pytest.raises(
        ValidationError, match=re.escape(path("a@x.example", "b@x.example", "a@x.example"))
    ):
        ms.alias_set_destinations(actor=None, alias=alias, destinations=["b@x.example"])
    assert list(alias.destinations.values_list("address", flat=True)) == ["elsewhere@out.example"]


def test_switching_an_alias_on_can_close_a_loop(x, client) -> None:
    """b was written while switched off and a was written while b answered nothing: switching
    b on would close a -> b -> a, so it is refused, in the service and on the panel."""
    b = written_before("b@x.example", "a@x.example", active=False)
    factories.alias("a@x.example", "b@x.example")
    with pytest.raises(
        ValidationError, match=re.escape(path("b@x.example", "a@x.example", "b@x.example"))
    ):
        ms.alias_set_active(actor=None, alias=b, active=True)
    b.refresh_from_db()
    assert not b.active
    client.force_login(factories.domain_admin("xadmin", x))
    response = client.post(f"/domains/x.example/aliases/{b.pk}/toggle/", follow=True)
    assert response.status_code == 200
    assert "would go round a loop" in response.content.decode()
    b.refresh_from_db()
    assert not b.active
    # Switching it off, or on again once the loop is gone, is not refused.
    Alias.objects.get(local_part="a").delete()
    ms.alias_set_active(actor=None, alias=b, active=True)


def test_deleting_a_mailbox_can_close_a_loop_through_the_catch_all(x, client) -> None:
    """b@ answers for itself while it is a mailbox; once deleted the catch-all takes it:
    b@ -> a@ -> b@. The deletion is refused and changes nothing, in the service and panel."""
    b = factories.mailbox("b@x.example")
    factories.alias("a@x.example", "b@x.example")
    factories.alias("@x.example", "a@x.example")
    with pytest.raises(ValidationError) as info:
        ms.mailbox_delete(actor=None, mailbox=b)
    assert list(info.value.message_dict) == [NON_FIELD_ERRORS]
    assert "b@x.example cannot be deleted" in str(info.value)
    assert path("a@x.example", "b@x.example", "a@x.example") in str(info.value)
    client.force_login(factories.domain_admin("xadmin2", x))
    response = client.post(f"/domains/x.example/mailboxes/{b.pk}/delete/", follow=True)
    assert "would go round a loop" in response.content.decode()
    assert Mailbox.objects.filter(pk=b.pk).exists()
    # Without the catch-all the address simply stops existing: no loop, deleted.
    Alias.objects.get(local_part="").delete()
    ms.mailbox_delete(actor=None, mailbox=b)


def test_a_copy_kept_in_the_mailbox_breaks_the_loop(x) -> None:
    """a@x.example lists itself: Postfix keeps it and does not expand it again, so mail that
    comes back to it through b@x.example stops there and is delivered once."""
    factories.mailbox("a@x.example")
    factories.alias("b@x.example", "a@x.example", "out@out.example")
    factories.alias("a@x.example", "a@x.example", "b@x.example")
    factories.alias("c@x.example", "b@x.example")


def test_pointing_at_an_existing_loop_is_refused(x) -> None:
    # A loop written before the check existed (or by an import): c <-> d.
    c = Alias.objects.create(domain=x, local_part="c")
    d = Alias.objects.create(domain=x, local_part="d")
    AliasDestination.objects.create(alias=c, address="d@x.example")
    AliasDestination.objects.create(alias=d, address="c@x.example")
    message = refused(address="a@x.example", destinations=["c@x.example"])
    assert path("a@x.example", "c@x.example", "d@x.example", "c@x.example") in message


def test_expansion_limits_are_refused(x, monkeypatch) -> None:
    monkeypatch.setattr(loops, "EXPANSION_LIMIT", 5)
    monkeypatch.setattr(loops, "RECURSION_LIMIT", 4)
    factories.alias("wide@x.example", *(f"u{i}@out.example" for i in range(3)))
    # a, then wide: 4 addresses, then 3 more for wide's 3.
    destinations = ["wide@x.example", "v1@out.example", "v2@out.example", "v3@out.example"]
    message = refused(address="a@x.example", destinations=destinations)
    assert "more than 5 addresses" in message
    factories.alias("c3@x.example", "end@out.example")
    factories.alias("c2@x.example", "c3@x.example")
    factories.alias("c1@x.example", "c2@x.example")  # 3 rewrites in a row: accepted
    message = refused(address="a@x.example", destinations=["c1@x.example"])
    assert "more than 4 times" in message


def test_foreign_hops_are_not_named_to_a_domain_admin(x) -> None:
    other = factories.domain("y.example")
    written_before("hidden@y.example", "a@x.example")
    factories.alias("b@y.example", "hidden@y.example")
    admin = factories.domain_admin("admin-x", x)
    message = refused(actor=admin, address="a@x.example", destinations=["b@y.example"])
    # The address the admin typed is theirs to see; how y.example goes on is not.
    assert path("a@x.example", "b@y.example", "…", "a@x.example") in message
    assert "hidden" not in message
    assert other.name  # y.example exists; the superadmin sees the whole path
    message = refused(address="a@x.example", destinations=["b@y.example"])
    assert path("a@x.example", "b@y.example", "hidden@y.example", "a@x.example") in message


def test_batch_entry_point_checks_aliases_together(x) -> None:
    problems = loops.alias_expansion_problems(
        {
            "a@x.example": ["b@x.example"],
            "b@x.example": ["a@x.example"],
            "ok@x.example": ["out@out.example"],
        }
    )
    assert set(problems) == {"a@x.example", "b@x.example"}
    assert problems["a@x.example"].code == loops.LOOP
    assert problems["b@x.example"].path == ("b@x.example", "a@x.example", "b@x.example")


def test_queries_do_not_grow_with_the_fan_out(x) -> None:
    y = factories.domain("y.example")
    few = 0
    for count in (3, 300):
        Alias.objects.filter(domain=y).delete()
        aliases = Alias.objects.bulk_create(
            Alias(domain=y, local_part=f"f{i}") for i in range(count)
        )
        AliasDestination.objects.bulk_create(
            AliasDestination(alias=alias, address=f"m{i}@x.example")
            for i, alias in enumerate(aliases)
        )
        with CaptureQueriesContext(connection) as captured:
            problems = loops.alias_expansion_problems(
                {"big@x.example": [f"f{i}@y.example" for i in range(count)]}
            )
        assert problems == {}
        if count == 3:
            few = len(captured)
        else:
            assert len(captured) == few <= 12
