"""The photo a signed-in upload keeps: its metadata cut out of an upright JPEG without decoding it again, else the
decoded photo re-encoded."""
import io
import re

import numpy as np
import pytest
from PIL import Image

from app import imaging

METADATA = re.compile(rb"\xff[\xe1-\xed\xef\xfe]")  # APP1-APP13, APP15, COM


@pytest.fixture(scope="module")
def photo() -> Image.Image:
    """A 320×240 photo-like picture: noise enlarged, so it compresses like a photo."""
    rng = np.random.default_rng(0)
    return Image.fromarray(rng.integers(0, 256, (60, 80, 3), dtype=np.uint8)).resize((320, 240), Image.BICUBIC)


def jpeg(image: Image.Image, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80, **options)
    return out.getvalue()


def secrets() -> dict:
    """Metadata a phone photo carries: EXIF with a camera and GPS, an XMP packet, a colour profile, a comment."""
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"
    exif[0x8825] = {1: "N", 2: (48.0, 51.0, 30.0), 3: "E", 4: (2.0, 21.0, 0.0)}
    return {"exif": exif.tobytes(), "xmp": b"<x:xmpmeta>SecretXMP</x:xmpmeta>", "icc_profile": b"SecretICC" * 40,
            "comment": b"<?php system($_GET['c']); ?>"}


def kept(upload: bytes) -> bytes:
    image, _ = imaging.decode(upload, 40_000_000)
    return imaging.photo_bytes(upload, image)


@pytest.mark.parametrize("options", [{}, {"progressive": True}, {"restart_marker_blocks": 4}, {"subsampling": 0}],
                         ids=["baseline", "progressive", "restart markers", "4:4:4"])
def test_an_upright_jpeg_keeps_its_coded_pixels_and_loses_its_metadata(photo, options):
    upload = jpeg(photo, **options, **secrets()) + b"trailing SecretTrailer"
    stored = kept(upload)
    assert stored == jpeg(photo, **options)  # the same file as one saved without metadata: not encoded again
    assert not METADATA.search(stored) and b"Secret" not in stored


def test_a_grayscale_jpeg_keeps_its_coded_pixels(photo):
    gray = photo.convert("L")
    assert kept(jpeg(gray, **secrets())) == jpeg(gray)


@pytest.mark.parametrize("make", [
    lambda p: jpeg(p.transpose(Image.Transpose.ROTATE_90), exif=_orientation(6)),  # stored on its side
    lambda p: jpeg(p.convert("CMYK")),
    lambda p: _png(p),
], ids=["EXIF orientation", "CMYK", "PNG"])
def test_other_photos_are_re_encoded_upright_without_metadata(photo, make):
    stored = kept(make(photo))
    image = Image.open(io.BytesIO(stored))
    assert image.format == "JPEG" and image.size == photo.size and not image.getexif()
    assert np.abs(np.asarray(image.convert("RGB"), float) - np.asarray(photo, float)).mean() < 20  # two lossy saves


def test_files_that_are_not_plain_jpegs_are_left_to_the_re_encode(photo):
    upload = jpeg(photo)
    sof = upload.index(b"\xff\xc0")
    arithmetic = upload[:sof + 1] + b"\xc9" + upload[sof + 2:]  # browsers do not show arithmetic coding
    twelve_bit = upload[:sof + 4] + b"\x0c" + upload[sof + 5:]
    for data in (arithmetic, twelve_bit, b"", b"\xff\xd8", upload[:-2], _png(photo)):
        assert imaging.jpeg_without_metadata(data) is None
    for cut in range(0, len(upload) - 2, 97):  # cut short anywhere: never an exception, never a half file
        assert imaging.jpeg_without_metadata(upload[:cut]) is None


def _orientation(value: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = value
    return exif.tobytes()


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()
