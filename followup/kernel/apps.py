from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KernelConfig(AppConfig):
    """The shared primitives (outbox, Idempotency-Key records, API conventions, claims,
    registries, mail). They import no domain app; the domain apps build on them."""

    name = "followup.kernel"
    label = "kernel"
    verbose_name = _("Shared primitives")
    default_auto_field = "django.db.models.BigAutoField"
