"""Build tests/data/handwriting.npz: digits written by people other than MNIST's writers, drawn as on the page's
canvas (white strokes on black, drawn at 112x112 and stored at 56x56), with stroke width, size and place spread
over what a person draws.

Sources (none of them MNIST):
- the UCI optical digits shipped with scikit-learn (1,797 digits by 43 writers, 8x8 grey), upscaled;
- Debian's handwriting fonts (fonts-dkg-handwriting, fonts-breip, fonts-bwht, fonts-femkeklaver, fonts-humor-sans,
  fonts-klee, fonts-rufscript), each digit drawn several times at random sizes, places, slants and stroke widths.

    apt-get install -y fonts-dkg-handwriting fonts-breip fonts-bwht fonts-femkeklaver fonts-humor-sans fonts-klee \\
        fonts-rufscript && python tools/make_handwriting.py

Only this script needs the fonts and scikit-learn; the tests read the file it writes.
"""
from __future__ import annotations

import glob
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

SIZE = 112
STORED = 56            # stored at half the canvas size: the preprocessing takes any size, and the file stays small
OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "handwriting.npz"
FONT_GLOBS = ["/usr/share/fonts/truetype/fifthhorseman/*.ttf", "/usr/share/fonts/truetype/breip/*.ttf",
              "/usr/share/fonts/opentype/bwht/*.otf", "/usr/share/fonts/truetype/femkeklaver/*.ttf",
              "/usr/share/fonts/truetype/humor-sans/*.ttf", "/usr/share/fonts/truetype/klee/*.ttf",
              "/usr/share/fonts/truetype/rufscript/*.ttf"]
PER_FONT_DIGIT = 6


def place(glyph: Image.Image, rng) -> np.ndarray:
    """Put a white-on-black glyph on the canvas at a random size (a third of it to nearly all) and place."""
    box = glyph.getbbox()
    if box is None:
        raise ValueError("empty glyph")
    glyph = glyph.crop(box)
    target = int(rng.integers(int(0.35 * SIZE), int(0.9 * SIZE)))
    scale = target / max(glyph.size)
    glyph = glyph.resize((max(1, round(glyph.width * scale)), max(1, round(glyph.height * scale))), Image.LANCZOS)
    canvas = Image.new("L", (SIZE, SIZE), 0)
    left = int(rng.integers(0, SIZE - glyph.width + 1))
    top = int(rng.integers(0, SIZE - glyph.height + 1))
    canvas.paste(glyph, (left, top))
    return np.asarray(canvas, dtype=np.uint8)


def pen_glyph(font: ImageFont.FreeTypeFont, digit: int, rng) -> Image.Image:
    """A digit of ``font``, white on a black 320x320 square, its stroke as a pen might draw it: the font's own,
    thickened (stroke_width) or thinned (a min filter) as pens differ."""
    glyph = Image.new("L", (320, 320), 0)
    width = int(rng.integers(0, 7))
    ImageDraw.Draw(glyph).text((80, 40), str(digit), fill=255, font=font, stroke_width=width, stroke_fill=255)
    if rng.random() < 0.25:
        glyph = glyph.filter(ImageFilter.MinFilter(5))
    return glyph


def from_optdigits(rng) -> tuple[list, list, list]:
    from sklearn.datasets import load_digits

    digits = load_digits()
    images, labels, sources = [], [], []
    for picture, label in zip(digits.images, digits.target):
        big = Image.fromarray((picture / 16 * 255).astype(np.uint8)).resize((64, 64), Image.BICUBIC)
        images.append(place(big, rng))
        labels.append(int(label))
        sources.append("uci-optdigits")
    return images, labels, sources


def from_fonts(rng) -> tuple[list, list, list]:
    images, labels, sources = [], [], []
    fonts = sorted(path for pattern in FONT_GLOBS for path in glob.glob(pattern))
    if not fonts:
        raise SystemExit("no handwriting fonts found: apt-get install them first (see the docstring)")
    for path in fonts:
        font = ImageFont.truetype(path, 160)
        for digit in range(10):
            for _ in range(PER_FONT_DIGIT):
                glyph = pen_glyph(font, digit, rng)
                glyph = glyph.rotate(float(rng.uniform(-12, 12)), resample=Image.BICUBIC)
                try:
                    images.append(place(glyph, rng))
                except ValueError:
                    continue
                labels.append(digit)
                sources.append(Path(path).stem)
    return images, labels, sources


def main() -> None:
    rng = np.random.default_rng(0)
    parts = [from_optdigits(rng), from_fonts(rng)]
    images = np.stack([np.asarray(Image.fromarray(im).resize((STORED, STORED), Image.BOX)) for part in parts
                       for im in part[0]])
    labels = np.array([y for part in parts for y in part[1]], dtype=np.int64)
    sources = np.array([s for part in parts for s in part[2]])
    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT, images=images, labels=labels, sources=sources)
    print(f"{len(labels)} digits ({len(set(sources))} sources) -> {OUT} ({OUT.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
