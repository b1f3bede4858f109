"""Settings of the Celery worker and beats that the real-worker tests start: the project's
settings on the real broker (tests otherwise use an in-memory one) with the recording mail
backend (``tests.followup.mailrecorder``)."""

from followup.site.settings import *  # noqa: F403
from followup.site.settings import REDIS_URL

CELERY_BROKER_URL = REDIS_URL
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
EMAIL_BACKEND = "tests.followup.mailrecorder.RecordingBackend"
