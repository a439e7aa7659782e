"""The bad files the torture catalogue uploads, each built on demand (FILES[name]): huge, lying, 16-bit, palette,
animated pictures, zip bombs and slips, links, and checkpoints that try to run code when unpickled."""
from __future__ import annotations

import io
import json
import os
import pickle
import shutil
import zipfile
from pathlib import Path

import numpy as np


def drawn_digit(size: int = 112) -> np.ndarray:
    """A 7 drawn white on black, uint8 (size, size): what a student's canvas holds."""
    from PIL import Image, ImageDraw

    picture = Image.new("L", (size, size), 0)
    ImageDraw.Draw(picture).line([(size * 0.27, size * 0.18), (size * 0.71, size * 0.18), (size * 0.4, size * 0.85)],
                                 fill=255, width=max(2, size // 14))
    return np.asarray(picture)


def _png(picture) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


def _digit_picture(size=200, mode="L"):
    from PIL import Image

    return Image.fromarray(255 - np.asarray(Image.fromarray(drawn_digit(size)))).convert(mode)


def _plain(path: Path, size: tuple[int, int], mode: str, colour) -> None:
    from PIL import Image

    Image.new(mode, size, colour).save(path, format="PNG")


def _build_huge(path: Path):
    from PIL import Image

    Image.new("1", (9000, 9000), 1).save(path)


def _build_liar(path: Path):
    """A tiny PNG whose header says 100000 x 100000: decoding it would need 10 GB."""
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 1000))
                     + chunk(b"IEND", b""))


def _build_sixteen(path: Path):
    from PIL import Image

    array = np.asarray(_digit_picture()).astype(np.uint16) * 257
    Image.fromarray(array).save(path)   # uint16: mode I;16


def _build_palette(path: Path):
    from PIL import Image, ImageDraw

    picture = Image.new("P", (120, 120), 0)
    picture.putpalette([255, 255, 255, 0, 0, 0] + [0, 0, 0] * 254)
    ImageDraw.Draw(picture).line([(30, 20), (90, 20), (50, 100)], fill=1, width=10)
    picture.info["transparency"] = 0
    picture.save(path, transparency=0)


def _build_animated(path: Path):
    frames = [_digit_picture(120, "L").rotate(angle, fillcolor=255) for angle in (0, 10, 20)]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)


def _build_bomb(path: Path):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("images/0/zeros.bin", "w", force_zip64=True) as member:
            block = b"\x00" * (1 << 20)
            for _ in range(260):           # 260 MB of zeros, about 250 kB compressed
                member.write(block)


def _build_slip(path: Path):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("../../evil.txt", "escaped")


def _build_link(path: Path):
    with zipfile.ZipFile(path, "w") as archive:
        info = zipfile.ZipInfo("data/link")
        info.external_attr = (0o120777 << 16)
        archive.writestr(info, "/etc/passwd")


def _build_big(path: Path):
    path.write_bytes(_png(_digit_picture()) + os.urandom(25 * 1024 * 1024))


FILES = {
    "digit.png": lambda p: p.write_bytes(_png(_digit_picture())),
    "empty.png": lambda p: p.write_bytes(b""),
    "one.png": lambda p: _plain(p, (1, 1), "L", 0),
    "huge.png": _build_huge,
    "liar.png": _build_liar,
    "sixteen.png": _build_sixteen,
    "cmyk.jpg": lambda p: _digit_picture(160, "CMYK").save(p, format="JPEG"),
    "palette.png": _build_palette,
    "animated.gif": _build_animated,
    "bilevel.tif": lambda p: _digit_picture(100, "1").save(p, format="TIFF"),
    "white.png": lambda p: _plain(p, (300, 300), "RGB", "white"),
    "truncated.png": lambda p: p.write_bytes(_png(_digit_picture(400, "RGB"))[:1500]),
    "homework.png": lambda p: p.write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\n" + b"0" * 500),
    "tool.png": lambda p: p.write_bytes(b"\x7fELF\x02\x01\x01" + b"\x00" * 900),
    "drawing.svg": lambda p: p.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="28" height="28">'
                                          '<path d="M5 5 L20 5 L10 25" stroke="black"/></svg>'),
    "big.png": _build_big,
    "fake.zip": lambda p: p.write_bytes(b"PK\x03\x04 this is not really a zip"),
    "bomb.zip": _build_bomb,
    "slip.zip": _build_slip,
    "link.zip": _build_link,
}


def build_file(folder: Path, name: str) -> Path:
    path = Path(folder) / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        FILES[name](path)
    return path


class _Exploit:
    """Unpickling this creates a marker file: proof that code ran."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def pickle_bomb(marker: Path) -> bytes:
    """A pickle that, if anything ever unpickled it, would create ``marker``."""
    return pickle.dumps({"state_dict": _Exploit(str(marker))})


def plant_broken_checkpoints(checkpoints_dir: Path, marker: Path) -> None:
    """Add three broken checkpoints next to the real ones: weights that do not match the
    config, a config that is not JSON, and weights that are a pickle carrying code."""
    source = Path(checkpoints_dir) / "mnist-vae"
    mismatch = Path(checkpoints_dir) / "mnist-zmismatch"
    shutil.copytree(source, mismatch, dirs_exist_ok=True)
    config = json.loads((mismatch / "config.json").read_text())
    config["model_config"]["latent_dim"] = 7
    (mismatch / "config.json").write_text(json.dumps(config))
    bad_json = Path(checkpoints_dir) / "mnist-zbadjson"
    shutil.copytree(source, bad_json, dirs_exist_ok=True)
    (bad_json / "config.json").write_text("{this is not json")
    evil = Path(checkpoints_dir) / "mnist-zpickle"
    shutil.copytree(source, evil, dirs_exist_ok=True)
    (evil / "model.safetensors").write_bytes(pickle_bomb(marker))
    (evil / "model.pt").write_bytes(pickle_bomb(marker))
    (evil / "pytorch_model.bin").write_bytes(pickle_bomb(marker))
