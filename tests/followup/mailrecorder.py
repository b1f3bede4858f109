"""An e-mail backend that records each message as a row in the database it runs against.

Used by the real-worker tests: the worker is another process, so ``mail.outbox`` cannot see
its mail. The row is written on the connection of the transaction that sends the reminder,
so it commits or rolls back with the reminder's delivery row, exactly like the delivery.
"""

from __future__ import annotations

import time

from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection

TABLE = "test_recorded_mail"
CREATE = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} "
    "(id serial PRIMARY KEY, recipient text, subject text, reminder text, pid integer)"
)
INSERT = f"INSERT INTO {TABLE} (recipient, subject, reminder, pid) VALUES (%s, %s, %s, %s)"
INSERT = f"INSERT INTO {TABLE} (recipient, subject, reminder, pid) VALUES (%s, %s, %s, %s)"


class RecordingBackend(BaseEmailBackend):
    #: Seconds each message takes, like a real SMTP round trip (keeps the run killable).
    delay = 0.005

    def send_messages(self, messages):
        import os

        with connection.cursor() as cursor:
            for message in messages:
                time.sleep(self.delay)
                cursor.execute(
                    INSERT,
                    [
                        ",".join(message.to),
                        message.subject,
                        message.extra_headers.get("X-Followup-Reminder", ""),
                        os.getpid(),
                    ],
                )
        return len(messages)
