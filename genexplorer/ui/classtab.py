"""Class mode in the page: the teacher's Class tab (the board) and the students' class bar (issue 23).

Both are plain HTML driven by JavaScript that talks to the class JSON API (``class_routes.py``, README "Class mode");
the only Gradio event is the board's map, drawn by the Latent map tab's own plotting (``maps.figure``).

- The class bar sits above the tabs, hidden until the page is opened as ``/?class=CODE``. Its script (``CLASS_JS``,
  run once per page) is the class mode's one piece of page-wide machinery, ``window.geClass``: the API calls, the
  student's seat (join, share each pen-up of the Draw canvas, poll the class state, follow the teacher) and the
  teacher's follow-me pusher, which keeps pushing while the teacher is on any tab.
- The Class tab (``BOARD_JS``) starts a class, shows its code, join link and QR code, and polls the board: the
  students' latest drawings, the ranking under a challenge, the spotlight, moderation, follow-me, end and export.

Tokens stay in the browser's localStorage (``ge-class-teacher:CODE``, ``ge-class-student:CODE``), so a reload keeps
the teacher's control and the student's seat. Names arrive HTML-escaped from the API and are inserted as such.
"""
from __future__ import annotations

import html
import json

import gradio as gr
import plotly.graph_objects as go

from ..classmode import ClassError
from . import class_routes, common, maps
from .classtab_assets import BAR_HTML, BOARD_HTML, BOARD_JS, CLASS_CSS, CLASS_JS

# Poll intervals, measured (README, "Class mode"): a state request costs the server ~0.4 ms of CPU (60 students,
# 180 drawings), a board request ~8 ms; follow-me reaches a student within one state interval plus the page's own
# work (a tab switch, a model start), a drawing reaches the board within one board interval plus its reading.
STATE_POLL_MS = 600      # a following student's page asks for the class state (follow-me, challenge, spotlight, score)
STATE_IDLE_MS = 2000     # ... and a student's page that stepped away, or is hidden, only for challenge and spotlight
BOARD_POLL_MS = 700      # the teacher's board asks for the board while the Class tab is shown
RETRY_MS = 2000          # while the app does not answer (restarting): keep trying, say "reconnecting"
FOLLOW_CHECK_MS = 250    # the teacher's page compares its state with the last one pushed this often (and on input)
MAP_MIN_MS = 3000        # the map (a Gradio event drawing ~3000 points, ~0.4 s) is redrawn at most this often
LOCAL_HOSTS = ("127.0.0.1", "localhost", "[::1]", "::1")


def _script(template: str) -> str:
    """A script of classtab_assets with this module's settings in its %NAME% marks."""
    values = {"STATE_MS": STATE_POLL_MS, "STATE_IDLE_MS": STATE_IDLE_MS, "BOARD_MS": BOARD_POLL_MS,
              "RETRY_MS": RETRY_MS, "FOLLOW_CHECK_MS": FOLLOW_CHECK_MS, "MAP_MIN_MS": MAP_MIN_MS,
              "LOCAL_HOSTS": json.dumps(LOCAL_HOSTS), "DATASETS": json.dumps(common.DATASETS)}
    for name, value in values.items():
        template = template.replace(f"%{name}%", str(value))
    return template


def build_bar() -> None:
    """The students' class bar, above the tabs: hidden unless the page was opened as /?class=CODE."""
    gr.HTML(BAR_HTML, js_on_load=_script(CLASS_JS), elem_id="ge-class-bar", apply_default_css=False, padding=False)


def class_map(ask: str):
    """{"code", "token"} (the teacher's board asks) -> the VAE-2d's map of the class's dataset, drawn as the Latent
    map tab draws it, with each of the class's drawings as a star coloured by what the classifier reads."""
    try:
        request = json.loads(ask) if ask else None
    except ValueError:
        request = None
    if not isinstance(request, dict):
        raise gr.Error("the board's map request is malformed", print_exception=False)
    room = class_routes.default_room()
    try:
        board = room.board(request.get("code"), request.get("token"))
    except ClassError as exc:
        raise gr.Error(str(exc), print_exception=False) from None
    return _map_figure(room, board)


@common.user_errors
def _map_figure(room, board: dict) -> go.Figure:
    name, method = room.judges(board["dataset"]).map_source()
    fig = maps.figure(name, method, title=f"{name}: the class's drawings (stars) on the test set's map")
    names = {student["id"]: student["name"] for student in board["students"]}
    class_names = board["class_names"]
    stars = board["stars"]
    colours = [maps.COLOURS[class_names.index(star["label"]) % 10] if star["label"] in class_names else "#000"
               for star in stars]
    fig.add_trace(go.Scatter(
        x=[star["x"] for star in stars], y=[star["y"] for star in stars], mode="markers", name="the class",
        customdata=[star["drawing_id"] for star in stars],
        text=[f"{names.get(star['student_id'], 'a student')}: reads {html.escape(star['label'])}" for star in stars],
        hovertemplate="%{text}<extra></extra>",
        marker={"size": 17, "symbol": "star", "color": colours, "line": {"color": "black", "width": 1.5}}))
    return fig


def build() -> None:
    """The Class tab: start a class, project its QR code, watch the board, follow me, challenges, export."""
    gr.HTML(BOARD_HTML, js_on_load=_script(BOARD_JS), elem_id="ge-class-board", apply_default_css=False,
            padding=False)
    ask = gr.Textbox(elem_id="ge-class-map-ask", elem_classes=["ge-hidden"], show_label=False, container=False)
    plot = gr.Plot(elem_id="ge-class-map", label="The class on the latent map (click a star to spotlight it)")
    ask.change(class_map, ask, plot, api_name="class_map", trigger_mode="always_last", show_progress="hidden")
