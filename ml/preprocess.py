"""The one preprocessing function shared by training, evaluation and serving."""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from ml.recognizers import Recognizer

# Refuse decompression bombs early: 40 megapixels is far beyond any phone photo we expect.
Image.MAX_IMAGE_PIXELS = 40_000_000


class ImageError(ValueError):
    """An input that is not a usable image; the message says why."""


def open_image(source: str | Path | bytes | Image.Image) -> Image.Image:
    """Decode an image from a path, bytes or PIL image, honour EXIF orientation, load it fully."""
    if isinstance(source, Image.Image):
        image = source
    else:
        name = str(source) if isinstance(source, (str, Path)) else "upload"
        if isinstance(source, bytes):
            if not source:
                raise ImageError("the file is empty")
            source = io.BytesIO(source)
        try:
            image = Image.open(source)
            image.load()
        except Image.DecompressionBombError as exc:
            raise ImageError(f"{name}: image has too many pixels ({exc})") from None
        except (OSError, SyntaxError, ValueError) as exc:
            raise ImageError(f"{name}: not a readable image ({exc})") from None
    if getattr(image, "n_frames", 1) > 1:
        image.seek(0)  # animated: classify the first frame
    if image is source:
        return ImageOps.exif_transpose(image)  # a copy: the caller's image stays as it was
    ImageOps.exif_transpose(image, in_place=True)  # decoded here: turn it without copying its pixels
    return image


def to_mode(image: Image.Image, mode: str) -> Image.Image:
    """Convert any PIL mode (CMYK, 16-bit, palette, alpha) to "L" or "RGB", alpha over white; an image already in
    that mode comes back as it is (PIL's convert would copy every pixel)."""
    if image.mode == mode:
        return image
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        array = np.asarray(image, dtype=np.float64)
        top = array.max() or 1.0
        image = Image.fromarray((array * (255.0 / top)).astype(np.uint8), "L")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    return image.convert(mode)


def prepare(image: Image.Image | np.ndarray, recognizer: Recognizer) -> np.ndarray:
    """Turn one image (any size or mode) into the uint8 H×W×C array a recognizer's model takes."""
    if isinstance(image, np.ndarray):
        # PIL has no H×W×1 mode: a prepared grayscale array comes back as H×W.
        image = Image.fromarray(image[..., 0] if image.ndim == 3 and image.shape[2] == 1 else image)
    image = to_mode(image, recognizer.mode)
    if image.size != (recognizer.size, recognizer.size):
        image = image.resize((recognizer.size, recognizer.size), Image.BILINEAR)
    array = np.asarray(image, dtype=np.uint8)
    return array.reshape(recognizer.input_shape)


def prepare_batch(images, recognizer: Recognizer) -> np.ndarray:
    """Stack `prepare` over many images into an N×H×W×C uint8 array."""
    return np.stack([prepare(image, recognizer) for image in images]) if len(images) else np.zeros(
        (0, *recognizer.input_shape), np.uint8)
