"""`make run`: the web app (`flask run`) and a Celery worker with beat, stopped together within 10 s on Ctrl-C or SIGTERM."""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STOP_WAIT_S = 8.0  # after SIGTERM, then SIGKILL: everything is gone within 10 s


def commands(host: str, port: int, worker_app: str) -> list[list[str]]:
    """The worker (with beat) and the web server, run from this virtualenv's bin folder."""
    bin_dir = Path(sys.executable).parent
    worker = [str(bin_dir / "celery"), "-A", worker_app, "worker", "--beat",
              "--schedule", str(ROOT / "instance" / "celerybeat-schedule"), "--loglevel=info", "--concurrency=1"]
    return [worker, [str(bin_dir / "flask"), "run", "--host", host, "--port", str(port)]]


def stop(processes: list[subprocess.Popen]) -> None:
    """SIGTERM each process, then SIGKILL the process groups of those still running STOP_WAIT_S later."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + STOP_WAIT_S  # one wait for all: one after the other could take twice as long
    for process in processes:
        try:
            process.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # the group: the worker's pool and beat processes too
            process.wait()


def main(argv: list[str] | None = None) -> int:
    """Start both, wait for a signal or for either to exit, stop both; the exit status of the one that failed."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--worker-app", default="app.worker:celery_app", help="the Celery app to run")
    args = parser.parse_args(argv)
    # SIGTERM means a cold shutdown (running tasks get worker_soft_shutdown_timeout, then are cancelled), not a
    # warm one that waits for a retraining run to finish; a cancelled run is failed by the stale-run check.
    env = {**os.environ, "REMAP_SIGTERM": "SIGQUIT", "FLASK_APP": os.environ.get("FLASK_APP", "wsgi")}
    stopping = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.set())
    # Own process groups: a terminal's Ctrl-C reaches only this process, which stops the others in order.
    processes = [subprocess.Popen(cmd, cwd=ROOT, env=env, process_group=0)
                 for cmd in commands(args.host, args.port, args.worker_app)]
    while not stopping.wait(0.2) and all(p.poll() is None for p in processes):
        pass
    stop(processes)
    failed = [p.returncode for p in processes if p.returncode not in (0, -signal.SIGTERM)]
    return 0 if stopping.is_set() or not failed else failed[0]


if __name__ == "__main__":
    sys.exit(main())
