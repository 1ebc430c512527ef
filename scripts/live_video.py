"""A generated camera feed for live mode's benchmark and browser test: portraits, or a house number's plate,
drifting over a plain backdrop.

The portrait is the Grace Hopper photo shipped with matplotlib (OpenCV's cascade finds her face); each copy
gets its own brightness, so even the tiny test models give the faces different labels.
"""
from __future__ import annotations

import functools
import io
import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFont

SIZE = (640, 480)
# Top-left corners of up to five 150×150 tiles: three on top, two below.
SLOTS = ((40, 40), (245, 40), (450, 40), (140, 270), (350, 270))
TILE = 150


@functools.lru_cache(maxsize=1)
def hopper() -> Image.Image:
    """The Grace Hopper photo (512×600 RGB): a headshot in uniform before a flag."""
    import matplotlib.cbook  # noqa: PLC0415 - only the generators need matplotlib

    return Image.open(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)).convert("RGB")


def headshot(size: tuple[int, int] = SIZE) -> Image.Image:
    """The Grace Hopper photo cut to 4:3 from the top and scaled to `size`: one face before uniform and flag."""
    photo = hopper()
    return photo.crop((0, 0, photo.width, photo.width * 3 // 4)).resize(size, Image.BICUBIC)


def portrait() -> Image.Image:
    """The face and a little hair and collar around it, as a square RGB image."""
    return hopper().crop((96, 50, 433, 387))  # the cascade's face box (126, 77, 277, 277) with room around it


def frames(count: int, faces: int = 5, size: tuple[int, int] = SIZE,
           slots: tuple[tuple[int, int], ...] = SLOTS) -> Iterator[Image.Image]:
    """`count` frames with `faces` portraits (at most one per slot) drifting a few pixels around their slots."""
    tiles = [ImageEnhance.Brightness(portrait().resize((TILE, TILE), Image.BILINEAR)).enhance(0.55 + 0.2 * i)
             for i in range(faces)]
    backdrop = _backdrop(size)
    for n in range(count):
        frame = backdrop.copy()
        for i, (tile, (x, y)) in enumerate(zip(tiles, slots)):
            phase = n / 15 + i
            frame.paste(tile, (x + round(8 * math.sin(phase)), y + round(6 * math.cos(phase))))
        yield frame


def _backdrop(size: tuple[int, int]) -> Image.Image:
    return Image.fromarray(np.tile(np.linspace(70, 150, size[0], dtype=np.uint8), (size[1], 1)), "L").convert("RGB")


def plate(text: str, height: int) -> Image.Image:
    """A house number's plate: light digits of a font `height` px high on a dark plate."""
    font = ImageFont.load_default(size=height)
    image = Image.new("RGB", (round(font.getlength(text)) + height, round(height * 1.6)), (40, 48, 60))
    ImageDraw.Draw(image).text((height // 2, height // 4), text, font=font, fill=(235, 230, 210))
    return image


def number_frames(count: int, number: Image.Image, size: tuple[int, int] = SIZE) -> Iterator[Image.Image]:
    """`count` frames with the plate `number` drifting a few pixels around the middle of the frame."""
    backdrop = _backdrop(size)
    x, y = (size[0] - number.width) // 2, (size[1] - number.height) // 2
    for n in range(count):
        frame = backdrop.copy()
        frame.paste(number, (x + round(12 * math.sin(n / 15)), y + round(8 * math.cos(n / 15))))
        yield frame


def jpeg(image: Image.Image, quality: int = 70) -> bytes:
    """The frame as the browser sends it: a JPEG from a canvas."""
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def write_y4m(path: Path, images: Iterator[Image.Image], fps: int) -> Path:
    """Write frames as a YUV4MPEG2 file (4:2:0, full range), what chromium's fake camera plays in a loop."""
    images = iter(images)
    first = next(images)
    width, height = first.size
    with open(path, "wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for image in (first, *images):
            y, cb, cr = image.convert("YCbCr").split()
            half = (width // 2, height // 2)
            out.write(b"FRAME\n" + y.tobytes() + cb.resize(half, Image.BOX).tobytes()
                      + cr.resize(half, Image.BOX).tobytes())
    return path
