"""Each dataset reader against tiny files written in its real format."""
from __future__ import annotations

import h5py
import numpy as np
import pytest
import scipy.io
from PIL import Image

from ml.data import load, read_samples
from ml.data.svhn_boxes import crop_digit
from ml.recognizers import get


def pixels_text(image: np.ndarray) -> str:
    return " ".join(str(v) for v in image.ravel())


def write_fer(path, rows, header="emotion,pixels,Usage"):
    lines = [header] + [f"{emotion},{pixels_text(image)},{usage}" for emotion, image, usage in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def digit_photo(width=64, height=40, seed=0) -> Image.Image:
    return Image.fromarray(np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8))


def write_digitstruct(path, photos: dict[str, list[dict]]):
    """A MATLAB 7.3 digitStruct.mat as SVHN ships it: one value per field for a single digit, else references."""
    with h5py.File(path, "w") as f:
        refs = f.create_group("#refs#")
        names, bboxes = [], []
        for i, (name, boxes) in enumerate(photos.items()):
            names.append(refs.create_dataset(f"n{i}", data=np.array([[ord(c)] for c in name], np.uint16)).ref)
            group = refs.create_group(f"b{i}")
            for key in ("height", "label", "left", "top", "width"):
                values = [float(b[key]) for b in boxes]
                if len(values) == 1:
                    group.create_dataset(key, data=np.array([values], np.float64))
                else:
                    cells = [refs.create_dataset(f"v{i}{key}{j}", data=np.array([[v]])).ref
                             for j, v in enumerate(values)]
                    group.create_dataset(key, data=np.array(cells, dtype=h5py.ref_dtype).reshape(-1, 1))
            bboxes.append(group.ref)
        struct = f.create_group("digitStruct")
        struct.create_dataset("name", data=np.array(names, dtype=h5py.ref_dtype).reshape(-1, 1))
        struct.create_dataset("bbox", data=np.array(bboxes, dtype=h5py.ref_dtype).reshape(-1, 1))
    return path


def test_class_folders_with_splits(folders):
    samples = read_samples(folders)
    assert {s.split for s in samples} == {"train", "test"}
    assert sum(s.split == "train" and s.label == "sad" for s in samples) == 10
    data = load(folders, get("emotion4"), "test")
    assert data.images.shape == (12, 48, 48, 1)
    assert data.skipped == {"angry": 1}
    assert data.counts() == {"happy": 3, "neutral": 3, "sad": 3, "surprise": 3}


def test_class_folders_without_split(tmp_path):
    for name in ("3", "7"):
        (tmp_path / name).mkdir()
        Image.fromarray(np.zeros((20, 30, 3), np.uint8)).save(tmp_path / name / "a.jpeg")
    samples = read_samples(tmp_path)
    assert sorted((s.split, s.label) for s in samples) == [("all", "3"), ("all", "7")]


def test_fer_csv_maps_emotions_and_usage(tmp_path):
    faces = [np.full((48, 48), v, np.uint8) for v in (10, 20, 30)]
    path = write_fer(tmp_path / "fer2013.csv", [(0, faces[0], "Training"), (6, faces[1], "PublicTest"),
                                                (4, faces[2], "PrivateTest")])
    samples = read_samples(path)
    assert [(s.label, s.split) for s in samples] == [("angry", "train"), ("neutral", "test"), ("sad", "private_test")]
    assert np.array_equal(np.asarray(samples[1].image), faces[1])
    assert load(path, get("emotion7"), "test").counts()["neutral"] == 1


def test_fer_csv_with_spaced_header(tmp_path):
    path = write_fer(tmp_path / "icml_face_data.csv", [(3, np.zeros((48, 48), np.uint8), "Training")],
                     header="emotion, Usage, pixels")
    path.write_text(path.read_text().replace(",Training", "").replace("3,", "3, Training,", 1))
    assert [(s.label, s.split) for s in read_samples(path)] == [("happy", "train")]


def test_svhn_format2_mat(tmp_path):
    images = np.random.default_rng(1).integers(0, 256, (32, 32, 3, 3), dtype=np.uint8)
    path = tmp_path / "test_32x32.mat"
    scipy.io.savemat(path, {"X": images, "y": np.array([[10], [1], [9]], np.uint8)})
    samples = read_samples(path)
    assert [(s.label, s.split) for s in samples] == [("0", "test"), ("1", "test"), ("9", "test")]
    assert np.array_equal(np.asarray(samples[2].image), images[..., 2])


