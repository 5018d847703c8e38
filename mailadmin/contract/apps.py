from django.apps import AppConfig


class ContractConfig(AppConfig):
    """Owns the SQL views that Postfix and Dovecot read, and the exporter of their config."""

    name = "mailadmin.contract"
    label = "contract"
