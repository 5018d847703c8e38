"""Who may add an alias domain, and for which names: one rule in the panel, CLI and import.

An alias domain takes the mail this server's users send to its name and lets the target's users
send as anyone@name: a domain admin may add only the names a superadmin allowed for that
domain, and learns nothing from the refusal about whether the name exists.
"""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from audit.models import AuditEntry
from domains import services
from domains.models import AliasDomain, AliasDomainGrant, Domain
from tests import factories
from transfer.csvformat import CsvFile
from transfer.importer import Importer, ImportRejected

pytestmark = pytest.mark.django_db

# Refused alike: a public mail provider, another tenant's subdomain and domain, a name the
# superadmin has yet to create, and a name that is another tenant's alias domain.
CLAIMS = ["gmail.com", "lists.b.example", "b.example", "not-yet.example", "alias-b.example"]


def url(name: str, domain: str, *args: object) -> str:
    return reverse(f"mailboxes:{name}", args=[domain, *args])


def form_error(response) -> str:
    assert response.status_code == 200
    return response.context["form"].errors["name"][0]


@pytest.mark.parametrize("name", CLAIMS)
def test_a_domain_admin_cannot_claim_an_ungranted_name(
    client_a: Client, domain_b: Domain, name: str
) -> None:
    before = list(AliasDomain.objects.values_list("name", "target__name"))
    response = client_a.post(url("aliasdomain_create", "a.example"), {"name": name})
    assert form_error(response) == (
        f"{name} is not an alias domain a superadmin has allowed for this domain; "
        "ask one to allow it."
    )
    assert list(AliasDomain.objects.values_list("name", "target__name")) == before


def test_a_granted_name_can_be_added_by_the_domain_admin(
    client_super: Client, client_a: Client, domain_a: Domain
) -> None:
    response = client_super.post(
        url("aliasdomain_grant_create", "a.example"), {"name": "Shop-A.example"}
    )
    assert response.status_code == 302
    grant = AliasDomainGrant.objects.get()
    assert (grant.name, grant.domain) == ("shop-a.example", domain_a)
    assert AuditEntry.objects.filter(action="grant", domain="a.example").exists()
    page = client_a.get(url("aliasdomain_create", "a.example")).content.decode()
    assert "shop-a.example" in page and "Withdraw" not in page
    response = client_a.post(url("aliasdomain_create", "a.example"), {"name": "shop-a.example"})
    assert response.status_code == 302
    assert AliasDomain.objects.get(name="shop-a.example").target == domain_a


def test_a_grant_is_for_one_domain(
    client_super: Client, domain_a: Domain, domain_b: Domain
) -> None:
    services.alias_domain_grant_create(actor=None, name="shop.example", domain=domain_b)
    both = factories.domain_admin("both", domain_a, domain_b)
    with pytest.raises(ValidationError) as info:
        services.alias_domain_create(actor=both, name="shop.example", target="a.example")
    assert list(info.value.message_dict) == ["name"]
    assert "not an alias domain a superadmin has allowed" in info.value.message_dict["name"][0]
    assert not AliasDomain.objects.filter(name="shop.example").exists()
    services.alias_domain_create(actor=both, name="shop.example", target="b.example")


def test_only_a_superadmin_grants(client_a: Client, domain_a: Domain) -> None:
    response = client_a.post(url("aliasdomain_grant_create", "a.example"), {"name": "x.example"})
    assert response.status_code == 404
    admin = domain_a.admins.get()
    with pytest.raises(PermissionDenied):
        services.alias_domain_grant_create(actor=admin, name="x.example", domain=domain_a)
    assert not AliasDomainGrant.objects.exists()


def test_withdrawing_a_grant(client_super: Client, client_a: Client, domain_a: Domain) -> None:
    grant = services.alias_domain_grant_create(actor=None, name="x.example", domain=domain_a)
    assert client_a.post(url("aliasdomain_grant_delete", "a.example", grant.pk)).status_code == 404
    response = client_super.post(url("aliasdomain_grant_delete", "a.example", grant.pk))
    assert response.status_code == 302 and not AliasDomainGrant.objects.exists()
    response = client_a.post(url("aliasdomain_create", "a.example"), {"name": "x.example"})
    assert "not an alias domain a superadmin has allowed" in form_error(response)


def test_a_grant_keeps_the_name_from_becoming_a_domain_and_back(domain_a: Domain) -> None:
    factories.domain("b.example")
    with pytest.raises(ValidationError) as info:
        services.alias_domain_grant_create(actor=None, name="b.example", domain=domain_a)
    assert info.value.message_dict["name"] == ["b.example is already a domain."]
    with pytest.raises(ValidationError) as info:
        services.alias_domain_grant_create(actor=None, name="alias-a.example", domain=domain_a)
    assert info.value.message_dict["name"] == ["alias-a.example is already an alias domain."]
    services.alias_domain_grant_create(actor=None, name="c.example", domain=domain_a)
    with pytest.raises(ValidationError) as info:
        services.domain_create(actor=None, name="c.example")
    assert "allowed as an alias domain of a.example" in info.value.message_dict["name"][0]


@pytest.mark.parametrize("name", CLAIMS)
def test_the_import_applies_the_same_rule(domain_a: Domain, domain_b: Domain, name: str) -> None:
    admin = factories.domain_admin("importer", domain_a)
    text = f"type,name,target\naliasdomain,{name},a.example\n"
    with pytest.raises(ImportRejected) as info:
        Importer(CsvFile(data=text.encode()), actor=admin).commit()
    assert {p.line: p.reason for p in info.value.report.errors} == {
        2: f"name: {name} is not an alias domain a superadmin has allowed for this domain; "
        "ask one to allow it."
    }
    services.alias_domain_grant_create(actor=None, name="granted.example", domain=domain_a)
    text = "type,name,target\naliasdomain,granted.example,a.example\n"
    Importer(CsvFile(data=text.encode()), actor=admin).commit()
    assert AliasDomain.objects.get(name="granted.example").target == domain_a


def test_cli_allow_list_disallow(domain_a: Domain) -> None:
    out = io.StringIO()
    call_command("aliasdomain", "allow", "Shop.example", "a.example", stdout=out)
    assert "may now add shop.example" in out.getvalue()
    out = io.StringIO()
    call_command("aliasdomain", "allowed", stdout=out)
    assert "shop.example" in out.getvalue() and "a.example" in out.getvalue()
    call_command("aliasdomain", "disallow", "shop.example", stdout=io.StringIO())
    assert not AliasDomainGrant.objects.exists()
