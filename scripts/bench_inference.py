"""Inference benchmark on the emotion7 model: Keras against the serving path, photo latency, API throughput, RSS.

In one run:
  1. keras model.predict on one face crop against the serving path (LiteRT) on the same crop: the ratio;
  2. a 640×480 JPEG with one face → labels (decode, EXIF orientation, face search, one batched inference): p50, p95,
     for two photos: a portrait pasted on a plain backdrop, and a headshot photo whose uniform and flag give the
     face search far more to reject (the cost of a Haar search grows with the texture around the face);
  3. five portraits on the plain backdrop;
  4. POST /api/v1/predictions to gunicorn (the Procfile's command) on loopback from 8 concurrent clients, each on
     a kept-alive connection as HTTP/1.1 clients do: images/s over three rounds per one-face photo, their median
     against the target;
  5. the web worker's resident memory after those requests.
Targets: serving >= 25x faster than model.predict, one-face p50 <= 15 ms, API >= 100 images/s on 2 cores,
worker RSS <= 150 MB.

Uses ml/artifacts/emotion7 (or --artifact). Without one it trains a throwaway emotion7 artifact with the same
architecture for one epoch on synthetic crops and says so: the timings hold, the labels mean nothing.

  .venv/bin/python scripts/bench_inference.py [--repeats 200] [--requests 400] [--rounds 3] [--artifact DIR]
"""
from __future__ import annotations

import argparse
import base64
import contextlib
import http.client
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: import the app's helpers from the repository

from scripts.bench_server import bench_env, cpu_seconds, flask, rss_mb, start_gunicorn, worker_pids  # noqa: E402
from scripts.live_video import frames, headshot, jpeg  # noqa: E402

CLIENTS = 8
PASSWORD = "bench password"
_client = threading.local()  # each client thread's connection to the server


def parse_args() -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=200, help="timed runs per in-process measurement")
    parser.add_argument("--requests", type=int, default=400, help="API requests per throughput round")
    parser.add_argument("--rounds", type=int, default=3, help="throughput rounds (the median meets the target)")
    parser.add_argument("--artifact", default=str(ROOT / "ml" / "artifacts" / "emotion7"))
    return parser.parse_args()


def throwaway_artifact(work: Path) -> Path:
    """An emotion7 artifact of the shipped architecture, trained one epoch on synthetic crops."""
    from ml.data import Dataset  # noqa: PLC0415 - imports TensorFlow
    from ml.recognizers import get
    from ml.train import TrainConfig, train

    recognizer = get("emotion7")
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(len(recognizer.classes)), 8)
    images = rng.integers(0, 256, (len(labels), *recognizer.input_shape), dtype=np.uint8)
    data = Dataset(images, labels, recognizer.classes, [f"synthetic/{i}" for i in range(len(labels))],
                   "synthetic", "train")
    out = work / "models" / "emotion7"
    with contextlib.redirect_stdout(io.StringIO()):  # the export lists every tensor; the report stays readable
        train(recognizer, data, out, TrainConfig(arch="cnn", epochs=1, batch_size=16, patience=1))
    return out


def timed(call, repeats: int) -> np.ndarray:
    """Milliseconds per call, after three untimed warm-up calls."""
    for _ in range(3):
        call()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return np.array(times)


