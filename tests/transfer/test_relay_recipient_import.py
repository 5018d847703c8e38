"""CSV import and export of relay recipients: `relayrecipient,local@relaydomain` rows under
the rules of domains/relay.py, and `accept_any` on domain rows."""

from __future__ import annotations

import io

import pytest

from domains import relay
from domains.models import Domain, RelayRecipient
from tests import factories as f
from transfer.csvformat import CsvFile
from transfer.exporter import export_csv
from transfer.importer import Importer, ImportRejected, Report

pytestmark = pytest.mark.django_db

HEADER = "type,name,delivery,transport,accept_any\n"


def run(text: str, *, actor=None) -> Report:
    return Importer(CsvFile(data=text.encode()), actor=actor).commit()


def rejected(text: str, *, actor=None) -> dict[int, str]:
    before = list(RelayRecipient.objects.values_list("pk", flat=True))
    with pytest.raises(ImportRejected) as info:
        run(text, actor=actor)
    assert list(RelayRecipient.objects.values_list("pk", flat=True)) == before
    return {p.line: p.reason for p in info.value.report.errors}


def listed() -> list[str]:
    return sorted(r.address for r in RelayRecipient.objects.select_related("domain"))


def test_relay_domain_and_its_recipients_from_one_file() -> None:
    report = run(
        HEADER + "relayrecipient,Info@relay.example,,,\n"
        "domain,relay.example,relay,smtp:[mx.relay.example]:25,\n"
        "relayrecipient,sales@relay.example,,,\n"
        "domain,open.example,backup,,yes\n"
        "domain,hosted.example,hosted,,yes\n"
    )
    assert report.created["relayrecipient"] == 2
    assert listed() == ["info@relay.example", "sales@relay.example"]
    flags = dict(Domain.objects.values_list("name", "relay_accept_any"))
    # Empty is no (a new relay domain takes only its list); a hosted domain never accepts any.
    assert flags == {"relay.example": False, "open.example": True, "hosted.example": False}


def test_bad_relay_recipient_rows_are_reported_by_line() -> None:
    f.domain("hosted.example")
    relay_domain = f.domain("relay.example", delivery="backup")
    relay.relay_recipient_add(actor=None, domain=relay_domain, local_part="info")
    errors = rejected(
        HEADER + "relayrecipient,a*b@relay.example,,,\n"
        "relayrecipient,info@hosted.example,,,\n"
        "relayrecipient,x@nowhere.example,,,\n"
        "relayrecipient,info@relay.example,,,\n"
        "relayrecipient,new@relay.example,,,\n"
        "relayrecipient,NEW@relay.example,,,\n"
        "relayrecipient,@relay.example,,,\n"
    )
    assert "doveadm" in errors[2]
    assert "hosted here" in errors[3]
    assert "nowhere.example" in errors[4]
    assert "already exists" in errors[5]
    assert 6 not in errors and "line 6" in errors[7]
    assert "nothing before the @" in errors[8]


def test_domain_admin_imports_into_own_relay_domain_only() -> None:
    own = f.domain("relay-a.example", delivery="backup")
    f.domain("relay-b.example", delivery="backup")
    admin = f.domain_admin("admin-a", own)
    errors = rejected(
        HEADER + "relayrecipient,x@relay-a.example,,,\nrelayrecipient,x@relay-b.example,,,\n",
        actor=admin,
    )
    assert list(errors) == [3] and "not one of your domains" in errors[3]
    run(HEADER + "relayrecipient,x@relay-a.example,,,\n", actor=admin)
    assert listed() == ["x@relay-a.example"]


def test_export_and_import_again_give_the_same_lists(django_db_blocker) -> None:
    domain = f.domain("relay.example", delivery="relay", transport="smtp:[mx.relay.example]:25")
    f.domain("open.example", delivery="backup", relay_accept_any=True)
    relay.relay_recipients_replace(actor=None, domain=domain, local_parts=["b", "a"])
    out = io.StringIO()
    export_csv(out, None, include_hashes=True)
    text = out.getvalue()
    assert "relayrecipient,a@relay.example" in text
    Domain.objects.all().delete()
    run(text)
    assert listed() == ["a@relay.example", "b@relay.example"]
    assert Domain.objects.get(name="open.example").relay_accept_any is True
    assert Domain.objects.get(name="relay.example").relay_accept_any is False
