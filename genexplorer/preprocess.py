"""Turn a canvas drawing or an uploaded picture into the 28x28 input a model expects.

Digits are made the way MNIST was made (LeCun et al.): ink white on black, cropped to
the ink, fitted into 20x20 keeping the aspect ratio, then placed in 28x28 so that the
centre of mass sits at the centre. Objects are made the way Fashion-MNIST was made
(Xiao et al. 2017): trimmed, longest side resized to 28, centred.
"""
from __future__ import annotations

import functools

import numpy as np
import torch
from PIL import Image, ImageFilter

STYLES = ("digit", "object")
# Pictures are shrunk to this many pixels on the long side before any other work,
# so a 9000x9000 photo costs the same as a canvas.
WORKING_SIZE = 280
# An image whose ink covers less than this fraction of its pixels, or whose contrast
# is below MIN_CONTRAST, is reported as blank rather than passed on as zeros.
MIN_INK_FRACTION = 0.0005
MIN_CONTRAST = 0.08
# Target stroke width, in pixels of the final 28x28 digit: MNIST strokes are 2-3 px.
DIGIT_STROKE_WIDTH = 2.3


class BlankImageError(ValueError):
    """The picture has no ink to speak of (empty canvas, blank page)."""


def preprocess(image, *, style: str = "digit") -> torch.Tensor:
    """Make model input from a picture.

    image: a PIL image of any mode and size, or a numpy array (H, W), (H, W, 3) or
        (H, W, 4), of uint8, uint16 or float in [0, 1]; dark ink on light or light on dark.
    style: "digit" (MNIST's recipe) or "object" (Fashion-MNIST's).
    Returns a float tensor (1, 28, 28) in [0, 1], white ink on black.
    Raises BlankImageError for a blank or nearly blank picture.
    """
    if style not in STYLES:
        raise ValueError(f"unknown style {style!r}: use one of {STYLES}")
    grey = to_grey(image)
    # Digits are strokes: faint grey is paper grain. Clothes have dark regions that are
    # still the object, so only the faintest noise is dropped.
    ink = _ink_map(grey, noise_floor=0.15 if style == "digit" else 0.04)
    if style == "digit":
        out = _mnist_layout(ink)
    else:
        out = _fashion_layout(ink)
    return torch.from_numpy(out).unsqueeze(0)


def to_grey(image) -> np.ndarray:
    """Any picture -> float32 (H, W) grey in [0, 1], shrunk to at most WORKING_SIZE."""
    if isinstance(image, np.ndarray):
        image = _array_to_pil(image)
    if not isinstance(image, Image.Image):
        raise TypeError(f"expected a PIL image or numpy array, got {type(image).__name__}")
    if getattr(image, "n_frames", 1) > 1:
        image.seek(0)  # animated: the first frame stands for the picture
    image = _flatten_alpha(image)
    grey = _mode_to_grey(image)
    height, width = grey.shape
    if max(height, width) > WORKING_SIZE:
        scale = WORKING_SIZE / max(height, width)
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        # BOX averages every source pixel: thin strokes fade instead of vanishing.
        grey = np.asarray(Image.fromarray(grey, mode="F").resize(size, Image.Resampling.BOX))
    return np.clip(grey, 0.0, 1.0).astype(np.float32)


def _array_to_pil(array: np.ndarray) -> Image.Image:
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)):
        raise ValueError(f"expected an image array (H, W), (H, W, 3) or (H, W, 4), got shape {array.shape}")
    if array.size == 0:
        raise ValueError("the image is empty (0 pixels)")
    if array.dtype == np.uint8:
        return Image.fromarray(array)
    if array.dtype == np.uint16:
        scaled = (array.astype(np.float32) / 65535.0 * 255.0).round().astype(np.uint8)
        return Image.fromarray(scaled)
    if np.issubdtype(array.dtype, np.floating) or array.dtype == bool:
        values = np.nan_to_num(array.astype(np.float32), nan=0.0, posinf=1.0, neginf=0.0)
        return Image.fromarray((np.clip(values, 0, 1) * 255).round().astype(np.uint8))
    raise ValueError(f"unsupported image array dtype {array.dtype}")


