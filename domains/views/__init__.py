"""The domain pages: list, detail, create/edit/enable/disable/delete (the mail-stack
config page lives in mailadmin/contract/views.py). Thin views: reads through
domains.selectors, writes through domains.services with actor=request.user."""

from domains.views.edit import (
    domain_create,
    domain_delete,
    domain_disable,
    domain_edit,
    domain_toggle,
)
from domains.views.listing import domain_detail, domain_list
from domains.views.relay import relay_recipient_add, relay_recipient_delete, relay_recipient_list

__all__ = [
    "domain_create",
    "domain_delete",
    "domain_detail",
    "domain_disable",
    "domain_edit",
    "domain_list",
    "domain_toggle",
    "relay_recipient_add",
    "relay_recipient_delete",
    "relay_recipient_list",
]
