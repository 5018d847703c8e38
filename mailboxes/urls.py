"""Per-domain pages (mailboxes, aliases, alias domains) and the address trace."""

from django.urls import path

from mailboxes.views import aliasdomains, aliases, bulk, dashboard, mailboxes, search, trace

app_name = "mailboxes"

_D = "domains/<str:domain>"

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path(f"{_D}/mailboxes/", mailboxes.mailbox_list, name="mailbox_list"),
    path(f"{_D}/mailboxes/new/", mailboxes.mailbox_create, name="mailbox_create"),
    path(f"{_D}/mailboxes/bulk/", bulk.mailbox_bulk, name="mailbox_bulk"),
    path(f"{_D}/mailboxes/<int:pk>/", mailboxes.mailbox_row, name="mailbox_row"),
    path(f"{_D}/mailboxes/<int:pk>/edit/", mailboxes.mailbox_edit, name="mailbox_edit"),
    path(f"{_D}/mailboxes/<int:pk>/password/", mailboxes.mailbox_password, name="mailbox_password"),
    path(f"{_D}/mailboxes/<int:pk>/toggle/", mailboxes.mailbox_toggle, name="mailbox_toggle"),
    path(f"{_D}/mailboxes/<int:pk>/delete/", mailboxes.mailbox_delete, name="mailbox_delete"),
    path(f"{_D}/aliases/", aliases.alias_list, name="alias_list"),
    path(f"{_D}/aliases/new/", aliases.alias_create, name="alias_create"),
    path(f"{_D}/aliases/bulk/", bulk.alias_bulk, name="alias_bulk"),
    path(f"{_D}/aliases/<int:pk>/", aliases.alias_row, name="alias_row"),
    path(f"{_D}/aliases/<int:pk>/edit/", aliases.alias_edit, name="alias_edit"),
    path(f"{_D}/aliases/<int:pk>/toggle/", aliases.alias_toggle, name="alias_toggle"),
    path(f"{_D}/aliases/<int:pk>/delete/", aliases.alias_delete, name="alias_delete"),
    path(f"{_D}/alias-domains/", aliasdomains.aliasdomain_list, name="aliasdomain_list"),
    path(f"{_D}/alias-domains/new/", aliasdomains.aliasdomain_create, name="aliasdomain_create"),
    path(
        f"{_D}/alias-domains/grants/",
        aliasdomains.aliasdomain_grant_create,
        name="aliasdomain_grant_create",
    ),
    path(
        f"{_D}/alias-domains/grants/<int:pk>/delete/",
        aliasdomains.aliasdomain_grant_delete,
        name="aliasdomain_grant_delete",
    ),
    path(
        f"{_D}/alias-domains/<int:pk>/toggle/",
        aliasdomains.aliasdomain_toggle,
        name="aliasdomain_toggle",
    ),
    path(
        f"{_D}/alias-domains/<int:pk>/delete/",
        aliasdomains.aliasdomain_delete,
        name="aliasdomain_delete",
    ),
    path("trace/", trace.trace, name="trace"),
    path("search/", search.search, name="search"),
    path("search/popup/", search.search_popup, name="search_popup"),
]
