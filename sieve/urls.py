"""The filter and vacation pages: the owner's under /me/ (beside the self-service pages),
an admin's under the mailbox's domain (beside the mailbox pages). Mounted at the site's root
once (mailadmin/urls.py)."""

from django.urls import path

from sieve.views import admin, owner

app_name = "sieve"

_ME = "me"
_MAILBOX = "domains/<str:domain>/mailboxes/<int:pk>"

urlpatterns = [
    path(f"{_ME}/vacation/", owner.vacation, name="vacation"),
    path(f"{_ME}/filters/", owner.filters, name="filters"),
    path(f"{_ME}/filters/spam/", owner.spam, name="spam"),
    path(f"{_ME}/filters/new/", owner.rule_new, name="rule_new"),
    path(f"{_ME}/filters/<int:rule>/", owner.rule_edit, name="rule_edit"),
    path(f"{_ME}/filters/<int:rule>/delete/", owner.rule_delete, name="rule_delete"),
    path(f"{_ME}/filters/<int:rule>/move/", owner.rule_move, name="rule_move"),
    path(f"{_MAILBOX}/vacation/", admin.vacation, name="admin_vacation"),
    path(f"{_MAILBOX}/filters/", admin.filters, name="admin_filters"),
    path(f"{_MAILBOX}/filters/spam/", admin.spam, name="admin_spam"),
    path(f"{_MAILBOX}/filters/new/", admin.rule_new, name="admin_rule_new"),
    path(f"{_MAILBOX}/filters/<int:rule>/", admin.rule_edit, name="admin_rule_edit"),
    path(f"{_MAILBOX}/filters/<int:rule>/delete/", admin.rule_delete, name="admin_rule_delete"),
    path(f"{_MAILBOX}/filters/<int:rule>/move/", admin.rule_move, name="admin_rule_move"),
]
