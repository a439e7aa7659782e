"""A class taken home: its drawings as PNG files, a CSV of who drew what and how it scored, and the board as a PNG.

The CSV is opened in spreadsheets, where a cell starting with = + - @ is a formula: every text cell that
starts so (names, readings, challenges) gets a leading ' (OWASP's advice on CSV injection).
"""
from __future__ import annotations

import csv
import io
import math
import re
import zipfile
from datetime import datetime, timezone

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ..images import png_bytes, upscale
from .store import Board, Drawing

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_COLUMNS = ("drawing", "student", "time_utc", "reading", "probability", "rebuild_error", "map_x", "map_y",
               "emptiness", "challenge", "score", "file")
TILE_SCALE = 4


def safe_cell(text: str) -> str:
    """A text cell a spreadsheet shows as text, never runs as a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def utc_time(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).isoformat(timespec="seconds")


def file_name(drawing: Drawing, name: str) -> str:
    """drawings/00042-ada.png: the drawing's number, then the name in letters, digits, - and _ only."""
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-")[:24] or "student"
    return f"drawings/{drawing.id:05d}-{stem}.png"


def drawings_csv(drawings: list[Drawing], names: dict[int, str], class_names: tuple[str, ...]) -> bytes:
    """One row per drawing, oldest first; UTF-8 with a byte-order mark so spreadsheets read the names right."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for drawing in drawings:
        name, reading = names[drawing.student_id], drawing.reading
        prompt = drawing.challenge.prompt(class_names) if drawing.challenge is not None else ""
        writer.writerow([drawing.id, safe_cell(name), utc_time(drawing.created), safe_cell(reading.label),
                         f"{reading.probability:.4f}", f"{reading.rebuild_error:.5f}", f"{reading.map_x:.4f}",
                         f"{reading.map_y:.4f}", f"{reading.emptiness:.4f}", safe_cell(prompt),
                         "" if drawing.score is None else f"{drawing.score:.4f}", file_name(drawing, name)])
    return out.getvalue().encode("utf-8-sig")


def _font(size: int):
    try:
        return ImageFont.load_default(size=size)   # Pillow >= 10.1: a bundled TrueType font, no file needed
    except TypeError:
        return ImageFont.load_default()


def _fit(draw: ImageDraw.ImageDraw, text: str, font, width: int) -> str:
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "...", font=font) > width:
        text = text[:-1]
    return text + "..."


def board_png(board: Board, class_names: tuple[str, ...]) -> bytes:
    """The board as one picture: each student's latest drawing (28x28 scaled x4) with their name, the
    reading and the score under the current challenge; a heading with the class code and the challenge."""
    font, small = _font(14), _font(12)
    side, pad, text_h = 28 * TILE_SCALE, 10, 36
    count = max(1, len(board.students))
    columns = min(10, math.ceil(math.sqrt(count)) + 1)
    rows = math.ceil(count / columns)
    head = 40
    width, height = max(640, columns * (side + pad) + pad), head + rows * (side + text_h + pad) + pad
    picture = Image.new("L", (width, height), 30)
    draw = ImageDraw.Draw(picture)
    info = board.info
    heading = f"class {info.code}: {board.total_students} student{'' if board.total_students == 1 else 's'}"
    if info.challenge is not None:
        heading += f" - {info.challenge.prompt(class_names)}"
    draw.text((pad, 12), _fit(draw, heading, font, width - 2 * pad), fill=255, font=font)
    for index, student in enumerate(board.students):
        row, column = divmod(index, columns)
        left, top = pad + column * (side + pad), head + row * (side + text_h + pad)
        drawing = board.latest.get(student.id)
        tile = upscale(drawing.picture, TILE_SCALE) if drawing is not None else np.full((side, side), 60, np.uint8)
        picture.paste(Image.fromarray(tile), (left, top))
        draw.text((left, top + side + 3), _fit(draw, student.name, small, side), fill=255, font=small)
        if drawing is not None:
            line = f"{drawing.reading.label} {drawing.reading.probability:.0%}"
            best = board.best.get(student.id)
            if best is not None:
                line += f" - {best[1]:.2f}"
            draw.text((left, top + side + 19), _fit(draw, line, small, side), fill=190, font=small)
    return png_bytes(np.asarray(picture))


def class_zip(board: Board, drawings: list[Drawing], names: dict[int, str], class_names: tuple[str, ...]) -> bytes:
    """drawings/*.png (28x28, as the models saw them), drawings.csv and board.png in one zip."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for drawing in drawings:
            archive.writestr(file_name(drawing, names[drawing.student_id]), png_bytes(drawing.picture))
        archive.writestr("drawings.csv", drawings_csv(drawings, names, class_names))
        archive.writestr("board.png", board_png(board, class_names))
    return buffer.getvalue()