def keras_against_serving(artifact: Path, crop: np.ndarray, repeats: int) -> tuple[float, float]:
    """Median ms of keras model.predict and of the LiteRT classifier on the same one-crop batch."""
    from ml import artifact as artifacts  # noqa: PLC0415
    from ml.serving import Classifier

    model = artifacts.load_keras(artifact)
    classifier = Classifier(artifact)
    batch = crop[None]
    keras_ms = timed(lambda: model.predict(batch.astype(np.float32), verbose=0), max(20, repeats // 5))
    lite_ms = timed(lambda: classifier.probabilities(batch), repeats)
    return float(np.median(keras_ms)), float(np.median(lite_ms))


def photo_latency(artifact: Path, photo: bytes, repeats: int) -> tuple[np.ndarray, int]:
    """Milliseconds from JPEG bytes to labels on the serving path, and the faces found."""
    from app import imaging  # noqa: PLC0415
    from ml import serving
    from ml.faces import default_detector

    classifier, detector = serving.Classifier(artifact), default_detector()

    def labels():
        image, _ = imaging.decode(photo, 40_000_000)
        return serving.classify(classifier, image, detector)

    return timed(labels, repeats), len(labels())


def start_server(work: Path, models_dir: Path) -> tuple[subprocess.Popen, int, dict]:
    """The Procfile's web command on a free loopback port, a throwaway database and a user's bearer token."""
    env = bench_env(work, models_dir, DATABASE_URL=f"sqlite:///{work / 'bench.sqlite'}", REDIS_URL="",
                    # One client makes every request here: the per-address upload limit would measure itself.
                    RATE_LIMIT_UPLOAD="100000 per minute")
    flask(env, "db", "upgrade")
    flask(env, "users", "create", "bench@example.com", PASSWORD)
    server, base = start_gunicorn(work, env, workers=2, ready_path="/login")
    basic = base64.b64encode(f"bench@example.com:{PASSWORD}".encode()).decode()
    request = urllib.request.Request(f"{base}/api/v1/tokens", method="POST", headers={"Authorization": f"Basic {basic}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        token = json.load(response)["token"]
    return server, int(base.rsplit(":", 1)[1]), {"Authorization": f"Bearer {token}"}


def post_photo(port: int, headers: dict, photo: bytes) -> int:
    """POST one photo to the API as multipart on this thread's kept-alive connection; the status code."""
    boundary = uuid.uuid4().hex  # a new one each time, as browsers and HTTP libraries send
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"recognizers\"\r\n\r\nemotion7\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.jpg\"\r\n"
            f"Content-Type: image/jpeg\r\n\r\n").encode() + photo + f"\r\n--{boundary}--\r\n".encode()
    headers = {**headers, "Content-Type": f"multipart/form-data; boundary={boundary}"}
    try:
        return _send(port, body, headers)
    except (http.client.HTTPException, OSError):  # the server closed the idle connection: once more, on a new one
        _client.connection.close()
        _client.port = None
        return _send(port, body, headers)


def _send(port: int, body: bytes, headers: dict) -> int:
    if getattr(_client, "port", None) != port:
        _client.connection, _client.port = http.client.HTTPConnection("127.0.0.1", port, timeout=60), port
    _client.connection.request("POST", "/api/v1/predictions", body, headers)
    response = _client.connection.getresponse()
    response.read()
    return response.status


def post_many(pool: ThreadPoolExecutor, count: int, port: int, headers: dict, photo: bytes) -> list[int]:
    """POST the photo `count` times from the pool's client threads; the status codes."""
    return list(pool.map(lambda _: post_photo(port, headers, photo), range(count)))


def cpu_steal() -> int:
    """Clock ticks the hypervisor gave this machine's CPUs to other guests so far (/proc/stat)."""
    return int(Path("/proc/stat").read_text().split("\n", 1)[0].split()[8])


def api_throughput(models_dir: Path, photos: dict[str, bytes], requests: int, rounds: int) -> tuple[dict, list]:
    """For each photo: images/s of each round from 8 concurrent clients, the status codes, the workers' CPU ms per
    image, each worker's share of it and the share of CPU time stolen by other guests of the host meanwhile;
    then the workers' RSS."""
    with tempfile.TemporaryDirectory(prefix="bench-inference-") as work:
        server, port, headers = start_server(Path(work), models_dir)
        try:
            workers = worker_pids(server)
            results = {}
            with ThreadPoolExecutor(CLIENTS) as pool:
                for name, photo in photos.items():
                    post_many(pool, 4 * CLIENTS, port, headers, photo)  # warm up
                    cpu_before = list(map(cpu_seconds, workers))
                    steal_before, started = cpu_steal(), time.perf_counter()
                    rates, codes = [], []
                    for _ in range(rounds):
                        round_started = time.perf_counter()
                        codes += post_many(pool, requests, port, headers, photo)
                        rates.append(requests / (time.perf_counter() - round_started))
                    ticks = (time.perf_counter() - started) * os.sysconf("SC_CLK_TCK") * len(os.sched_getaffinity(0))
                    # Kept-alive connections stay with the worker that accepted them, so the split can be uneven.
                    used = [cpu_seconds(pid) - before for pid, before in zip(workers, cpu_before)]
                    results[name] = {"rates": rates, "codes": codes, "cpu_ms": sum(used) / len(codes) * 1000,
                                     "shares": [u / sum(used) for u in used],
                                     "steal": (cpu_steal() - steal_before) / ticks}
            return results, [rss_mb(pid) for pid in workers]
        finally:
            server.terminate()
            server.wait(timeout=30)


def verdict(ok: bool) -> str:
    """How a number compares with its target."""
    return "ok" if ok else "MISSED"


def main() -> None:
    """Run every measurement and print one report."""
    args = parse_args()
    from ml.preprocess import prepare  # noqa: PLC0415
    from ml.recognizers import get

    with tempfile.TemporaryDirectory(prefix="bench-artifact-") as scratch:
        artifact = Path(args.artifact)
        source = f"{artifact} (trained model)"
        if not (artifact / "model.tflite").is_file():
            artifact = throwaway_artifact(Path(scratch))
            source = (f"NO TRAINED emotion7 AT {args.artifact}: a throwaway artifact of the same architecture "
                      "(cnn), one epoch on synthetic crops; timings hold, labels are meaningless")
        models_dir = Path(scratch) / "served"
        shutil.copytree(artifact, models_dir / "emotion7")
        one_face = {"portrait on a plain backdrop": jpeg(next(frames(1, faces=1)), quality=90),
                    "headshot photo (uniform, flag)": jpeg(headshot(), quality=90)}
        five = jpeg(next(frames(1, faces=5)), quality=90)
        crop = prepare(np.zeros((48, 48), np.uint8) + 128, get("emotion7"))
        keras_ms, lite_ms = keras_against_serving(artifact, crop, args.repeats)
        latencies = {**{name: photo_latency(artifact, photo, args.repeats) for name, photo in one_face.items()},
                     "five portraits on a plain backdrop": photo_latency(artifact, five, args.repeats)}
        api, rss = api_throughput(models_dir, one_face, args.requests, args.rounds)

    cores = len(os.sched_getaffinity(0))
    print(f"inference bench: emotion7 from {source}")
    print(f"{cores} cores, load average {os.getloadavg()[0]:.2f} (shared machine: other work competes)")
    ratio = keras_ms / lite_ms
    print(f"keras model.predict, 1 crop   {keras_ms:8.2f} ms median")
    print(f"serving (LiteRT), same crop   {lite_ms:8.3f} ms median")
    print(f"ratio                         {ratio:8.1f}x    (target >= 25x)  {verdict(ratio >= 25)}")
    print("640x480 JPEG → labels")
    for name, (times, found) in latencies.items():
        p50, p95 = np.percentile(times, [50, 95])
        target = f"(target p50 <= 15 ms)  {verdict(p50 <= 15)}" if name in one_face else ""
        print(f"  {name:<36} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  faces found {found}  {target}")
    print(f"API, {CLIENTS} clients, {args.rounds} rounds of {args.requests} one-face photos "
          f"(100 images/s on {cores} cores needs <= {cores * 10} ms of CPU per image)")
    for name, result in api.items():
        errors = sum(code != 201 for code in result["codes"])
        rate = float(np.median(result["rates"]))
        print(f"  {name:<36} {', '.join(f'{r:.1f}' for r in result['rates'])} images/s, median {rate:.1f}, "
              f"{errors} errors (target >= 100/s)  {verdict(rate >= 100 and errors == 0)}")
        print(f"  {'':<36} web workers' CPU per image {result['cpu_ms']:.1f} ms "
              f"({' / '.join(f'{share:.0%}' for share in result['shares'])} by worker); "
              f"CPU stolen by other guests of the host meanwhile {result['steal']:.1%}")
    threads = os.environ.get("WEB_THREADS", "16")  # what start_gunicorn gives the server
    print(f"web worker RSS after warm requests: {', '.join(f'{mb:.0f} MB' for mb in rss)} "
          f"(gunicorn --workers 2 --threads {threads}, as in the Procfile; target <= 150 MB)  "
          f"{verdict(max(rss) <= 150)}")


if __name__ == "__main__":
    main()
