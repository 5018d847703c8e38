from django.apps import AppConfig


class SelfserviceConfig(AppConfig):
    name = "selfservice"
    default_auto_field = "django.db.models.BigAutoField"
