"""SVHN format 1: full photos with per-digit boxes (`digitStruct.mat` or a CSV), cut into 32×32 crops."""
from __future__ import annotations

import csv
import logging
from pathlib import Path

import numpy as np
from PIL import Image

from ml.data import DataFormatError, Sample
from ml.data.svhn import digit_names, split_from_name
from ml.preprocess import ImageError, open_image

log = logging.getLogger(__name__)

CROP_SIDE = 32
BOX_COLUMNS = ("image", "label", "left", "top", "width", "height")
DIGITSTRUCT_EXPECTED = "a digitStruct group with name and bbox (height, label, left, top, width) references"


def is_box_header(columns: list[str]) -> bool:
    """Whether a CSV header has the per-digit box columns (split, box_index, status are optional)."""
    return set(BOX_COLUMNS) <= set(columns)


def crop_digit(photo: Image.Image | np.ndarray, left: int, top: int, width: int, height: int) -> Image.Image:
    """Cut one digit the SVHN format 2 way: square box on the digit's centre, edge padded, resized to 32×32. Pass
    the photo's RGB array when cutting several digits of one photo, so it is converted once."""
    side = max(width, height)
    # Python's round, like the crops in ../shared/datasets/svhn, which this matches pixel for pixel.
    x0, y0 = round(left + (width - side) / 2), round(top + (height - side) / 2)
    pixels = photo if isinstance(photo, np.ndarray) else np.asarray(photo.convert("RGB"))
    # Clipping the indices repeats the border pixels: edge padding without padding the whole photo.
    rows = np.clip(np.arange(y0, y0 + side), 0, pixels.shape[0] - 1)
    cols = np.clip(np.arange(x0, x0 + side), 0, pixels.shape[1] - 1)
    square = Image.fromarray(np.ascontiguousarray(pixels[np.ix_(rows, cols)]))
    return square.resize((CROP_SIDE, CROP_SIDE), Image.BILINEAR)


def _find_photo(folder: Path, name: str, split: str) -> Path | None:
    """The photo beside the box list: <dir>/<name>, <dir>/<split>/<name> or <dir>/photos/[<split>/]<name>."""
    for candidate in (folder / name, folder / split / name, folder / "photos" / split / name, folder / "photos" / name):
        if candidate.is_file():
            return candidate
    return None


def _crops(source: Path, boxes: list[dict]) -> list[Sample]:
    """Crop every box (dicts of image, split, index, label, left, top, width, height) from its photo."""
    labels = digit_names(np.array([box["label"] for box in boxes], dtype=np.float64), str(source))
    found, missing, photos = [], set(), {}
    for box, label in zip(boxes, labels):
        if box["width"] <= 0 or box["height"] <= 0:
            raise DataFormatError(f"{source}: box {box['index']} of {box['image']} has no area")
        path = _find_photo(source.parent, box["image"], box["split"])
        if path is None:
            missing.add(box["image"])
            continue
        if path not in photos:
            try:
                # Boxes of one photo come together: keep one open, as an RGB array.
                photos = {path: np.asarray(open_image(path).convert("RGB"))}
            except ImageError as exc:
                raise DataFormatError(f"{path}: expected a photo for the boxes in {source} ({exc})") from None
        crop = crop_digit(photos[path], *(int(round(box[k])) for k in ("left", "top", "width", "height")))
        found.append(Sample(f"{path}#{box['index']}", box["split"], label, crop))
    if not found:
        raise DataFormatError(f"{source}: none of its {len(boxes)} boxes has its photo beside it "
                              f"(looked in {source.parent}, <split>/ and photos/<split>/)")
    if missing:
        log.warning("%s: skipped boxes of %d photos that are not beside it (e.g. %s)",
                    source, len(missing), sorted(missing)[0])
    return found


def _number(source: Path, line: int, row: dict, column: str) -> float:
    try:
        return float(row[column])
    except (TypeError, ValueError):
        raise DataFormatError(f"{source}, line {line}: expected a number in {column}, found {row[column]!r}") from None


