from django.apps import AppConfig, apps
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate, pre_migrate


class ContractConfig(AppConfig):
    """Owns the SQL views that Postfix and Dovecot read, and the exporter of their config."""

    name = "mailadmin.contract"
    label = "contract"

    def ready(self) -> None:
        from mailadmin.contract import sqlite_files, sqlite_views

        # The migrate signals go to apps with models only, once each per run: this app has
        # none, the mailboxes app (whose tables the views read) stands in for it.
        sender = apps.get_app_config("mailboxes")
        pre_migrate.connect(sqlite_views.drop_before_migrate, sender=sender)
        post_migrate.connect(sqlite_views.create_after_migrate, sender=sender)
        # SQLite: every connection keeps the Postfix file (no password hashes) in step.
        connection_created.connect(sqlite_files.on_connection_created)
        pre_migrate.connect(sqlite_files.drop_triggers_before_migrate, sender=sender)
        post_migrate.connect(sqlite_files.rebuild_after_migrate, sender=sender)
