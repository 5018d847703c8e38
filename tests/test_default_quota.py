"""A domain's default quota for new mailboxes: set by the panel, the CLI and the CSV import,
taken by every writer that creates a mailbox without a quota, never above the maximum."""

from __future__ import annotations

import io
import json

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from domains import services as domain_services
from domains.models import Domain
from mailboxes.models import Mailbox
from tests import factories as f
from tests.transfer.test_csv_import import rejected
from transfer.csvformat import CsvFile
from transfer.exporter import export_csv
from transfer.importer import Importer

pytestmark = pytest.mark.django_db

GiB = 1024**3


def cli(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_a_mailbox_without_a_quota_gets_the_default() -> None:
    f.domain("shop.example", max_mailbox_quota=10 * GiB, default_mailbox_quota=2 * GiB)
    assert f.mailbox("anna@shop.example").quota == 2 * GiB
    assert f.mailbox("ben@shop.example", quota=5 * GiB).quota == 5 * GiB
    # Without a default the maximum stays the default, as before.
    f.domain("plain.example", max_mailbox_quota=3 * GiB)
    assert f.mailbox("cy@plain.example").quota == 3 * GiB


def test_the_default_is_never_above_the_maximum() -> None:
    with pytest.raises(ValidationError) as info:
        f.domain("shop.example", max_mailbox_quota=GiB, default_mailbox_quota=2 * GiB)
    assert list(info.value.message_dict) == ["default_mailbox_quota"]
    assert not Domain.objects.exists()
    shop = f.domain("shop.example", max_mailbox_quota=4 * GiB, default_mailbox_quota=2 * GiB)
    with pytest.raises(ValidationError):
        domain_services.domain_update(actor=None, domain=shop, max_mailbox_quota=GiB)
    assert Domain.objects.get().max_mailbox_quota == 4 * GiB


def test_the_cli_sets_and_shows_it() -> None:
    cli("domain", "add", "shop.example", "--max-quota", "10G", "--default-quota", "1G")
    out = cli("domain", "set", "shop.example", "--default-quota", "2G")
    assert "default-mailbox-quota 1 GiB → 2 GiB" in out
    assert json.loads(cli("domain", "show", "shop.example", "--json"))["default_mailbox_quota"] == (
        2 * GiB
    )
    with pytest.raises(CommandError, match="default-quota: The default quota"):
        cli("domain", "set", "shop.example", "--default-quota", "20G")
    out = cli("mailbox", "add", "anna@shop.example")
    assert "quota 2 GiB" in out


def test_the_panel_form_sets_it() -> None:
    f.domain("shop.example", max_mailbox_quota=10 * GiB)
    superadmin = get_user_model().objects.create_superuser(username="root", password=f.PASSWORD)
    client = Client()
    client.force_login(superadmin)
    page = client.get("/domains/shop.example/edit/").content.decode()
    assert 'name="default_mailbox_quota"' in page
    form = {
        "description": "",
        "delivery": "hosted",
        "transport": "",
        "max_mailboxes": "0",
        "max_aliases": "0",
        "max_mailbox_quota": "10G",
        "total_quota": "0",
        "default_mailbox_quota": "3G",
    }
    assert client.post("/domains/shop.example/edit/", form).status_code == 302
    assert Domain.objects.get().default_mailbox_quota == 3 * GiB
    page = client.get("/domains/shop.example/mailboxes/new/").content.decode()
    assert "default, 3 GiB; at most 10 GiB." in page
    form["default_mailbox_quota"] = "11G"
    refused = client.post("/domains/shop.example/edit/", form).content.decode()
    assert "The default quota (11 GiB) is above the maximum per mailbox (10 GiB)" in refused
    assert Domain.objects.get().default_mailbox_quota == 3 * GiB


def test_the_csv_import_reads_and_the_export_writes_it() -> None:
    text = (
        "type,name,max_quota,default_quota,password\n"
        "domain,shop.example,4G,1G,\n"
        "mailbox,anna@shop.example,,,a clear password\n"
    )
    assert Importer(CsvFile(data=text.encode()), actor=None).commit().committed
    assert Domain.objects.get().default_mailbox_quota == GiB
    assert Mailbox.objects.get().quota == GiB
    out = io.StringIO()
    export_csv(out, None, include_hashes=False)
    header, domain_row = out.getvalue().splitlines()[:2]
    cells = dict(zip(header.split(","), domain_row.split(","), strict=True))
    assert (cells["max_quota"], cells["default_quota"]) == (str(4 * GiB), str(GiB))
    found = rejected("type,name,max_quota,default_quota\ndomain,big.example,1G,2G\n")
    assert found[2].startswith("default_quota: The default quota (2 GiB) is above the maximum")
