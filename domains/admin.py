"""Read-only views of the data in Django's admin site.

Writes go through the services (panel, CLI, API), which enforce limits and scoping; the admin
site only shows rows, so it can never bypass those rules.
"""

from django.contrib import admin
from django.db.models import F, QuerySet
from django.http import HttpRequest

from domains.models import AliasDomain, Domain, ServerSettings


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Domain)
class DomainAdmin(ReadOnlyAdmin):
    list_display = ["name", "display_name", "delivery", "active", "mailbox_count", "uid", "gid"]
    list_filter = ["active", "delivery"]
    search_fields = ["name", "description"]
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Domain]:
        # The trigger-kept counter, not Count("mailboxes"): a join and GROUP BY over every
        # mailbox of the page's domains.
        return super().get_queryset(request).annotate(mailbox_total=F("usage__mailboxes"))

    @admin.display(description="mailboxes", ordering="mailbox_total")
    def mailbox_count(self, obj: Domain) -> int:
        return obj.mailbox_total  # type: ignore[attr-defined]


@admin.register(AliasDomain)
class AliasDomainAdmin(ReadOnlyAdmin):
    list_display = ["name", "target", "active"]
    list_select_related = ["target"]
    search_fields = ["name", "target__name"]


@admin.register(ServerSettings)
class ServerSettingsAdmin(ReadOnlyAdmin):
    list_display = ["default_uid", "default_gid"]
