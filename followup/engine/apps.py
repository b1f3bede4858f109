from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FollowUpEngineConfig(AppConfig):
    """The follow-up engine. Its label stays ``followup``: the tables and migrations are the
    ones it had before the package was split into layers."""

    name = "followup.engine"
    label = "followup"
    verbose_name = _("Follow-up engine")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from followup.engine import registry

        registry.register()
