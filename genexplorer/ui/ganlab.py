"""Toy lab: a tiny GAN, a tiny diffusion model and a tiny flow learn the same 1-D or 2-D toy data live in the page
(genexplorer.toy, genexplorer.ganlab).

Reset (a Gradio event) makes the page's toys on the server; from then on the page itself asks the live route
/genexplorer/live/lab for frames (play, one D step, one G step, a look at new sampling steps) and draws each
answer on its canvases (ganlab_assets.py): the lecture's picture of the game, the diffusion's and the flow's
walks from noise to data, and the curves."""
from __future__ import annotations

import gradio as gr

from .. import ganlab, toy
from . import common
from .ganlab_assets import LAB_CSS, LAB_HTML, LAB_JS  # noqa: F401 - LAB_CSS: the page's stylesheet takes it from here

DATA_CHOICES = [("a Gaussian (1-D)", "gaussian_1d"), ("two Gaussians (1-D)", "two_gaussians_1d"),
                ("far from the start: disjoint supports (1-D)", "disjoint_1d"), ("a ring of 8 (2-D)", "ring_2d"),
                ("two moons (2-D)", "moons_2d"), ("your own: paint points (2-D)", "drawn_2d")]
LOSS_CHOICES = [("minimax: log(1 - D(G(z)))", "minimax"), ("non-saturating: -log D(G(z))", "nonsaturating"),
                ("WGAN, weight clipping (RMSprop)", "wgan_clip"), ("WGAN-GP, gradient penalty", "wgan_gp")]
FIRST_LESSON = next(iter(toy.PRESETS))

INTRO = """Three small learners, the same data you can see. In the **GAN**, two networks play a game: **D** (or
the WGAN's critic) scores points, **G** moves its samples, guided only by D's gradient. Beside it a **diffusion**
model learns to predict the noise in noised points, and a **flow** learns the velocity along straight lines from
noise to data; both then walk fresh noise to data in a few **sampling steps**. Pick a lesson, press **Play**, and
watch: does G reach the data, or collapse onto some of its modes? Are the diffusion's walks curved and the flow's
nearly straight? With few steps, which still lands on the data? Each frame trains a few steps on the server; the
curves are the whole run."""

# The presenter view's intro (the teacher says the rest), above the controls: the game and its curves fit 720 px.
INTRO_SHORT = """The same data, three learners: a **GAN**, a **diffusion** model and a **flow**. Pick a lesson, press **Play**."""

LEGEND = """**GAN, 1-D**: black dots, the data's density; green, the generator's; blue dashes, D(x) (the critic's
score, rescaled, for a WGAN); below, lines from z to G(z). **GAN, 2-D**: green points are real, purple are G's; the
background is D (green: "real", purple: "fake"; the critic's score for a WGAN); grey lines, the image of a regular
grid of z; arrows, where G's loss pushes each fake point. **Diffusion and flow**: the same data (green points; in
1-D black dots, its density); blue (diffusion) or orange (flow), samples walked from noise in the chosen number of
steps (in 1-D their density); lines, 16 of the walks from their noise (grey ring) to their sample (dot), drawn
against t in 1-D (noise at the bottom, data at the top).
*Bending* is 0 for straight walks at constant speed (Liu et al. 2023's straightness). **Your own data**: pick it,
paint points on the GAN's plane (Clear removes them), then Reset."""

PAINT_FIRST = "Paint some points on the plane (click or drag), then press **Reset**."


@common.user_errors
def on_reset(data: str, loss: str, d_steps, lr_d, lr_g, clip, gp_weight, seed, points: str, previous: str | None):
    """A new toy with these settings (the page's previous one is dropped) -> (toy id, message, toy id kept per page).
    The page then asks the live route for frames. Your own data with nothing painted yet: no toy, and a hint."""
    if data == "drawn_2d" and not _has_points(points):
        return "", PAINT_FIRST, previous
    made = ganlab.make_toy(data, loss, d_steps=d_steps, lr_d=lr_d, lr_g=lr_g, clip=clip, gp_weight=gp_weight,
                           seed=seed, points=points)
    held = common.lab_toys.add(made, replaces=previous)
    s = made.settings
    return (held.id, f"New toys on {dict((v, k) for k, v in DATA_CHOICES)[s.data]}: a GAN ({s.loss} loss, k = "
                     f"{s.d_steps} D steps per G step, learning rates D {s.lr_d:g} / G {s.lr_g:g}), a diffusion model "
                     "and a flow. Press **Play**, or step one GAN player at a time.", held.id)


