from django.apps import AppConfig
from django.db.models.signals import post_migrate


class DomainsConfig(AppConfig):
    name = "domains"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from domains import usage_triggers

        post_migrate.connect(usage_triggers.restore_after_sqlite_migrate, sender=self)
