"""Settings of the bench: the project's, with mail going nowhere (measured: the engine)."""

from followup.site.settings import *  # noqa: F403

EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
