"""The one preprocessing function: EXIF orientation, modes, sizes and arrays."""
from __future__ import annotations

import io

import numpy as np
from PIL import Image

from ml.preprocess import open_image, prepare, to_mode
from ml.recognizers import get


def test_exif_orientation_is_honoured():
    upright = np.zeros((20, 40), np.uint8)
    upright[:, :20] = 255  # left half white
    stored = Image.fromarray(upright).transpose(Image.Transpose.ROTATE_90)  # sideways, as a camera stores it
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° clockwise to view
    buffer = io.BytesIO()
    stored.save(buffer, "PNG", exif=exif)
    image = open_image(buffer.getvalue())
    assert image.size == (40, 20)
    assert np.asarray(image)[:, :20].mean() > 250 and np.asarray(image)[:, 20:].mean() < 5


def test_any_mode_and_size_becomes_the_recognizer_input():
    rgba = Image.new("RGBA", (70, 30), (0, 0, 0, 0))  # fully transparent: white once composed
    assert prepare(rgba, get("emotion7")).shape == (48, 48, 1) and prepare(rgba, get("emotion7")).min() == 255
    sixteen = Image.fromarray(np.full((10, 10), 4000, np.uint16))
    assert prepare(sixteen, get("digits")).shape == (32, 32, 3)


def test_an_image_already_in_the_mode_is_not_copied():
    rgb = Image.new("RGB", (640, 480))
    assert to_mode(rgb, "RGB") is rgb  # a photo's pixels are not copied on every request
    assert to_mode(rgb, "L").mode == "L" and to_mode(Image.new("L", (4, 4)), "RGB").mode == "RGB"


def test_prepare_is_idempotent_on_its_own_output():
    for name in ("emotion4", "digits"):
        recognizer = get(name)
        once = prepare(Image.fromarray(np.random.default_rng(0).integers(0, 256, (50, 60, 3), dtype=np.uint8)),
                       recognizer)
        assert np.array_equal(prepare(once, recognizer), once)
