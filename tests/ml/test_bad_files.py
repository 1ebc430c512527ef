"""Wrong or damaged inputs give one clear error that names the file and what was expected."""
from __future__ import annotations

import io

import h5py
import numpy as np
import pytest
import scipy.io
from PIL import Image

from ml.cli import main
from ml.data import DataFormatError, read_samples
from ml.preprocess import ImageError, open_image


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (40, 40), dtype=np.uint8)).save(buffer, "PNG")
    return buffer.getvalue()


def class_folder_with(tmp_path, name: str, content: bytes):
    (tmp_path / "happy").mkdir()
    (tmp_path / "happy" / name).write_bytes(content)
    return tmp_path / "happy" / name


@pytest.mark.parametrize("content, why", [(b"hello, not an image", "not a readable image"),
                                          (png_bytes()[:120], "not a readable image")], ids=["text", "truncated"])
def test_broken_image_in_class_folders(tmp_path, content, why):
    bad = class_folder_with(tmp_path, "x.png", content)
    with pytest.raises(DataFormatError, match=f"{bad}: expected a JPEG or PNG image.*{why}"):
        read_samples(tmp_path)


def test_open_image_refuses_empty_and_garbage():
    with pytest.raises(ImageError, match="empty"):
        open_image(b"")
    with pytest.raises(ImageError, match="not a readable image"):
        open_image(b"GIF89a garbage")


def test_folder_without_class_folders(tmp_path):
    with pytest.raises(DataFormatError, match="expected class folders"):
        read_samples(tmp_path)


def test_csv_with_an_unknown_header(tmp_path):
    (tmp_path / "data.csv").write_text("label,path\n1,a.png\n")
    with pytest.raises(DataFormatError, match=r"data.csv: unknown CSV header label,path; expected emotion,pixels,Usage"
                                              r" or image,label,left,top,width,height"):
        read_samples(tmp_path / "data.csv")


@pytest.mark.parametrize("row, message", [
    ("3,1 2 3,Training", r"line 2: expected 2304 pixel values, found 3"),
    ("9," + " ".join(["0"] * 2304) + ",Training", r"line 2: expected emotion 0..6, found '9'"),
    ("3," + " ".join(["0"] * 2304) + ",Holdout", r"line 2: expected Usage Training, PublicTest, PrivateTest"),
    ("3," + " ".join(["300"] * 2304) + ",Training", r"line 2: expected pixel values 0..255"),
], ids=["short", "emotion", "usage", "range"])
def test_fer_csv_bad_rows(tmp_path, row, message):
    (tmp_path / "fer.csv").write_text(f"emotion,pixels,Usage\n{row}\n")
    with pytest.raises(DataFormatError, match=f"fer.csv, {message}"):
        read_samples(tmp_path / "fer.csv")


def test_mat_without_x(tmp_path):
    scipy.io.savemat(tmp_path / "train_32x32.mat", {"images": np.zeros((2, 2)), "y": np.ones((1, 1))})
    with pytest.raises(DataFormatError, match=r"train_32x32.mat: expected SVHN format 2 variables X .*found "
                                              r"variables y"):
        read_samples(tmp_path / "train_32x32.mat")


def test_mat_that_is_not_matlab(tmp_path):
    (tmp_path / "test_32x32.mat").write_bytes(b"\x00" * 200)
    with pytest.raises(DataFormatError, match="test_32x32.mat: not a readable MATLAB file"):
        read_samples(tmp_path / "test_32x32.mat")


def test_h5_without_the_course_datasets(tmp_path):
    with h5py.File(tmp_path / "svhn.h5", "w") as f:
        f["X_train"] = np.zeros((2, 32, 32), np.uint8)
        f["images"] = np.zeros(3)
    with pytest.raises(DataFormatError, match="svhn.h5: X_train and y_train must come together"):
        read_samples(tmp_path / "svhn.h5")


def test_box_csv_without_its_photos(tmp_path):
    (tmp_path / "boxes.csv").write_text("image,label,left,top,width,height\nmissing.png,3,1,1,8,16\n")
    with pytest.raises(DataFormatError, match="boxes.csv: none of its 1 boxes has its photo beside it"):
        read_samples(tmp_path / "boxes.csv")


def test_unsupported_file_type(tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(DataFormatError, match=r"notes.txt: unsupported file type .txt"):
        read_samples(tmp_path / "notes.txt")


def test_cli_turns_data_errors_into_one_line_and_status_2(tmp_path, capsys):
    (tmp_path / "data.csv").write_text("a,b\n")
    assert main(["eda", str(tmp_path / "data.csv"), "--out", str(tmp_path / "eda")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "data.csv: unknown CSV header" in err and err.count("\n") == 1


def test_evaluate_a_folder_that_is_no_artifact(tmp_path, capsys):
    assert main(["evaluate", str(tmp_path), str(tmp_path), "--json"]) == 2
    assert "metadata.json: missing; not a model artifact directory" in capsys.readouterr().err