def _flatten_alpha(image: Image.Image) -> Image.Image:
    """Lay a transparent picture on a background that contrasts with its ink."""
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode not in ("RGBA", "LA", "PA"):
        return image
    rgba = np.asarray(image.convert("RGBA"), dtype=np.float32) / 255.0
    alpha = rgba[:, :, 3:4]
    luminance = rgba[:, :, :3] @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    opaque = alpha[:, :, 0] > 0.5
    # Dark strokes on a transparent layer go on white, light strokes on black.
    ink_is_dark = opaque.any() and luminance[opaque].mean() < 0.5
    background = 1.0 if ink_is_dark else 0.0
    composite = luminance[:, :, None] * alpha + background * (1 - alpha)
    return Image.fromarray(composite[:, :, 0], mode="F")


def _mode_to_grey(image: Image.Image) -> np.ndarray:
    if image.mode == "F":
        grey = np.asarray(image, dtype=np.float32)
        top = grey.max() if grey.size else 1.0
        return grey / top if top > 1.0 else grey
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N"):
        grey = np.asarray(image, dtype=np.float32)
        # 16-bit pictures hold 0..65535; plain 32-bit ones hold whatever range they hold.
        top = 65535.0 if image.mode.startswith("I;16") or grey.max() > 255 else 255.0
        return grey / top
    if image.mode == "1":
        return np.asarray(image.convert("L"), dtype=np.float32) / 255.0
    # RGB, CMYK, YCbCr, HSV, P, L... Pillow knows how to make all of these grey.
    return np.asarray(image.convert("L"), dtype=np.float32) / 255.0


def _ink_map(grey: np.ndarray, *, noise_floor: float) -> np.ndarray:
    """Grey picture -> ink in [0, 1] on 0 background, normalised for contrast."""
    border = np.concatenate([grey[0, :], grey[-1, :], grey[:, 0], grey[:, -1]])
    if float(np.median(border)) > 0.5:
        # Dark ink on lit paper: what the camera sees is the lamp's light times how much each spot reflects, so
        # the ink is the share of the paper's light (fitted under every pixel) that a spot swallows. A lamp's
        # falloff across the sheet is then no grey wedge of "ink", and strokes weigh the same in the dim corner.
        paper = np.maximum(1.0 - paper_level(1.0 - grey), 1e-3)
        ink = (paper - grey) / paper
    else:
        # Light ink on a dark ground (a canvas): the ground's level, exactly 0 on a canvas, comes off.
        ink = grey - paper_level(grey)
    peak = float(ink.max())
    if peak < MIN_CONTRAST:
        raise BlankImageError("the picture is blank: draw or upload something with visible ink")
    ink = np.clip(ink / peak, 0.0, 1.0)
    ink[ink < noise_floor] = 0.0
    ink = _without_specks(ink)
    if (ink > 0.5).mean() < MIN_INK_FRACTION:
        raise BlankImageError("the picture is nearly blank: the ink is too small or too faint to read")
    return ink.astype(np.float32)


# Paper: what lies within this much of the fitted surface (or PAPER_SPREAD median deviations, if the paper is grainier).
PAPER_TOLERANCE = 0.04
PAPER_SPREAD = 3.0