@pytest.mark.parametrize("shape", [(2, 32, 32), (2, 32, 32, 3)], ids=["grey", "rgb"])
def test_course_h5(tmp_path, shape):
    path = tmp_path / "SVHN_single_grey1.h5"
    rng = np.random.default_rng(2)
    with h5py.File(path, "w") as f:
        for name, labels in (("train", [1, 2]), ("val", [3, 4]), ("test", [5, 0])):
            f[f"X_{name}"] = rng.uniform(0, 255, shape).astype(np.float32)
            f[f"y_{name}"] = np.array(labels)
        expected = np.rint(f["X_test"][1]).astype(np.uint8)
    samples = read_samples(path)
    assert [(s.split, s.label) for s in samples] == [("train", "1"), ("train", "2"), ("val", "3"), ("val", "4"),
                                                     ("test", "5"), ("test", "0")]
    assert np.array_equal(np.asarray(samples[-1].image), expected)
    assert load(path, get("digits"), "val").images.shape == (2, 32, 32, 3)


def test_crop_digit_squares_the_box_and_pads_with_edge_pixels():
    photo = digit_photo()
    inside = crop_digit(photo, 20, 4, 10, 20)  # 10 wide, 20 high: square 20×20 from x=15
    assert np.array_equal(np.asarray(inside), np.asarray(photo.crop((15, 4, 35, 24)).resize((32, 32), Image.BILINEAR)))
    at_edge = np.asarray(crop_digit(photo, 0, 4, 10, 32))  # square 32×32 from x=-11: no resize
    pixels = np.asarray(photo)
    assert np.array_equal(at_edge[:, :12], np.repeat(pixels[4:36, :1], 12, axis=1))
    assert np.array_equal(at_edge[:, 12:], pixels[4:36, 1:21])


def test_digitstruct_mat_beside_photos(tmp_path):
    folder = tmp_path / "train"
    folder.mkdir()
    digit_photo(seed=1).save(folder / "1.png")
    digit_photo(seed=2).save(folder / "2.png")
    boxes = {"1.png": [{"label": 10, "left": 5, "top": 3, "width": 9, "height": 20}],
             "2.png": [{"label": 1, "left": 10, "top": 2, "width": 8, "height": 30},
                       {"label": 2, "left": 20, "top": 2, "width": 9, "height": 30}]}
    samples = read_samples(write_digitstruct(folder / "digitStruct.mat", boxes))
    assert [(s.label, s.split) for s in samples] == [("0", "train"), ("1", "train"), ("2", "train")]
    assert samples[2].key.endswith("2.png#1")
    assert np.array_equal(np.asarray(samples[2].image), np.asarray(crop_digit(digit_photo(seed=2), 20, 2, 9, 30)))


def test_box_csv_in_the_shared_layout(tmp_path, caplog):
    (tmp_path / "photos" / "test").mkdir(parents=True)
    digit_photo(seed=3).save(tmp_path / "photos" / "test" / "5.png")
    (tmp_path / "labels.csv").write_text(
        "image,split,box_index,label,left,top,width,height,status\n"
        "5.png,test,0,7,3,5,10,20,unique\n5.png,test,1,10,14,5,10,20,unique\n"
        "6.png,heldout,0,4,3,5,10,20,unique\n")
    samples = read_samples(tmp_path / "labels.csv")
    assert [(s.label, s.split, s.key[-7:]) for s in samples] == [("7", "test", "5.png#0"), ("0", "test", "5.png#1")]
    assert np.array_equal(np.asarray(samples[1].image), np.asarray(crop_digit(digit_photo(seed=3), 14, 5, 10, 20)))
    assert "skipped boxes of 1 photos" in caplog.text


def test_plain_box_csv_beside_photos(tmp_path):
    digit_photo(seed=4).save(tmp_path / "a.png")
    (tmp_path / "boxes.csv").write_text("image,label,left,top,width,height\na.png,3,1,1,8,16\na.png,4,9,1,8,16\n")
    samples = read_samples(tmp_path / "boxes.csv")
    assert [(s.label, s.split, s.key[-7:]) for s in samples] == [("3", "all", "a.png#0"), ("4", "all", "a.png#1")]


def test_dataset_hash_is_stable_and_content_based(folders):
    first, again = load(folders, get("emotion4"), "train"), load(folders, get("emotion4"), "train")
    assert first.digest == again.digest
    assert first.subset(np.arange(5)).digest != first.digest
