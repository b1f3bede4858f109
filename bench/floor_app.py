"""The floor of ``bench/api_floor.py``: a minimal WSGI app that runs the same SELECT of the
same rows as the customer API list and dumps them as JSON, over one psycopg2 connection per
process. No framework, no authentication, no middleware: what the hardware gives.

    FLOOR_DATABASE_URL=... FLOOR_SQL_FILE=... gunicorn bench.floor_app:application
"""

from __future__ import annotations

import datetime
import decimal
import json
import os
import uuid
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlparse

import psycopg2

_connection: Any = None
_SQL = open(os.environ["FLOOR_SQL_FILE"]).read()  # noqa: SIM115 - read once per process


def _connect() -> Any:
    url = urlparse(os.environ["FLOOR_DATABASE_URL"])
    connection = psycopg2.connect(
        host=url.hostname,
        port=url.port or 5432,
        user=url.username or "postgres",
        password=url.password,
        dbname=url.path.lstrip("/"),
    )
    connection.autocommit = True
    return connection


def _default(value: Any) -> Any:
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, uuid.UUID | decimal.Decimal):
        return str(value)
    raise TypeError(type(value))


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    global _connection
    if _connection is None:
        _connection = _connect()
    with _connection.cursor() as cursor:
        cursor.execute(_SQL)
        names = [column[0] for column in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    body = json.dumps({"next": None, "previous": None, "results": rows}, default=_default)
    data = body.encode()
    start_response(
        "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
    )
    return [data]
