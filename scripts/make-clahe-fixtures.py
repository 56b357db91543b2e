#!/usr/bin/python3
"""Writes the reference values the CLAHE test compares against: OpenCV's tiled CLAHE
(cv2.createCLAHE(clipLimit, tileGridSize).apply, Debian's python3-opencv) on a few generated 8-bit
and 16-bit images, including sizes the tile grid does not divide (OpenCV pads those by reflection).

Run: /usr/bin/python3 scripts/make-clahe-fixtures.py   (writes test/fixtures/data/clahe.json)
"""
import base64
import json
import os

import cv2
import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "data")


def xray_like(h, w, seed, maxval):
    """Smooth body with two dark regions, a bright corner marker and noise: CLAHE has work to do."""
    rng = np.random.RandomState(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    lung = np.exp(-(((np.abs(x - w / 2) - w * 0.2) / (w * 0.12)) ** 2) - ((y - h * 0.45) / (h * 0.25)) ** 2)
    v = 0.55 + 0.15 * (y / h) - 0.35 * lung + 0.04 * rng.standard_normal((h, w))
    v[: h // 8, : w // 8] = 0.97  # a burned-in marker: a saturated flat patch
    v = 0.1 + 0.5 * v  # low contrast, so equalisation stretches it
    return np.clip(np.round(v * maxval), 0, maxval)


# (name, height, width, bit depth, tile grid [rows, cols], clip limit as passed to OpenCV)
CASES = [
    ("u8_64x96_t8x8_c2", 64, 96, 8, (8, 8), 2.0),
    ("u8_64x96_t4x6_c40", 64, 96, 8, (4, 6), 40.0),
    ("u8_64x96_t8x8_noclip", 64, 96, 8, (8, 8), 0.0),
    ("u8_37x53_t4x3_c3", 37, 53, 8, (4, 3), 3.0),  # neither side divisible
    ("u8_40x45_t8x8_c2", 40, 45, 8, (8, 8), 2.0),  # rows divisible, columns not
    ("u16_48x40_t4x4_c2", 48, 40, 16, (4, 4), 2.0),
    ("u16_48x40_t2x2_c200", 48, 40, 16, (2, 2), 200.0),
    ("u16_33x50_t3x4_c1", 33, 50, 16, (3, 4), 1.0),
]


def b64(a):
    return base64.b64encode(np.ascontiguousarray(a).astype(a.dtype.newbyteorder("<")).tobytes()).decode()


def main():
    os.makedirs(OUT, exist_ok=True)
    items = []
    for i, (name, h, w, depth, (ty, tx), clip) in enumerate(CASES):
        dtype = np.uint8 if depth == 8 else np.uint16
        img = xray_like(h, w, 100 + i, 2**depth - 1).astype(dtype)
        # OpenCV's tileGridSize is (columns, rows).
        out = cv2.createCLAHE(clipLimit=clip, tileGridSize=(tx, ty)).apply(img)
        items.append(
            {
                "name": name,
                "height": h,
                "width": w,
                "depth": depth,
                "tiles": [ty, tx],
                "clipLimit": clip,
                "input": b64(img),
                "output": b64(out),
            }
        )
    path = os.path.join(OUT, "clahe.json")
    with open(path, "w") as f:
        json.dump(
            {
                "generatedBy": "scripts/make-clahe-fixtures.py",
                "versions": {"opencv": cv2.__version__, "numpy": np.__version__},
                "items": items,
            },
            f,
            indent=1,
        )
    print(f"wrote {path} ({len(items)} cases)")


if __name__ == "__main__":
    main()
