"""The site's URL map. Admin pages, the owners' self-service and the transfer tools live in
their own apps; each is mounted once here."""

from django.urls import include, path

urlpatterns = [
    # Domain list and edit, server settings, mail-stack config.
    path("", include("domains.urls")),
    # The dashboard; per-domain mailboxes, aliases and alias domains; the address trace.
    path("", include("mailboxes.urls")),
    # Admin login, logout, password change and the management of admins.
    path("accounts/", include("accounts.urls")),
    path("audit/", include("audit.urls")),
    # Mailbox owners' self-service: login with the mail password, password change, forwarding.
    path("me/", include("selfservice.urls")),
    # Filters and vacation replies: the owner's pages under /me/, an admin's under the mailbox.
    path("", include("sieve.urls")),
    # CSV import and export, backups.
    path("transfer/", include("transfer.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
]
