"""Live-mode benchmark: a generated 640×480 video with five faces (or, with --recognizer digits, a house number),
replayed through the live socket of gunicorn.

The server is the Procfile's (gunicorn, threaded worker) on a free loopback port, with a throwaway database
and storage. Frames go one at a time, as the live page sends them: with --fps 0 the next frame leaves as soon
as the last one is answered (the most a stream can do); with --fps N a camera makes N frames a second and the
frames that come while one is in flight are skipped. Targets: >= 10 frames/s, p95 <= 100 ms per frame. For
digits it also counts the frames that read the number right, and --second-look runs the server with the
number reader's second look (LIVE_SECOND_LOOK=1) to measure what it costs.

  .venv/bin/python scripts/bench_live.py [--frames 300] [--fps 0] [--models-dir DIR] [--recognizer emotion7]
  .venv/bin/python scripts/bench_live.py --recognizer digits [--font-size 40] [--second-look]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: import the app's helpers from the repository

from scripts.bench_server import bench_env, cpu_seconds, flask, start_gunicorn, worker_pids  # noqa: E402
from scripts.live_video import frames, jpeg, number_frames, plate  # noqa: E402

TARGET_FPS, TARGET_P95_MS = 10.0, 100.0
NUMBER = "126"


def parse_args() -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=300, help="frames measured (after --warmup)")
    parser.add_argument("--warmup", type=int, default=10, help="frames sent first and not measured")
    parser.add_argument("--fps", type=float, default=0, help="camera frame rate; 0: send as fast as answered")
    parser.add_argument("--faces", type=int, default=5, choices=range(1, 6))
    parser.add_argument("--recognizer", default="emotion7")
    parser.add_argument("--font-size", type=int, default=40,
                        help="digits: the number's font size in px (its digits stand about 0.7 of it)")
    parser.add_argument("--second-look", action="store_true", help="digits: read with the reader's second look")
    parser.add_argument("--models-dir", default=os.environ.get("MODELS_DIR", str(ROOT / "ml" / "artifacts")),
                        help="baseline artifacts the throwaway registry starts from")
    return parser.parse_args()


def start_server(work: Path, models_dir: str, second_look: bool) -> tuple[subprocess.Popen, int]:
    """gunicorn (one threaded worker) on a migrated throwaway database; returns once it answers."""
    env = bench_env(work, models_dir, DATABASE_URL=f"sqlite:///{work / 'bench.sqlite'}",
                    LIVE_SECOND_LOOK="1" if second_look else "0")
    flask(env, "db", "upgrade")
    server, base = start_gunicorn(work, env, workers=1, ready_path="/live/")
    return server, int(base.rsplit(":", 1)[1])


def replay(port: int, args: argparse.Namespace, video: list[bytes], worker: int) -> dict:
    """Send the video over one socket and time every answered frame."""
    from simple_websocket import Client  # noqa: PLC0415

    ws = Client.connect(f"ws://127.0.0.1:{port}/live/ws?recognizer={args.recognizer}")
    ready = json.loads(ws.receive(timeout=60))
    if ready["type"] != "ready":
        sys.exit(f"the server refused the stream: {ready['message']}")

    def ask(frame: bytes) -> tuple[dict, float]:
        started = time.perf_counter()
        ws.send(frame)
        reply = json.loads(ws.receive(timeout=60))
        if reply["type"] != "result":
            sys.exit(f"frame refused: {reply}")
        return reply, (time.perf_counter() - started) * 1000

    for frame in video[:args.warmup]:
        ask(frame)  # loads the model and the face detector, fills caches
    measured = video[args.warmup:]
    latencies, server_ms, faces, numbers, skipped = [], [], [], [], 0
    cpu_before = cpu_seconds(worker)
    started = time.perf_counter()
    index = 0
    while index < len(measured):
        reply, latency = ask(measured[index])
        latencies.append(latency)
        server_ms.append(reply["ms"])
        faces.append(len(reply.get("faces", reply.get("digits"))))
        numbers.append((reply.get("number"), reply.get("steady", {}).get("number")))
        following = index + 1
        if args.fps:
            shown = int((time.perf_counter() - started) * args.fps)  # the frame the camera shows now
            if shown < following:  # answered before the camera made the next frame: wait for it
                time.sleep(started + following / args.fps - time.perf_counter())
            else:  # the camera kept going: the frames made while this one was in flight are skipped
                skipped += shown - following
                following = shown
        index = following
    elapsed = time.perf_counter() - started
    cpu = cpu_seconds(worker) - cpu_before
    ws.close()
    return {"version": ready["model_version"], "elapsed": elapsed, "cpu": cpu, "latencies": np.array(latencies),
            "server_ms": np.array(server_ms), "faces": np.array(faces), "numbers": numbers, "skipped": skipped}


def report(args: argparse.Namespace, run: dict, load_before: float) -> None:
    """Print the numbers and how they compare with the targets."""
    lat, srv, faces = run["latencies"], run["server_ms"], run["faces"]
    fps = len(lat) / run["elapsed"]
    p50, p95 = np.percentile(lat, [50, 95])
    cores = len(os.sched_getaffinity(0))
    print(f"live bench: {args.recognizer} model {run['version']}, {cores} cores, "
          f"load average {load_before:.2f} before and {os.getloadavg()[0]:.2f} after")
    mode = f"camera at {args.fps:g} frames/s, frames skipped while one is in flight" if args.fps else \
        "next frame as soon as the last is answered"
    digits = args.recognizer == "digits"
    shown = (f"the number {NUMBER} in a {args.font_size} px font, "
             f"{'with' if args.second_look else 'without'} the second look" if digits else f"{args.faces} faces")
    print(f"video: 640x480, {shown}, {len(lat)} frames measured after {args.warmup} warm-up; {mode}")
    print(f"frames/s            {fps:7.1f}   (target >= {TARGET_FPS:g})  {'ok' if fps >= TARGET_FPS else 'MISSED'}")
    print(f"latency p50 ms      {p50:7.1f}")
    print(f"latency p95 ms      {p95:7.1f}   (target <= {TARGET_P95_MS:g})  {'ok' if p95 <= TARGET_P95_MS else 'MISSED'}")
    print(f"latency max ms      {lat.max():7.1f}")
    print(f"server classify ms  {np.percentile(srv, 50):7.1f} p50  {np.percentile(srv, 95):7.1f} p95"
          f"   (decode excluded: {'digit detector, crops' if digits else 'faces, crops'}, one batched inference)")
    print(f"{'digits per frame' if digits else 'faces per frame':<20}{faces.mean():7.2f} mean, {faces.min()} min")
    if digits:
        read = np.mean([number == NUMBER for number, _ in run["numbers"]])
        steady = np.mean([number == NUMBER for _, number in run["numbers"]])
        print(f"number read right   {100 * read:6.1f}%  of frames; shown right (steady) {100 * steady:.1f}%")
    print(f"server CPU ms/frame {1000 * run['cpu'] / len(lat):7.1f}   (the gunicorn worker, all its threads; "
          f"{100 * run['cpu'] / run['elapsed']:.0f}% of one core)")
    if args.fps:
        print(f"camera frames skipped {run['skipped']}")


def main() -> None:
    """Start the server, replay the video, report."""
    args = parse_args()
    if not (Path(args.models_dir) / args.recognizer / "model.tflite").is_file():
        sys.exit(f"{args.models_dir}/{args.recognizer}/model.tflite is missing; pass --models-dir with a trained "
                 f"{args.recognizer} artifact (scripts/train_baselines.sh makes them)")
    count = args.warmup + args.frames
    video = [jpeg(f) for f in (number_frames(count, plate(NUMBER, args.font_size)) if args.recognizer == "digits"
                               else frames(count, faces=args.faces))]
    with tempfile.TemporaryDirectory(prefix="bench-live-") as work:
        server, port = start_server(Path(work), args.models_dir, args.second_look)
        try:
            load_before = os.getloadavg()[0]
            run = replay(port, args, video, worker_pids(server)[0])
        finally:
            server.terminate()
            server.wait(timeout=30)
    report(args, run, load_before)


if __name__ == "__main__":
    main()
