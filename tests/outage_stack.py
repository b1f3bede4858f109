"""A Redis, a PostgreSQL and a web server of our own, for the outage tests (issue 12).

The tests stop and start these, never the machine's shared servers: Redis runs on a free
port without persistence; PostgreSQL is a throw-away cluster made with ``initdb`` in a
temporary directory (as the unprivileged ``nobody`` when the tests run as root, since
PostgreSQL refuses to run as root); the app runs as a real server process
(``manage.py runserver``) pointed at both, with a fresh migrated database.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv").exists() else sys.executable


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listens on {port}")


def pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if found:
        return found[-1]
    path = shutil.which(name)
    if path is None:
        raise FileNotFoundError(f"PostgreSQL's {name} is not installed")
    return path


def _as_postgres_user(args: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "nobody", "--", *args]
    return args


@dataclass
class OwnRedis:
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None


@dataclass
class OwnPostgres:
    port: int = field(default_factory=free_port)
    directory: str = field(default_factory=lambda: tempfile.mkdtemp(prefix="followup-pg-"))

    @property
    def data(self) -> str:
        return os.path.join(self.directory, "data")

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/followup"

    def init(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.directory, user="nobody")
        subprocess.run(
            _as_postgres_user(
                [
                    pg_bin("initdb"),
                    "-D",
                    self.data,
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--no-sync",
                ]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        self.start()
        subprocess.run(
            [
                pg_bin("createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "followup",
            ],
            check=True,
        )

    def _ctl(self, *args: str) -> None:
        subprocess.run(
            _as_postgres_user([pg_bin("pg_ctl"), "-D", self.data, *args]),
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c full_page_writes=off"
        )
        self._ctl("-o", options, "-l", os.path.join(self.directory, "log"), "-w", "start")

    def stop(self) -> None:
        self._ctl("-m", "fast", "-w", "stop")

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)


@dataclass
class App:
    """The web server on our own Redis and PostgreSQL, with an organization, its owner
    (password ``PASSWORD``) and an owner API key."""

    redis: OwnRedis
    postgres: OwnPostgres
    port: int = field(default_factory=free_port)
    var_dir: str = field(default_factory=lambda: tempfile.mkdtemp(prefix="followup-var-"))
    process: subprocess.Popen | None = None
    key: str = ""
    slug: str = ""
    email: str = "owner@outage.test"
    password: str = "an outage-proof secret"

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
        env.update(
            DJANGO_ENV="development",
            DJANGO_DEBUG="false",
            DATABASE_URL=self.postgres.url,
            REDIS_URL=self.redis.url,
            FOLLOWUP_VAR_DIR=self.var_dir,
            FOLLOWUP_BASE_URL=self.base,
            DB_CONN_MAX_AGE="60",
            LOG_LEVEL="WARNING",
        )
        env.pop("DJANGO_SETTINGS_MODULE", None)
        # Its own throwaway cluster, connected to as its superuser: no owner role to switch to.
        for name in ("MIGRATE_DATABASE_URL", "FOLLOWUP_DB_APP_ROLE"):
            env.pop(name, None)
        return env

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [PYTHON, "manage.py", *args],
            cwd=ROOT,
            env=self.env(),
            check=True,
            capture_output=True,
            text=True,
        )
        return result.stdout

    def prepare(self) -> None:
        self.manage("migrate", "--noinput")
        out = self.manage("create_org", "Outage Inc", "--owner", self.email, "--api-key", "owner")
        self.key = out.strip().splitlines()[-1]
        self.slug = out.split("(/o/", 1)[1].split("/", 1)[0]
        self.manage(
            "shell",
            "-c",
            f"from accounts.models import User; u = User.objects.get(email={self.email!r}); "
            f"u.set_password({self.password!r}); u.save()",
        )

    def start(self) -> None:
        self.process = subprocess.Popen(
            [PYTHON, "manage.py", "runserver", "--noreload", f"127.0.0.1:{self.port}"],
            cwd=ROOT,
            env=self.env(),
            stdout=subprocess.DEVNULL,
            stderr=open(os.path.join(self.var_dir, "server.log"), "w"),  # noqa: SIM115
        )
        wait_for_port(self.port, timeout=60)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None
        shutil.rmtree(self.var_dir, ignore_errors=True)

    def api(self) -> requests.Session:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {self.key}"
        return session

    def browser(self) -> requests.Session:
        """A logged-in session, as a browser has it (session cookie and CSRF token)."""
        session = requests.Session()
        session.get(f"{self.base}/accounts/login/", timeout=10)
        token = session.cookies["csrftoken"]
        response = session.post(
            f"{self.base}/accounts/login/",
            data={"username": self.email, "password": self.password, "csrfmiddlewaretoken": token},
            headers={"Referer": f"{self.base}/accounts/login/"},
            allow_redirects=False,
            timeout=10,
        )
        assert response.status_code == 302, response.text[:500]
        session.headers["X-CSRFToken"] = session.cookies["csrftoken"]
        session.headers["Referer"] = f"{self.base}/"
        return session

    def count(self, expression: str) -> int:
        """A number read straight from the app's database (Django shell)."""
        out = self.manage("shell", "-c", f"print({expression})")
        return int(out.strip().splitlines()[-1])