def paper_level(ink: np.ndarray, *, rounds: int = 3) -> np.ndarray:
    """The background's level under each pixel of ``ink`` (H, W; background dark, ink bright): a smooth quadratic
    surface a + bx + cy + dx^2 + exy + fy^2, which is how a lamp's light falls across a sheet (a gradient, a
    vignette). Fitted by least squares first to the picture's border, which is paper, then to every pixel near
    the fit (the paper seen through the middle too), so the ink and a large object inside never pull it up.
    On a canvas (background exactly 0) it is exactly 0."""
    height, width = ink.shape
    terms = _surface_terms(height, width)
    values = ink.reshape(-1).astype(np.float64)
    band = max(1, min(height, width) // 20)
    paper = np.zeros(ink.shape, dtype=bool)
    paper[:band, :] = paper[-band:, :] = paper[:, :band] = paper[:, -band:] = True
    paper = paper.reshape(-1)
    fitted = np.zeros_like(values)
    for _ in range(rounds):
        if paper.sum() < 12:
            break
        if not values[paper].any():
            fitted[:] = 0.0     # a canvas: the paper is exactly 0, and so is the fit
        else:
            # The 6x6 normal equations: the live Draw tab fits every stroke's canvas, and a least-squares solve
            # over all of its pixels took ~30 ms of the ~50 ms an answer may take (py-spy of the class bench).
            weighted = terms[paper]
            coefficients = np.linalg.lstsq(weighted.T @ weighted, weighted.T @ values[paper], rcond=None)[0]
            fitted = terms @ coefficients
        residual = values - fitted
        spread = float(np.median(np.abs(residual[paper])))
        # ink lies above the paper; what is near or below the fit is paper (grain, shadows of the fibre)
        paper = residual < max(PAPER_TOLERANCE, PAPER_SPREAD * spread)
    return fitted.reshape(height, width).astype(np.float32)


@functools.lru_cache(maxsize=8)
def _surface_terms(height: int, width: int) -> np.ndarray:
    """(H*W, 6) float64: 1, x, y, x^2, xy, y^2 at each pixel, x and y in [-0.5, 0.5] (pictures of one size come
    again and again: the canvas)."""
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float64)
    x, y = cols / max(width - 1, 1) - 0.5, rows / max(height - 1, 1) - 0.5
    terms = np.stack([np.ones_like(x), x, y, x * x, x * y, y * y], -1).reshape(-1, 6)
    terms.flags.writeable = False
    return terms


# A patch of ink smaller than this share of the largest one is a speck (paper grain, dust, a crumb), not a stroke.
SPECK_SHARE = 0.03


def _without_specks(ink: np.ndarray) -> np.ndarray:
    """Ink with the specks removed: patches (8-connected) far smaller than the largest, which would otherwise
    stretch the crop around the digit and shrink it off-centre."""
    from scipy import ndimage

    labels, count = ndimage.label(ink > 0, structure=np.ones((3, 3), dtype=bool))
    if count <= 1:
        return ink
    areas = np.bincount(labels.ravel())[1:]
    keep = np.concatenate([[False], areas >= max(4, SPECK_SHARE * areas.max())])
    return np.where(keep[labels], ink, 0.0).astype(np.float32)


def _crop_to_ink(ink: np.ndarray) -> np.ndarray:
    rows = np.flatnonzero(ink.max(axis=1) > 0)
    cols = np.flatnonzero(ink.max(axis=0) > 0)
    return ink[rows[0]: rows[-1] + 1, cols[0]: cols[-1] + 1]


def _resize(array: np.ndarray, width: int, height: int) -> np.ndarray:
    picture = Image.fromarray(array.astype(np.float32), mode="F")
    # LANCZOS on a float image gives the anti-aliased grey edges MNIST has.
    return np.asarray(picture.resize((max(1, width), max(1, height)), Image.Resampling.LANCZOS))


def _stroke_width(ink: np.ndarray) -> float:
    """Rough stroke width in pixels: twice the ink area over its outline length."""
    solid = ink > 0.5
    area = solid.sum()
    if area == 0:
        return 1.0
    padded = np.pad(solid, 1)
    interior = padded[1:-1, 1:-1] & padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:]
    outline = max(1, area - interior.sum())
    return float(2.0 * area / outline)


def _normalise_stroke(ink: np.ndarray, scale: float) -> np.ndarray:
    """Thicken thin strokes and thin thick ones so they end up MNIST-wide after scaling."""
    target = DIGIT_STROKE_WIDTH / scale  # wanted width in source pixels
    width = _stroke_width(ink)
    picture = Image.fromarray(ink, mode="F")
    if width < 0.6 * target:
        size = min(2 * int(round((target - width) / 2)) + 1, 15)
        if size >= 3:
            picture = picture.filter(ImageFilter.MaxFilter(size))
    elif width > 2.2 * target:
        size = min(2 * int(round((width - 1.5 * target) / 4)) + 1, 15)
        if size >= 3:
            picture = picture.filter(ImageFilter.MinFilter(size))
    return np.asarray(picture, dtype=np.float32)