def read_boxes(path: Path) -> list[dict]:
    """The boxes of a box CSV (image,label,left,top,width,height[,split,box_index,...]) as dicts of image, split,
    index, label, left, top, width, height, without opening any photo."""
    default_split = split_from_name(path)
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle, skipinitialspace=True)
        reader.fieldnames = [name.strip() for name in reader.fieldnames or []]
        if not is_box_header(reader.fieldnames):
            raise DataFormatError(f"{path}: expected header {','.join(BOX_COLUMNS)}, "
                                  f"found {','.join(reader.fieldnames)}")
        boxes, per_image = [], {}
        for line, row in enumerate(reader, start=2):
            image = (row["image"] or "").strip()
            if not image:
                raise DataFormatError(f"{path}, line {line}: expected a photo file name in column image")
            numbers = {k: _number(path, line, row, k) for k in ("label", "left", "top", "width", "height")}
            index = int(_number(path, line, row, "box_index")) if row.get("box_index") else per_image.get(image, 0)
            per_image[image] = index + 1
            boxes.append({"image": image, "split": (row.get("split") or default_split).strip(), "index": index,
                          **numbers})
    if not boxes:
        raise DataFormatError(f"{path}: no boxes after the header")
    return boxes


def read_csv(path: Path, boxes: list[dict] | None = None) -> list[Sample]:
    """Crop the digits of a box CSV (all its boxes, or the chosen `boxes` of `read_boxes`)."""
    return _crops(path, read_boxes(path) if boxes is None else boxes)


def _values(handle, dataset) -> list[float]:
    """One bbox field: a plain value for a single digit, else references to one value per digit."""
    import h5py  # noqa: PLC0415

    if h5py.check_dtype(ref=dataset.dtype):
        return [float(np.asarray(handle[ref]).item()) for ref in np.asarray(dataset).ravel()]
    return [float(v) for v in np.asarray(dataset).ravel()]


def read_digitstruct(path: Path, handle) -> list[Sample]:
    """Read an SVHN digitStruct.mat (MATLAB 7.3, an open h5py file) whose photos lie beside it."""
    try:
        names, bboxes = handle["digitStruct/name"], handle["digitStruct/bbox"]
    except KeyError:
        raise DataFormatError(f"{path}: expected {DIGITSTRUCT_EXPECTED}") from None
    split = split_from_name(path)
    boxes = []
    for name_ref, bbox_ref in zip(np.asarray(names).ravel(), np.asarray(bboxes).ravel()):
        name = "".join(chr(int(c)) for c in np.asarray(handle[name_ref]).ravel())
        group = handle[bbox_ref]
        try:
            fields = {k: _values(handle, group[k]) for k in ("label", "left", "top", "width", "height")}
        except KeyError:
            raise DataFormatError(f"{path}: bbox of {name}: expected {DIGITSTRUCT_EXPECTED}") from None
        boxes += [{"image": name, "split": split, "index": i, **{k: v[i] for k, v in fields.items()}}
                  for i in range(len(fields["label"]))]
    if not boxes:
        raise DataFormatError(f"{path}: no boxes in digitStruct")
    return _crops(path, boxes)


def photo_boxes(path: str | Path, split: str) -> list[tuple[Path, list[tuple[float, float, float, float]], list[str]]]:
    """Each photo of `split` in a box CSV with its digits' boxes (left, top, width, height) and labels, in the
    CSV's box order; photos not beside the CSV are skipped with a warning."""
    path = Path(path)
    photos: dict[str, list[dict]] = {}
    for box in read_boxes(path):
        if box["split"] == split:
            photos.setdefault(box["image"], []).append(box)
    if not photos:
        raise DataFormatError(f"{path}: no boxes of split {split!r}")
    found, missing = [], 0
    for name, boxes in photos.items():
        photo = _find_photo(path.parent, name, split)
        if photo is None:
            missing += 1
            continue
        boxes.sort(key=lambda b: b["index"])
        labels = digit_names(np.array([b["label"] for b in boxes], dtype=np.float64), str(path))
        found.append((photo, [(b["left"], b["top"], b["width"], b["height"]) for b in boxes], labels))
    if missing:
        log.warning("%s: skipped %d photos of split %s that are not beside it", path, missing, split)
    if not found:
        raise DataFormatError(f"{path}: none of the photos of split {split!r} is beside it")
    return found
