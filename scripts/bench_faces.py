"""Face-detection benchmark: which OpenCV cascade and settings find the most faces for the least CPU.

Scenes are 640×480 street photos from the SVHN test photos with 1 to 5 FER-2013 test faces pasted in at known
places and sizes (70–260 px), so every face's box is known. Each configuration runs ml.faces.FaceDetector on
every scene on one thread and reports recall (a found box overlapping a pasted face by IoU > 0.3), false alarms
and CPU per photo, and its CPU on a real headshot photo (uniform and flag around the face), where texture makes
a search dearer than on most street scenes. The shipped setting is marked.

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
from scripts.live_video import headshot  # noqa: E402

SIZE = (640, 480)
FACES_PER_SCENE = (1, 1, 1, 2, 3, 5)  # mostly portraits, some groups
CONFIGS = [  # (cascade, checking cascade, max side, scale step, neighbours, the checker's neighbours)
    (faces.CASCADE, faces.CHECK_CASCADE, 320, 1.2, 1, 2),
    (faces.CASCADE, faces.CHECK_CASCADE, 320, 1.15, 1, 2),
    (faces.CASCADE, faces.CHECK_CASCADE, 320, 1.15, 2, 2),
    (faces.CASCADE, faces.CHECK_CASCADE, 320, 1.1, 4, 1),
    (faces.CASCADE, faces.CHECK_CASCADE, 320, 1.2, 2, 2),
    (faces.CASCADE, faces.CHECK_CASCADE, 288, 1.15, 1, 2),
    (faces.CASCADE, None, 320, 1.1, 4, 0),
    ("haarcascade_frontalface_default.xml", None, 320, 1.1, 5, 0),
    ("haarcascade_frontalface_alt2.xml", None, 320, 1.1, 5, 0),
    ("haarcascade_frontalface_alt2.xml", None, 320, 1.15, 4, 0),
]


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


def measure(detector: faces.FaceDetector, made) -> tuple[float, int, float]:
    """Recall, false alarms and CPU ms per photo of one detector over the scenes."""
    found_faces = false_alarms = total = 0
    cpu = 0.0
    for scene, boxes in made:
        started = time.process_time()
        found = detector.find(scene)
        cpu += time.process_time() - started
        matched = set()
        for x, y, size in boxes:
            total += 1
            pad = faces.MARGIN * size  # find() pads its boxes; pad the truth the same way
            truth = (x - pad, y - pad, size + 2 * pad, size + 2 * pad)
            best = max(range(len(found)), key=lambda j: faces.iou(truth, found[j]), default=None)
            if best is not None and best not in matched and faces.iou(truth, found[best]) > 0.3:
                found_faces += 1
                matched.add(best)
        false_alarms += len(found) - len(matched)
    return found_faces / max(total, 1), false_alarms, cpu / len(made) * 1000


def main() -> None:
    """Print one line per configuration."""
    args = parse_args()
    faces.opencv().setNumThreads(1)  # CPU per photo on one core, as each web request gets
    made = scenes(Path(args.data), args.scenes)[args.skip:]
    print(f"face bench: {len(made)} street photos 640x480 with {sum(len(b) for _, b in made)} FER-2013 test faces")
    photo = headshot()
    print(f"{'cascade':<29} {'side':>4} {'step':>5} {'nb':>3} {'check nb':>8} {'recall':>7} {'false':>6} {'CPU ms':>7} "
          f"{'headshot':>9}")
    shipped = (faces.CASCADE, faces.CHECK_CASCADE, faces.DETECT_MAX_SIDE, faces.SCALE_STEP, faces.NEIGHBOURS,
               faces.CHECK_NEIGHBOURS)
    for config in CONFIGS:
        cascade, check, side, step, neighbours, check_neighbours = config
        detector = faces.FaceDetector(side, scale_factor=step, min_neighbors=neighbours, cascade=cascade, check=check,
                                      check_neighbours=check_neighbours)
        recall, false_alarms, cpu = measure(detector, made)
        _, _, on_headshot = measure(detector, [(photo, [])] * 20)
        name = Path(cascade).stem.removeprefix("haarcascade_")
        name += f" + {Path(check).stem.rsplit('_', 1)[-1]}" if check else ""
        print(f"{name:<29} {side:>4} {step:>5} {neighbours:>3} {check_neighbours if check else '':>8} {recall:>7.3f} "
              f"{false_alarms:>6} {cpu:>7.2f} "
              f"{on_headshot:>9.2f}{'  <- shipped' if config == shipped else ''}")


if __name__ == "__main__":
    main()
