"""A throwaway VisionLoop server for the benchmarks: `flask` set-up commands, then gunicorn on loopback."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    """A loopback port nobody listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def bench_env(work: Path, models_dir: str | Path, **overrides: str) -> dict:
    """The server's environment: throwaway storage, model cache and retrain folders under `work`."""
    return {**os.environ, "STORAGE_DIR": str(work / "storage"), "MODEL_CACHE_DIR": str(work / "model-cache"),
            "RETRAIN_DIR": str(work / "retrain"), "MODELS_DIR": str(Path(models_dir).resolve()),
            "SECRET_KEY": "bench", "FLASK_APP": "wsgi", "TF_CPP_MIN_LOG_LEVEL": "3", **overrides}


def flask(env: dict, *command: str) -> None:
    """Run one `flask ...` command (migrate, create a user); exit with its error output when it fails."""
    done = subprocess.run([BIN / "flask", *command], cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"flask {' '.join(command)} failed:\n{done.stderr[-2000:]}")


def start_gunicorn(work: Path, env: dict, workers: int, ready_path: str) -> tuple[subprocess.Popen, str]:
    """The Procfile's web command on a free port; the base URL once `ready_path` answers."""
    base = f"http://127.0.0.1:{free_port()}"
    log = open(work / "gunicorn.log", "wb")  # noqa: SIM115 - open for the server's lifetime
    server = subprocess.Popen([BIN / "gunicorn", "wsgi:app", "--bind", base.removeprefix("http://"),
                               "--workers", str(workers), "--threads", env.get("WEB_THREADS", "16"),
                               "--timeout", "60", "--access-logfile", "-"],
                              cwd=ROOT, env=env, stdout=log, stderr=log)
    deadline = time.monotonic() + 90
    while True:
        try:
            # The first answer waits for the workers' imports, hence the long timeout.
            urllib.request.urlopen(base + ready_path, timeout=30).close()
            return server, base
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                sys.exit(f"gunicorn did not start:\n{(work / 'gunicorn.log').read_text()[-2000:]}")
            time.sleep(0.5)


def worker_pids(server: subprocess.Popen) -> list[int]:
    """The pids of gunicorn's worker processes."""
    return [int(pid) for pid in Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()]


def cpu_seconds(pid: int) -> float:
    """CPU time a process and its threads used so far (user + system), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    """Resident memory of a process, in MB."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmRSS")).split()[1]) / 1024
