"""`make run` and the Procfile's worker stop within 10 s of SIGTERM or Ctrl-C, even with a long task running."""
from __future__ import annotations

import os
import shlex
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from celery import Celery

from app.config import ROOT
from net_support import free_port

LIMIT_S = 10


def _wait(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


@pytest.fixture
def env(tmp_path):
    """A process environment with its own SQLite database and broker (no server needed)."""
    # An in-process Celery worker of an earlier test leaves CELERY_LOG_* in this process's environment.
    found = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")
             and not k.startswith("CELERY_")}
    return {**found, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}",
            "NAP_BROKER_URL": f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}", "FLASK_APP": "wsgi",
            "PATH": f"{ROOT / '.venv' / 'bin'}:{found['PATH']}"}


def _nap_running(env: dict, tmp_path: Path) -> None:
    """Queue a two-minute task and wait until the worker has started it."""
    marker = tmp_path / "napping"
    # Held in a name and closed: a throwaway app's connection can be collected mid-send (kombu's channels keep
    # only a weak reference to it).
    client = Celery(broker=env["NAP_BROKER_URL"])
    try:
        client.send_task("nap", args=[120, str(marker)])
    finally:
        client.close()
    _wait(marker.exists, 90, "the worker to start the task")


def _stop(process: subprocess.Popen, sig: int) -> float:
    """Send `sig` to the process group (as a terminal's Ctrl-C or Heroku's dyno stop does); seconds until exit."""
    start = time.monotonic()
    os.killpg(process.pid, sig)
    try:
        process.wait(LIMIT_S + 20)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    return time.monotonic() - start


def test_procfile_worker_stops_within_10_s_of_sigterm_with_a_task_running(env, tmp_path):
    line = next(l for l in (ROOT / "Procfile").read_text().splitlines() if l.startswith("worker:"))
    command = line.removeprefix("worker:").replace("app.worker:celery_app", "tests.app.nap_worker:celery_app")
    command = command.replace("/tmp/celerybeat-schedule", shlex.quote(str(tmp_path / "beat")))
    process = subprocess.Popen(["bash", "-c", command], cwd=ROOT, env=env, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _nap_running(env, tmp_path)
    finally:
        took = _stop(process, signal.SIGTERM)
    assert took < LIMIT_S, f"the worker took {took:.1f} s to stop"


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_make_run_serves_on_port_and_stops_within_10_s(env, tmp_path, sig):
    port = free_port()
    process = subprocess.Popen(["make", "--no-print-directory", "run", f"PORT={port}",
                                f"WORKER_APP=tests.app.nap_worker:celery_app"],
                               cwd=ROOT, env=env, start_new_session=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait(lambda: _answers(port), 90, f"the web app on port {port}")
        _nap_running(env, tmp_path)
    finally:
        took = _stop(process, sig)
    assert took < LIMIT_S, f"make run took {took:.1f} s to stop"
    assert not _answers(port)


def _answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False