def _has_points(points) -> bool:
    return isinstance(points, str) and points.strip() not in ("", "[]")


@common.user_errors
def on_open(data: str, loss: str, d_steps, lr_d, lr_g, clip, gp_weight, seed, points: str, previous: str | None):
    """The tab opened: the page's toy if it is still there (coming back keeps the game), else a new one."""
    try:
        return common.lab_toys.get(previous).id, gr.update(), previous
    except ganlab.ExploreError:
        return on_reset(data, loss, d_steps, lr_d, lr_g, clip, gp_weight, seed, points, None)


@common.user_errors
def on_lesson(name: str):
    """A lesson -> the GAN's controls (its sampling steps reach the page's slider in LESSON_JS)."""
    s = ganlab.preset_settings(name)
    return s["data"], s["loss"], s["d_steps"], s["lr_d"], s["lr_g"], s["clip"], s["gp_weight"]


def build(tab: gr.Tab) -> None:
    gr.Markdown(INTRO, elem_classes=["ge-lab-intro"])
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=280):
            gr.Markdown(INTRO_SHORT, elem_classes=["ge-lab-intro-short"], elem_id="ge-lab-intro-short")
            lesson = gr.Dropdown(list(toy.PRESETS), value=FIRST_LESSON, label="Lesson", elem_id="ge-lab-lesson")
            first = ganlab.preset_settings(FIRST_LESSON)
            data = gr.Radio(DATA_CHOICES, value=first["data"], label="Data", elem_id="ge-lab-data")
            loss = gr.Radio(LOSS_CHOICES, value=first["loss"], label="Loss", elem_id="ge-lab-loss")
            d_steps = gr.Slider(1, 20, value=first["d_steps"], step=1, label="k: D steps per G step", elem_id="ge-lab-k")
            with gr.Row():
                lr_d = gr.Number(first["lr_d"], label="D learning rate", minimum=1e-6, maximum=1, elem_id="ge-lab-lr-d")
                lr_g = gr.Number(first["lr_g"], label="G learning rate", minimum=1e-6, maximum=1, elem_id="ge-lab-lr-g")
            with gr.Row():
                clip = gr.Number(first["clip"], label="WGAN clip value", minimum=1e-4, maximum=10, elem_id="ge-lab-clip")
                gp_weight = gr.Number(first["gp_weight"], label="Gradient penalty weight", minimum=0, maximum=1000,
                                      elem_id="ge-lab-gp")
            seed = gr.Number(0, precision=0, minimum=0, label="Seed", elem_id="ge-lab-seed")
            reset = gr.Button("Reset (new toys with these settings)", variant="primary", elem_id="ge-lab-reset")
            message = gr.Markdown(elem_id="ge-lab-message")
        with gr.Column(scale=3):
            gr.HTML(LAB_HTML, js_on_load=LAB_JS, elem_id="ge-lab", apply_default_css=False, padding=False)
            gr.Markdown(LEGEND)
    points = gr.Textbox(elem_id="ge-lab-points", elem_classes=["ge-hidden"], show_label=False, container=False)
    toy_id = gr.Textbox(elem_id="ge-lab-toy", elem_classes=["ge-hidden"], show_label=False, container=False)
    kept = gr.State(None)

    watch = "(id) => { if (window.geLab) window.geLab.start(id); return []; }"
    # a lesson also sets the diffusion's and the flow's sampling steps (the page's own slider) before the first frame
    lesson_watch = "(id, name) => { if (window.geLab) { window.geLab.lesson(name); window.geLab.start(id); } return []; }"
    settings = [data, loss, d_steps, lr_d, lr_g, clip, gp_weight, seed, points, kept]
    lesson.change(on_lesson, [lesson], [data, loss, d_steps, lr_d, lr_g, clip, gp_weight], api_name="lab_lesson",
                  show_progress="hidden").success(on_reset, settings, [toy_id, message, kept], show_progress="hidden"
                                                  ).success(None, [toy_id, lesson], None, js=lesson_watch)
    gr.on([reset.click, data.input, loss.input], on_reset, settings, [toy_id, message, kept],
          api_name="lab_reset", show_progress="hidden").success(None, [toy_id], None, js=watch)
    tab.select(on_open, settings, [toy_id, message, kept], show_progress="hidden").success(None, [toy_id], None, js=watch)
