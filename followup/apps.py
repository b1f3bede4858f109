from django.apps import AppConfig


class FollowupConfig(AppConfig):
    name = "followup"
    verbose_name = "Followup"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from followup import engine

        engine.register()
