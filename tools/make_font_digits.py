"""Build assets/font_digits.npz: extra training digits for the digit reader, drawn from handwriting and
print fonts that the handwriting test set (tools/make_handwriting.py) does NOT use, each glyph put through
the app's own preprocessing, so they look as a drawing does when the reader sees it.

Why: MNIST's writers were American; many people write a 1 with a flag and a foot, a 7 with a bar, a 9 with a
straight tail. The 4,500 shipped digits hold few of those, and no augmentation of them draws a flag.

    apt-get install -y fonts-sjfonts fonts-comic-neue fonts-dancingscript fonts-ecolier-court fonts-kristi \\
        fonts-kaushanscript fonts-yusei-magic fonts-kiloji fonts-leckerli-one fonts-lobster fonts-seto \\
        fonts-dejavu-core && python tools/make_font_digits.py

Only this script needs the fonts; training reads the file it writes (``--font-digits``).
"""
from __future__ import annotations

import glob
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageFont

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from genexplorer.preprocess import BlankImageError, preprocess  # noqa: E402
from make_handwriting import pen_glyph  # noqa: E402  (this folder: the same pen as the handwriting test's fonts)

OUT = ROOT / "assets" / "font_digits.npz"
FONT_GLOBS = ["/usr/share/fonts/truetype/sjfonts/*.ttf", "/usr/share/fonts/opentype/comic-neue/*.otf",
              "/usr/share/fonts/opentype/dancingscript/*.otf", "/usr/share/fonts/truetype/ecolier-court/*.ttf",
              "/usr/share/fonts/truetype/kristi/*.ttf", "/usr/share/fonts/opentype/kaushanscript/*.otf",
              "/usr/share/fonts/truetype/yusei-magic/*.ttf", "/usr/share/fonts/truetype/kiloji/*.ttf",
              "/usr/share/fonts/truetype/leckerli-one/*.ttf", "/usr/share/fonts/opentype/lobster/*.otf",
              "/usr/share/fonts/truetype/seto/*.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
              "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf"]
# The test set's fonts: never train on them.
TEST_FONT_DIRS = ("fifthhorseman", "breip", "bwht", "femkeklaver", "humor-sans", "klee", "rufscript")
PER_FONT_DIGIT = 24


def render(font: ImageFont.FreeTypeFont, digit: int, rng) -> np.ndarray | None:
    """One digit as a pen might draw it: the font's stroke thickened or thinned, turned and slanted a little."""
    glyph = pen_glyph(font, digit, rng)
    slant = float(rng.uniform(-0.25, 0.25))
    glyph = glyph.transform(glyph.size, Image.AFFINE, (1, slant, -slant * 160, 0, 1, 0), resample=Image.BICUBIC)
    glyph = glyph.rotate(float(rng.uniform(-12, 12)), resample=Image.BICUBIC)
    if glyph.getbbox() is None:
        return None
    scale = float(rng.uniform(0.3, 1.0))        # drawn small or large: the preprocessing frames it either way
    glyph = glyph.resize((max(8, round(320 * scale)),) * 2, Image.LANCZOS)
    try:
        picture = preprocess(np.asarray(glyph), style="digit")
    except BlankImageError:      # a hairline font drawn small: too faint to count as a drawing
        return None
    return (picture[0].numpy() * 255).round().astype(np.uint8)


def main() -> None:
    fonts = sorted(path for pattern in FONT_GLOBS for path in glob.glob(pattern))
    assert not any(part in path for path in fonts for part in TEST_FONT_DIRS), "a test font slipped in"
    if not fonts:
        raise SystemExit("no fonts found: apt-get install them first (see the docstring)")
    rng = np.random.default_rng(0)
    images, labels, sources = [], [], []
    for path in fonts:
        font = ImageFont.truetype(path, 160)
        for digit in range(10):
            for _ in range(PER_FONT_DIGIT):
                picture = render(font, digit, rng)
                if picture is None:
                    continue
                images.append(picture)
                labels.append(digit)
                sources.append(Path(path).stem)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT, x_train=np.stack(images), y_train=np.array(labels, dtype=np.int64),
                        sources=np.array(sources))
    print(f"{len(labels)} digits from {len(set(sources))} fonts -> {OUT} ({OUT.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
