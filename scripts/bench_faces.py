"""Face-detection benchmark: which YuNet detect side and score threshold find the most faces for the least CPU.

Two kinds of photos: 640×480 street photos from the SVHN test photos with 1 to 5 FER-2013 test faces pasted in at
known places and sizes (70–260 px), and the real annotated photos of faces_real (WIDER FACE sample, PASCAL group
photos) scored as `python -m ml evaluate faces` scores them. Each setting runs ml.faces.FaceDetector on one thread
and reports recall (scenes: a box overlapping a pasted face by IoU > 0.3; real photos: faces at least 40 px high
at IoU >= 0.5), false alarms per photo and CPU per photo, and its CPU on a real headshot photo. The shipped
setting is marked.

  .venv/bin/python scripts/bench_faces.py [--scenes 300] [--skip 0] [--data ../shared/datasets]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: import ml from the repository

from ml import faces  # noqa: E402
from ml.face_eval import evaluate_faces  # noqa: E402
from scripts.live_video import headshot  # noqa: E402

SIZE = (640, 480)
FACES_PER_SCENE = (1, 1, 1, 2, 3, 5)  # mostly portraits, some groups
SETTINGS = [(side, threshold) for side in (416, 512, 576, 640, 800) for threshold in (0.7, 0.75, 0.8, 0.9)]


def parse_args() -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenes", type=int, default=300)
    parser.add_argument("--skip", type=int, default=0, help="leave out the first scenes: the settings were chosen on "
                                                                "the first 300, --scenes 600 --skip 300 checks others")
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "datasets"))
    return parser.parse_args()


def scenes(data: Path, count: int, seed: int = 0) -> list[tuple[Image.Image, list[tuple[int, int, int]]]]:
    """Street photos with FER-2013 test faces pasted in; each with its faces' (x, y, size)."""
    rng = np.random.default_rng(seed)
    photos = sorted((data / "svhn" / "photos" / "test").glob("*.png"))
    face_files = sorted((data / "fer2013" / "test").glob("*/*"))
    if not photos or not face_files:
        sys.exit(f"{data}: needs svhn/photos/test/*.png and fer2013/test/<class>/*")
    made = []
    for n in range(count):
        scene = Image.open(photos[rng.integers(len(photos))]).convert("L").resize(SIZE, Image.BILINEAR)
        boxes: list[tuple[int, int, int]] = []
        for _ in range(FACES_PER_SCENE[n % len(FACES_PER_SCENE)]):
            size = int(rng.integers(70, 260 if not boxes else 150))
            for _ in range(100):  # a free place, not overlapping the faces already pasted
                x, y = int(rng.integers(0, SIZE[0] - size)), int(rng.integers(0, SIZE[1] - size))
                if all(x + size < bx or bx + bs < x or y + size < by or by + bs < y for bx, by, bs in boxes):
                    break
            else:
                continue
            face = Image.open(face_files[rng.integers(len(face_files))]).convert("L")
            scene.paste(face.resize((size, size), Image.BILINEAR), (x, y))
            boxes.append((x, y, size))
        made.append((scene.convert("RGB"), boxes))
    return made


def measure(detector: faces.FaceDetector, made) -> tuple[float, float, float]:
    """Recall, false alarms per photo and CPU ms per photo of one detector over the scenes."""
    found_faces = false_alarms = total = 0
    cpu = 0.0
    for scene, boxes in made:
        started = time.process_time()
        found = [face.box for face in detector.find(scene)]
        cpu += time.process_time() - started
        matched = set()
        for x, y, size in boxes:
            total += 1
            truth = (x, y, size, size)
            best = max(range(len(found)), key=lambda j: faces.iou(truth, found[j]), default=None)
            if best is not None and best not in matched and faces.iou(truth, found[best]) > 0.3:
                found_faces += 1
                matched.add(best)
        false_alarms += len(found) - len(matched)
    return found_faces / max(total, 1), false_alarms / len(made), cpu / len(made) * 1000


def main() -> None:
    """Print one line per setting."""
    args = parse_args()
    faces.opencv().setNumThreads(1)  # CPU per photo on one core, as each web request gets
    made = scenes(Path(args.data), args.scenes)[args.skip:]
    real = Path(args.data) / "faces_real"
    print(f"face bench: {len(made)} street photos 640x480 with {sum(len(b) for _, b in made)} FER-2013 test faces; "
          f"real photos from {real}")
    photo = headshot()
    print(f"{'side':>4} {'score':>5} | {'recall':>6} {'false':>6} {'CPU ms':>6} | {'real >=40px':>11} {'false':>6} "
          f"{'ms p50':>6} | {'headshot':>8}")
    for side, threshold in SETTINGS:
        detector = faces.FaceDetector(side, threshold)
        recall, false_alarms, cpu = measure(detector, made)
        real_report = evaluate_faces(real, detector)
        _, _, on_headshot = measure(detector, [(photo, [])] * 20)
        shipped = (side, threshold) == (faces.DETECT_SIDE, faces.SCORE_THRESHOLD)
        print(f"{side:>4} {threshold:>5} | {recall:>6.3f} {false_alarms:>6.3f} {cpu:>6.2f} | "
              f"{real_report['recall_40px_iou0.5']:>11.3f} {real_report['false_alarms_per_photo']:>6.3f} "
              f"{real_report['ms_per_photo_p50']:>6.2f} | {on_headshot:>8.2f}{'  <- shipped' if shipped else ''}")


if __name__ == "__main__":
    main()