def _mnist_layout(ink: np.ndarray) -> np.ndarray:
    ink = _crop_to_ink(ink)
    height, width = ink.shape
    scale = 20.0 / max(height, width)
    ink = _crop_to_ink(_normalise_stroke(np.pad(ink, 8), scale)) if min(height, width) > 0 else ink
    height, width = ink.shape
    scale = 20.0 / max(height, width)
    small = np.clip(_resize(ink, round(width * scale), round(height * scale)), 0.0, None)
    total = small.sum()
    if total <= 0:
        raise BlankImageError("the picture is nearly blank: the ink is too small or too faint to read")
    rows, cols = np.indices(small.shape)
    centre_row = (rows * small).sum() / total
    centre_col = (cols * small).sum() / total
    # Paste on a big canvas so any shift stays inside, then cut the 28x28 window.
    canvas = np.zeros((84, 84), dtype=np.float32)
    top = int(round(42 - centre_row))
    left = int(round(42 - centre_col))
    canvas[top: top + small.shape[0], left: left + small.shape[1]] = small
    out = canvas[28:56, 28:56]
    return np.clip(out / max(out.max(), 1e-6), 0.0, 1.0).astype(np.float32)


def _fashion_layout(ink: np.ndarray) -> np.ndarray:
    ink = _crop_to_ink(ink)
    height, width = ink.shape
    scale = 28.0 / max(height, width)
    new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
    small = np.clip(_resize(ink, new_w, new_h), 0.0, None)
    out = np.zeros((28, 28), dtype=np.float32)
    top, left = (28 - new_h) // 2, (28 - new_w) // 2
    out[top: top + new_h, left: left + new_w] = small
    return np.clip(out / max(out.max(), 1e-6), 0.0, 1.0).astype(np.float32)


# --------------------------------------------------------------- uploads

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_UPLOAD_PIXELS = 50_000_000   # a 48-megapixel phone photo passes; 9000x9000 does not


def open_picture(path, *, max_bytes: int = MAX_UPLOAD_BYTES, max_pixels: int = MAX_UPLOAD_PIXELS) -> Image.Image:
    """Open an uploaded file as a picture, checking it before decoding it.

    Raises ValueError with a message for the user: too big, not a picture, damaged.
    Only the first frame of an animation is used. JPEGs are decoded at reduced size.
    """
    import os

    from PIL import UnidentifiedImageError

    size = os.path.getsize(path)
    if size > max_bytes:
        raise ValueError(f"the file is {size / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.0f} MB")
    if size == 0:
        raise ValueError("the file is empty")
    try:
        picture = Image.open(path)
    except UnidentifiedImageError:
        raise ValueError("that file is not a picture this app can read (PNG, JPEG, GIF, BMP, WebP, TIFF)") from None
    except Image.DecompressionBombError:
        raise ValueError(f"the picture is too large; the limit is {max_pixels / 1e6:.0f} megapixels") from None
    width, height = picture.size
    if width * height > max_pixels:
        picture.close()
        raise ValueError(f"the picture is {width}x{height} ({width * height / 1e6:.0f} megapixels); "
                         f"the limit is {max_pixels / 1e6:.0f}: make it smaller and upload it again")
    if width < 1 or height < 1:
        raise ValueError("the picture has no pixels")
    try:
        if getattr(picture, "n_frames", 1) > 1:
            picture.seek(0)
        if picture.format == "JPEG":
            picture.draft("L", (WORKING_SIZE * 2, WORKING_SIZE * 2))  # decode at 1/2..1/8 scale: fast
        picture.load()
    except (OSError, SyntaxError, ValueError) as exc:
        raise ValueError(f"the picture is damaged or truncated ({exc})") from None
    return picture
