"""A throwaway Dateline site for the benchmarks: an instance of its own, served by gunicorn."""

from __future__ import annotations

import http.client
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
PROGRAM = Path(sys.argv[0]).stem  # names the script in its error messages


def site_env(folder: Path, name: str) -> dict[str, str]:
    """The environment of a new, empty site ``name`` in ``folder``: database, media, key, stamp."""
    return os.environ | {
        "FLASK_SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / f'{name}.db'}",
        "FLASK_MEDIA_DIR": str(folder / f"{name}-media"),
        "FLASK_SECRET_KEY": f"{name}-" + secrets.token_urlsafe(32),
        "FLASK_CACHE_STAMP_FILE": str(folder / f"{name}.stamp"),
    }


def demo_instance(folder: Path, name: str) -> dict[str, str]:
    """The environment of a new site in ``folder``, demo added."""
    env = site_env(folder, name)
    flask_command(env, "init-db")
    flask_command(env, "seed-demo")
    return env


def flask_command(env: dict[str, str], *args: str) -> None:
    """Run ``flask --app app ARGS`` on the throwaway instance; stop with its output on failure."""
    command = [sys.executable, "-m", "flask", "--app", "app", *args]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{PROGRAM}: flask {args[0]} failed:\n{done.stdout}{done.stderr}")


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def gunicorn_command(port: int, workers: int, log: Path, app: str = "app:app") -> list[str]:
    """Gunicorn as production runs ``app``: sync workers, no control socket, no access log."""
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"{HOST}:{port}",
        "--workers",
        str(workers),
    ]
    return [*command, "--no-control-socket", "--error-logfile", str(log), app]


def start_server(
    env: dict[str, str], port: int, workers: int, log: Path, app: str = "app:app"
) -> subprocess.Popen[bytes]:
    """Start gunicorn as production does and wait until /healthz answers."""
    command = gunicorn_command(port, workers, log, app)
    # A session of its own: Ctrl-C reaches only this script, which then stops the server cleanly.
    server = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and server.poll() is None:
        if _healthy(port):
            return server
        time.sleep(0.2)
    stop_server(server)
    raise SystemExit(f"{PROGRAM}: gunicorn did not start:\n{tail(log)}")


def _healthy(port: int) -> bool:
    """Whether /healthz answers 200 on ``port``."""
    connection = http.client.HTTPConnection(HOST, port, timeout=5)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()


def stop_server(server: subprocess.Popen[bytes]) -> None:
    """Stop gunicorn gracefully (SIGTERM), killing it if that takes too long or is cut short."""
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=35)
        except (subprocess.TimeoutExpired, KeyboardInterrupt):
            server.kill()
            server.wait()


def tail(log: Path, lines: int = 40) -> str:
    """The end of the server's log."""
    text = log.read_text(errors="replace") if log.exists() else ""
    return "\n".join(text.splitlines()[-lines:])
