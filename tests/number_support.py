"""Photos of house numbers for the tests: digits drawn in a font, with the box of every digit."""
from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFont


def render(text: str, size: int, rng: np.random.Generator, lines: int = 1):
    """A photo of a house number drawn in a font `size` px high, with the box (x, y, w, h) of every digit in
    reading order; `lines` 2 puts the second half of the digits under the first."""
    font = ImageFont.load_default(size=size)
    parts = [text] if lines == 1 else [text[:len(text) // 2], text[len(text) // 2:]]
    width = max(int(font.getlength(p)) for p in parts) + 2 * size
    image = Image.new("RGB", (width, round(size * 1.4 * len(parts) + size)),
                      tuple(int(v) for v in rng.integers(0, 90, 3)))
    draw = ImageDraw.Draw(image)
    boxes = []
    for row, part in enumerate(parts):
        x, y = size, size // 2 + round(row * size * 1.4)
        for digit in part:
            left, top, right, bottom = draw.textbbox((x, y), digit, font=font)
            draw.text((x, y), digit, font=font, fill=tuple(int(v) for v in rng.integers(170, 256, 3)))
            boxes.append((left, top, right - left, bottom - top))
            x += font.getlength(digit) + size * 0.1
    return image, boxes
