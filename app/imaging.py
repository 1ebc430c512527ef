"""Image handling around the models: checked decoding, EXIF GPS, photos and crops kept without metadata."""
from __future__ import annotations

import base64
import io
import re
import struct

import numpy as np
from PIL import Image, UnidentifiedImageError

from ml.preprocess import ImageError, open_image, to_mode

GPS_IFD = 0x8825
ORIENTATION = 0x0112
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


# Frames every browser shows: 8-bit baseline, extended and progressive Huffman (not arithmetic, lossless, 12-bit).
PLAIN_FRAMES = frozenset({0xC0, 0xC1, 0xC2})
OTHER_FRAMES = frozenset(range(0xC3, 0xD0)) - {0xC4, 0xC8, 0xCC}  # 0xC4, 0xCC: tables; 0xC8: reserved
JFIF, ADOBE = 0xE0, 0xEE  # APP0 and APP14 say how the pixels decode; the other APPn and COM are only metadata
SCAN_END = re.compile(rb"\xff[^\x00\xd0-\xd7]")  # the marker after a scan (0xFF00 is a stuffed byte, 0xFFDn a restart)


def jpeg_without_metadata(data: bytes) -> bytes | None:
    """The JPEG file `data` with its coded pixels as they are but no metadata (EXIF, XMP, ICC profile, comments,
    thumbnails) and nothing after its first image, so it decodes to the same pixels; None when it is not a plain
    JPEG that every browser shows."""
    if not data.startswith(b"\xff\xd8"):
        return None
    out, pos = [b"\xff\xd8"], 2
    while pos + 2 <= len(data) and data[pos] == 0xFF:
        marker = data[pos + 1]
        if marker == 0xFF:  # a fill byte before a marker
            pos += 1
            continue
        if marker == 0xD9:  # the end of the (first) image
            return b"".join([*out, b"\xff\xd9"])
        length = int.from_bytes(data[pos + 2:pos + 4], "big")
        end = pos + 2 + length
        if (0xD0 <= marker <= 0xD8 or marker == 0x01 or length < 2 or end > len(data) or marker in OTHER_FRAMES
                or (marker in PLAIN_FRAMES and (length < 8 or data[pos + 4] != 8))):
            return None  # cut short, a marker that belongs inside a scan or at the start, or a frame browsers lack
        if marker == 0xDA:  # a scan: its entropy-coded data runs to the next marker
            found = SCAN_END.search(data, end)
            if found is None:
                return None
            end = found.start()
        if marker == JFIF and data[pos + 4:pos + 9] == b"JFIF\x00" and length >= 16:
            # Kept, as it tells decoders the colour space, without the thumbnail it may carry.
            out.append(b"\xff\xe0\x00\x10" + data[pos + 4:pos + 16] + b"\x00\x00")
        elif marker == ADOBE or not (0xE0 <= marker <= 0xEF or marker == 0xFE):
            out.append(data[pos:end])
        pos = end
    return None


def photo_bytes(upload: bytes | None, image: Image.Image) -> bytes:
    """The photo to keep, without metadata: an upright JPEG upload with its metadata cut out (no second loss, and
    a fraction of the time of encoding it again), else `image` (the upload decoded) re-encoded as JPEG."""
    if upload:
        with Image.open(io.BytesIO(upload), formats=PIL_FORMATS) as probe:  # the header only
            plain = (probe.format in ("JPEG", "MPO") and probe.mode in ("RGB", "L") and probe.size == image.size
                     and probe.getexif().get(ORIENTATION, 1) == 1)
        stripped = jpeg_without_metadata(upload) if plain else None
        if stripped is not None:
            return stripped
    return jpeg_bytes(image)


def preview_uri(image: Image.Image) -> str:
    """A downscaled JPEG data: URI, for results that are shown but not kept (anonymous visitors)."""
    preview = image.copy()
    preview.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE))
    return "data:image/jpeg;base64," + base64.b64encode(jpeg_bytes(preview, quality=85)).decode()
