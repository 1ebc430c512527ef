"""Load test: mixed requests (upload, feedback, history, dashboard) from 8 clients against gunicorn on loopback.

The server is the Procfile's web command on a free loopback port. It uses PostgreSQL and Redis when
DATABASE_URL and REDIS_URL are set (the rows it makes are left there, under a fresh bench user), else a
throwaway SQLite file; stored images go to a throwaway folder. Each client signs in through the login form
(CSRF token included) as an admin, then sends its share of the requests in a shuffled mix:
  upload    POST /api/v1/predictions (one-face 640×480 JPEG, or a digit picture when emotion7 is not trained)
  feedback  POST /api/v1/predictions/<id>/feedback on one of its own earlier uploads
  history   GET /history
  dashboard GET /models/<recognizer>
Target: 0 errors. Reports p50/p95 per kind and overall, and the page requests that were sent again, as browsers
do, because their kept-alive connection had just been closed by the server.

With --sockets N the mix runs twice: as above, then again with N live-mode sockets held open (each sends a small
frame every 20 s, as a camera left running slowly would), so the two reports show whether sockets take page
capacity away. The server then runs WEB_THREADS threads per worker so that N sockets fit within the live bounds.

  .venv/bin/python scripts/bench_load.py [--requests 1000] [--clients 8] [--sockets 50] [--models-dir DIR]
"""
from __future__ import annotations

import argparse
import base64
import io
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import requests
from PIL import Image
from requests.adapters import HTTPAdapter
from simple_websocket import Client as SocketClient
from urllib3.util import Retry

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: import the app's helpers from the repository

from scripts.bench_server import bench_env, flask, start_gunicorn  # noqa: E402
from scripts.live_video import frames, jpeg  # noqa: E402

KINDS = ("upload", "feedback", "history", "dashboard")
PASSWORD = "bench password"


def parse_args() -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--sockets", type=int, default=0, help="run the mix again with this many live sockets open")
    parser.add_argument("--models-dir", default=os.environ.get("MODELS_DIR", str(ROOT / "ml" / "artifacts")))
    return parser.parse_args()


