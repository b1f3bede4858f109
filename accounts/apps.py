from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created
        from django.db.models.signals import post_migrate

        from accounts import rls, rls_schema

        connection_created.connect(rls.install, dispatch_uid="accounts.rls.install")
        post_migrate.connect(
            rls_schema.post_migrate_handler, sender=self, dispatch_uid="accounts.rls_schema"
        )
        import accounts.apikey_cache  # noqa: F401 - its signals, in every process
        from accounts import audit

        for action, label in (
            ("organization.created", _("Organization created")),
            ("organization.updated", _("Organization settings changed")),
            ("invitation.sent", _("Invitation sent")),
            ("invitation.revoked", _("Invitation revoked")),
            ("member.joined", _("Member joined")),
            ("member.role_changed", _("Role changed")),
            ("member.removed", _("Member removed")),
            ("member.left", _("Member left")),
            ("api_key.created", _("API key created")),
            ("api_key.revoked", _("API key revoked")),
            ("api_key.updated", _("API key changed")),
            ("api.write", _("Change through the API")),
        ):
            audit.register_action(action, label)
        from accounts import departures, services

        departures.register(
            "accounts", holdings=services.api_keys_held, leave=services.api_keys_revoke_of
        )
