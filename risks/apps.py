from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RisksConfig(AppConfig):
    name = "risks"
    verbose_name = _("Risk register")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from risks import monitoring_registry, registry

        registry.register()
        monitoring_registry.register()
