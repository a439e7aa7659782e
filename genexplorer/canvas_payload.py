"""The drawing canvas's payload: the JSON the page's canvas sends (ui/canvas.py's script) to the Gradio draw
event and the live channel, ``{"w": width, "h": height, "data": base64 of w*h grey bytes}``. No Gradio here:
the app decodes it, tests and the dev tools encode drawings with it."""
from __future__ import annotations

import base64
import json

import numpy as np

MAX_PAYLOAD_CHARS = 200_000


class CanvasError(ValueError):
    pass


def decode_payload(text: str | None) -> np.ndarray | None:
    """The payload's JSON -> uint8 (H, W) grey drawing, or None for an empty canvas."""
    if not text:
        return None
    if len(text) > MAX_PAYLOAD_CHARS:
        raise CanvasError("the drawing data is too large")
    try:
        payload = json.loads(text)
        width, height = int(payload["w"]), int(payload["h"])
        raw = base64.b64decode(payload["data"], validate=True)
    except (ValueError, KeyError, TypeError) as exc:
        raise CanvasError(f"the drawing data is malformed ({exc.__class__.__name__})") from None
    if not (8 <= width <= 512 and 8 <= height <= 512) or len(raw) != width * height:
        raise CanvasError("the drawing data has the wrong size")
    pixels = np.frombuffer(raw, dtype=np.uint8).reshape(height, width)
    return None if pixels.max() == 0 else pixels


def encode_payload(pixels: np.ndarray) -> str:
    """The inverse of decode_payload: a uint8 (H, W) grey drawing, white ink on black -> the payload's JSON,
    as the canvas sends it (for tests, API clients and the dev tools)."""
    pixels = np.ascontiguousarray(pixels, dtype=np.uint8)
    return json.dumps({"w": pixels.shape[1], "h": pixels.shape[0],
                       "data": base64.b64encode(pixels.tobytes()).decode("ascii")})
