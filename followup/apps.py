from django.apps import AppConfig


class FollowupConfig(AppConfig):
    name = "followup"
    verbose_name = "Followup"
    default_auto_field = "django.db.models.BigAutoField"