def server_env(work: Path, models_dir: str, sockets: int = 0) -> dict:
    """The server's environment: the caller's DATABASE_URL and REDIS_URL when set, throwaway paths otherwise."""
    # Every client is 127.0.0.1: per-address limits would throttle the load test itself, and with Redis the
    # counts outlive the server, so a second run within the hour would find its sign-ins refused.
    live = {}
    if sockets:  # two workers share the sockets unevenly: room for 2/3 of them in each, 4 threads kept for pages
        live = {"WEB_THREADS": str(max(16, sockets * 2 // 3 + 4)), "LIVE_MAX_ANONYMOUS_SOCKETS": str(sockets),
                "LIVE_MAX_SOCKETS_PER_CLIENT": str(sockets)}
    env = bench_env(work, models_dir, RATE_LIMIT_UPLOAD="100000 per minute", RATE_LIMIT_LOGIN="1000 per minute",
                    RATE_LIMIT_TOKEN="1000 per minute", RATE_LIMIT_ACCOUNT="1000 per minute", **live)
    env.setdefault("DATABASE_URL", f"sqlite:///{work / 'bench.sqlite'}")
    return env


def start_server(work: Path, env: dict, email: str) -> tuple[subprocess.Popen, str]:
    """Migrate, create the admin bench user, start gunicorn; the base URL once it answers."""
    flask(env, "db", "upgrade")
    flask(env, "users", "create", email, PASSWORD, "--admin")
    return start_gunicorn(work, env, workers=2, ready_path="/login")


class Client:
    """One simulated user: a signed-in browser session plus an API token, and the predictions it made."""

    def __init__(self, base: str, email: str, recognizer: str, photo: bytes, label: str):
        self.base, self.recognizer, self.photo, self.label = base, recognizer, photo, label
        self.web = requests.Session()
        # As a browser does, a page request that meets a kept-alive connection the server has just closed (gunicorn
        # closes idle ones after 2 s; sent in that instant, the request is reset) goes again on a new connection,
        # once. The report counts these and says what the first try met, so a server fault cannot hide here.
        self.web.mount("http://", HTTPAdapter(max_retries=Retry(total=None, connect=1, read=1, status=0, other=0,
                                                                allowed_methods={"GET"})))
        page = self.web.get(f"{base}/login", timeout=30).text
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        signed_in = self.web.post(f"{base}/login", data={"csrf_token": token, "email": email, "password": PASSWORD},
                                  allow_redirects=False, timeout=30)
        if signed_in.status_code != 302:
            sys.exit(f"login failed with {signed_in.status_code}")
        basic = base64.b64encode(f"{email}:{PASSWORD}".encode()).decode()
        bearer = requests.post(f"{base}/api/v1/tokens", headers={"Authorization": f"Basic {basic}"}, timeout=30)
        self.api = {"Authorization": f"Bearer {bearer.json()['token']}"}
        self.predictions: list[int] = []

    def send(self, kind: str) -> tuple[str, int, float, str, str]:
        """One request of `kind`: (kind, status, ms, what an error answer said, what a retried first try met);
        status 0 when no answer came."""
        started = time.perf_counter()
        if kind == "feedback" and not self.predictions:
            kind = "upload"  # nothing to give feedback on yet
        retried = ""
        try:
            response = self._request(kind)
            status, said = response.status_code, "" if response.ok else response.text[:300]
            history = getattr(response.raw.retries, "history", ())
            retried = "; ".join(str(h.error) for h in history if h.error)
        except requests.RequestException as exc:
            status, said = 0, str(exc)
        return kind, status, (time.perf_counter() - started) * 1000, said, retried

    def _request(self, kind: str) -> requests.Response:
        if kind == "upload":
            response = requests.post(f"{self.base}/api/v1/predictions", headers=self.api, timeout=60,
                                     data={"recognizers": self.recognizer},
                                     files={"image": ("photo.jpg", self.photo, "image/jpeg")})
            if response.status_code == 201:
                self.predictions.append(response.json()["id"])
        elif kind == "feedback":
            response = requests.post(f"{self.base}/api/v1/predictions/{random.choice(self.predictions)}/feedback",
                                     headers=self.api, timeout=60,
                                     json={"recognizer": self.recognizer, "detection": 0, "label": self.label})
        elif kind == "history":
            response = self.web.get(f"{self.base}/history", timeout=60)
        else:
            response = self.web.get(f"{self.base}/models/{self.recognizer}", timeout=60)
        return response


def workload(models_dir: str) -> tuple[str, bytes, str]:
    """(recognizer, photo, a label to give): emotion7 on a one-face photo when trained, else digits."""
    if (Path(models_dir) / "emotion7" / "model.tflite").is_file():
        return "emotion7", jpeg(next(frames(1, faces=1)), quality=90), "happy"
    canvas = Image.new("RGB", (64, 64), (220, 220, 220))
    canvas.paste((20, 20, 20), (26, 12, 38, 52))  # a "1"
    out = io.BytesIO()
    canvas.save(out, "JPEG", quality=90)
    return "digits", out.getvalue(), "1"


def run(base: str, email: str, args: argparse.Namespace, models_dir: str) -> tuple[list, float, str]:
    """Sign every client in, then send the shuffled mix at the given concurrency; (results, seconds, recognizer)."""
    recognizer, photo, label = workload(models_dir)
    clients = [Client(base, email, recognizer, photo, label) for _ in range(args.clients)]
    mix = [KINDS[i % len(KINDS)] for i in range(args.requests)]
    random.Random(0).shuffle(mix)
    shares = [mix[i::args.clients] for i in range(args.clients)]

    def drive(i: int) -> list:
        return [clients[i].send(kind) for kind in shares[i]]

    started = time.perf_counter()
    with ThreadPoolExecutor(args.clients) as pool:
        results = [r for share in pool.map(drive, range(args.clients)) for r in share]
    return results, time.perf_counter() - started, recognizer


class Sockets:
    """Live sockets held open while the mix runs; each sends a small frame every 20 s so none is closed as idle."""

    def __init__(self, base: str, count: int):
        url = "ws" + base.removeprefix("http") + "/live/ws"
        self.open, self.refused = [], []
        for _ in range(count):
            client = SocketClient.connect(url)
            first = json.loads(client.receive(timeout=30))
            if first["type"] == "ready":
                self.open.append(client)
            else:
                self.refused.append(first["message"])
        self.frame = jpeg(next(frames(1, faces=1)), quality=70)
        self.stop = threading.Event()
        self.keeper = threading.Thread(target=self._keep_alive, daemon=True)
        self.keeper.start()

    def _keep_alive(self) -> None:
        while not self.stop.wait(20):
            for client in self.open:
                client.send(self.frame)
                client.receive(timeout=30)

    def close(self) -> None:
        """Stop sending and close every socket."""
        self.stop.set()
        self.keeper.join(timeout=60)
        for client in self.open:
            client.close()


def report(results: list, elapsed: float, env: dict, recognizer: str, args: argparse.Namespace,
           sockets: Sockets | None = None) -> None:
    """Errors and latency percentiles, per kind and overall."""
    database = env["DATABASE_URL"].split(":", 1)[0]
    broker = "Redis" if env.get("REDIS_URL") else "embedded (no Redis)"
    threads = env.get("WEB_THREADS", "16")
    print(f"load bench: {len(results)} requests, {args.clients} concurrent clients, gunicorn 2 workers x {threads} "
          f"threads, database {database}, broker/rate-limit store {broker}, recognizer {recognizer}")
    if sockets is not None:
        print(f"with live sockets open: {len(sockets.open)} of {len(sockets.open) + len(sockets.refused)} accepted"
              + (f"; refused: {Counter(sockets.refused).most_common(2)}" if sockets.refused else ""))
    print(f"{len(os.sched_getaffinity(0))} cores, load average {os.getloadavg()[0]:.2f}; "
          f"{len(results) / elapsed:.1f} requests/s over {elapsed:.1f} s")
    expected = {"upload": 201, "feedback": 200, "history": 200, "dashboard": 200}
    for kind in (*KINDS, "all"):
        rows = [r for r in results if kind in ("all", r[0])]
        if not rows:
            continue
        ms = np.array([r[2] for r in rows])
        errors = [r[1] for r in rows if r[1] != expected[r[0]]]
        p50, p95 = np.percentile(ms, [50, 95])
        codes = f" {sorted(set(errors))}" if errors else ""
        print(f"{kind:9s} n={len(rows):4d}  errors {len(errors):3d}{codes}  p50 {p50:7.1f} ms  p95 {p95:7.1f} ms")
    total = sum(r[1] != expected[r[0]] for r in results)
    print(f"errors {total} (target 0)  {'ok' if total == 0 else 'MISSED'}")
    for said, count in Counter(f"{r[0]} {r[1]}: {r[3]}" for r in results if r[1] != expected[r[0]]).items():
        print(f"  {count} x {said}")
    retried = Counter(f"{r[0]}: {r[4]}" for r in results if r[4])
    print(f"page requests sent again on a new connection after the first try met a closed one: {sum(retried.values())}")
    for met, count in retried.items():
        print(f"  {count} x {met}")


def main() -> None:
    """Start the server, run the mix, report."""
    args = parse_args()
    email = f"bench-{uuid.uuid4().hex[:8]}@example.com"
    with tempfile.TemporaryDirectory(prefix="bench-load-") as work:
        env = server_env(Path(work), args.models_dir, args.sockets)
        server, base = start_server(Path(work), env, email)
        sockets = None
        try:
            results, elapsed, recognizer = run(base, email, args, args.models_dir)
            if args.sockets:
                sockets = Sockets(base, args.sockets)
                with_sockets = run(base, email, args, args.models_dir)
                sockets.close()
        finally:
            server.terminate()
            server.wait(timeout=30)
        log = (Path(work) / "gunicorn.log").read_text(errors="replace").splitlines()
    report(results, elapsed, env, recognizer, args)
    if sockets is not None:
        print()
        report(*with_sockets[:2], env, recognizer, args, sockets)
    alarms = ("WORKER TIMEOUT", "CRITICAL", "ERROR", "Error", "WARNING")
    trouble = [line for line in log if any(word in line for word in alarms)]
    if trouble:
        print("server log, lines naming errors:", *trouble[-15:], sep="\n  ")


if __name__ == "__main__":
    main()
