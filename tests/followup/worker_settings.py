"""Settings of the Celery worker that the real-worker tests start: the project's settings
with the recording mail backend (``tests.followup.mailrecorder``)."""

from followup.settings import *  # noqa: F403

EMAIL_BACKEND = "tests.followup.mailrecorder.RecordingBackend"
