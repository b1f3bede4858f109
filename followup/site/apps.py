from django.apps import AppConfig


class SiteConfig(AppConfig):
    """The composition root: settings, URLs, the Celery app and beat schedule, the demo
    command. The only package that knows every app."""

    name = "followup.site"
    label = "site"
    verbose_name = "Followup"
    default_auto_field = "django.db.models.BigAutoField"
