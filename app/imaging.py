"""Image handling around the models: checked decoding, EXIF GPS, re-encoding without metadata."""
from __future__ import annotations

import base64
import io
import struct

import numpy as np
from PIL import Image, UnidentifiedImageError

from ml.preprocess import ImageError, open_image, to_mode

GPS_IFD = 0x8825
PREVIEW_SIDE = 1024
FORMATS = "JPEG, PNG, GIF, WebP, BMP or TIFF"
PIL_FORMATS = ("JPEG", "PNG", "GIF", "WEBP", "BMP", "TIFF")  # JPEG's opener also reads phones' MPO files


def decode(data: bytes, max_pixels: int) -> tuple[Image.Image, tuple[float, float] | None]:
    """Decode an upload to an upright RGB image plus its EXIF GPS position; ImageError says what is wrong."""
    if not data:
        raise ImageError("The file is empty.")
    try:
        # Only the formats we name: PIL would also open EPS (through Ghostscript), PSD, ICO and more.
        with Image.open(io.BytesIO(data), formats=PIL_FORMATS) as probe:  # the header only: size before pixels
            width, height = probe.size
            gps = exif_location(probe)
    except Image.DecompressionBombError:
        raise ImageError(f"The image has too many pixels; the limit is {max_pixels / 1e6:g} megapixels.") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ImageError(f"This file is not an image we can read ({FORMATS}).") from None
    if width * height > max_pixels:
        raise ImageError(f"The image has too many pixels ({width}×{height}); "
                         f"the limit is {max_pixels / 1e6:g} megapixels.")
    try:
        image = open_image(data)
    except ImageError:  # the decoder's own words name library internals, not what is wrong for a person
        raise ImageError("The photo is damaged or cut short (truncated), so it cannot be read. Upload it again, or "
                         "save it again from the app that made it.") from None
    return to_mode(image, "RGB"), gps


def exif_location(image: Image.Image) -> tuple[float, float] | None:
    """(latitude, longitude) from the EXIF GPS block, or None when absent or malformed."""
    try:
        gps = image.getexif().get_ifd(GPS_IFD)
        if not gps or 2 not in gps or 4 not in gps:
            return None
        lat = _degrees(gps[2], gps.get(1, "N"))
        lon = _degrees(gps[4], gps.get(3, "E"))
    except (ValueError, TypeError, ZeroDivisionError, KeyError, IndexError, OSError, struct.error):
        return None  # broken EXIF must not stop a classification
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or (lat, lon) != (lat, lon):
        return None
    return round(lat, 6), round(lon, 6)


def _degrees(dms, ref) -> float:
    degrees, minutes, seconds = (float(v) for v in dms)
    value = degrees + minutes / 60 + seconds / 3600
    ref = ref.decode() if isinstance(ref, bytes) else str(ref)
    return -value if ref.strip().upper() in ("S", "W") else value


def png_bytes(image: Image.Image | np.ndarray) -> bytes:
    """Re-encode losslessly as PNG with no metadata (crops: the training data)."""
    if isinstance(image, np.ndarray):
        image = Image.fromarray(image[..., 0] if image.ndim == 3 and image.shape[2] == 1 else image)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def jpeg_bytes(image: Image.Image, quality: int = 95) -> bytes:
    """Re-encode a photo as JPEG with no metadata: a tenth of PNG's encoding time, no visible loss."""
    out = io.BytesIO()
    # Pillow carries a decoded JPEG's comment (and could carry EXIF or a colour profile) into the copy: none kept.
    image.save(out, "JPEG", quality=quality, comment=b"", exif=b"", icc_profile=None)
    return out.getvalue()


def preview_uri(image: Image.Image) -> str:
    """A downscaled JPEG data: URI, for results that are shown but not kept (anonymous visitors)."""
    preview = image.copy()
    preview.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE))
    return "data:image/jpeg;base64," + base64.b64encode(jpeg_bytes(preview, quality=85)).decode()
