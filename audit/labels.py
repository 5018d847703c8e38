"""Words for the audit log's stored codes, in the reader's language."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

ACTIONS = {
    "create": _("created"),
    "update": _("changed"),
    "delete": _("deleted"),
    "enable": _("enabled"),
    "disable": _("disabled"),
    "password": _("password set"),
    "grant": _("domain granted"),
    "revoke": _("domain revoked"),
    "reveal": _("credentials shown"),
    "download": _("config downloaded"),
    "forwarding": _("forwarding changed"),
    "import": _("imported"),
    "rehash": _("password hash renewed"),
    "owner_access": _("owner access changed"),
    "unthrottle": _("login throttle lifted"),
}

OBJECT_TYPES = {
    "domain": _("Domain"),
    "aliasdomain": _("Alias domain"),
    "mailbox": _("Mailbox"),
    "alias": _("Alias"),
    "user": _("Admin"),
    "serversettings": _("Server settings"),
    "vacation": _("Vacation reply"),
    "filterrule": _("Filter rule"),
    "sievesettings": _("Filter settings"),
    "sievescript": _("Sieve script"),
    "relayrecipient": _("Relay recipient"),
    "aliasdomaingrant": _("Allowed alias domain"),
    "loginthrottle": _("Login throttle"),
    "passwordpolicy": _("Password policy"),
}
