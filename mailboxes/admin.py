"""Read-only views of mailboxes and aliases (see domains/admin.py for why read-only)."""

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from domains.admin import ReadOnlyAdmin
from mailboxes.models import Alias, AliasDestination, Mailbox


@admin.register(Mailbox)
class MailboxAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "name", "format", "quota", "uid", "gid", "active"]
    list_filter = ["active", "format"]
    list_select_related = ["domain"]
    search_fields = ["local_part", "domain__name", "name"]
    exclude = ["password"]
    show_full_result_count = False


class DestinationInline(admin.TabularInline):
    model = AliasDestination
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(Alias)
class AliasAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "active", "description"]
    list_filter = ["active"]
    list_select_related = ["domain"]
    search_fields = ["local_part", "domain__name", "destinations__address"]
    inlines = [DestinationInline]
    show_full_result_count = False
