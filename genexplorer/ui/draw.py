"""Draw tab: draw (or pick an example) and watch AE, VAE, CVAE and DAE rebuild it.

The handlers decode what the page sends and render what ``explore.answer_drawing`` (the event at a stroke's end)
or ``explore.answer_drawings`` (the live channel, while it goes on) answer; the work is there, done once."""
from __future__ import annotations

import gradio as gr
import numpy as np

from .. import explore
from ..batching import prepare_each
from ..canvas_payload import decode_payload
from . import common
from .canvas import CANVAS_HTML, CANVAS_JS

ROLES = explore.DRAWING_ROLES      # (role, title) of each picture, left to right
EMPTY_MESSAGE = "Draw in the black box (or pick an example below): the models rebuild what you draw as you draw it."
# Nothing drawn shows black squares, not empty frames: the live channel (live.py) paints
# into the pictures' <img> elements while a stroke goes on, so they must always exist.
BLANK28 = np.zeros((28, 28), np.uint8)   # the live channel's blank: the page scales its pictures up
BLANK = common.picture(BLANK28)


def render(answer: explore.DrawingAnswer) -> list:
    """An answer -> [what the models see (upscaled), the stored 28x28 picture, one picture per role, message]."""
    if answer.seen is None:
        return [BLANK, None, *[BLANK] * len(answer.roles), f"**{answer.blank}**" if answer.blank else EMPTY_MESSAGE]
    pictures = [BLANK if picture is None else common.picture(picture) for picture in answer.pictures]
    return [common.picture(answer.seen), answer.seen, *pictures, message(answer)]


def message(answer: explore.DrawingAnswer) -> str:
    """The table of errors and readings, then what the models with a likelihood say, then what is missing."""
    rows = []
    readings = answer.readings or [None] * len(answer.roles)
    for (_, title), result, reading in zip(answer.roles, answer.results, readings):
        if result is None:
            rows.append(f"| {title} | not available | | | |")
            continue
        note = f"class **{result.details['class']}** ({result.details['class_source']})" if "class" in result.details else ""
        rows.append(f"| {title} | {result.mse:.4f} | {result.psnr:.1f} dB | {_reading(reading and reading[0])} | {note} |")
    text = "| model | error (MSE) | PSNR | classifier reads | |\n|---|---|---|---|---|\n" + "\n".join(rows)
    if answer.reading:
        first, *others = answer.reading
        runners_up = ", ".join(_reading(other) for other in others)
        text = f"**The classifier reads your drawing as {first[0]}** ({first[1]:.0%}; then {runners_up}).\n\n" + text
    notes = [_likelihood_note(answer), *(f"**{problem}**" for problem in answer.problems)]
    return "\n\n".join([text, *(note for note in notes if note)])


def _likelihood_note(answer: explore.DrawingAnswer) -> str:
    """The bound on -log p(x) of the first model with one (the VAE's -ELBO), and an exact -log p(x) beside it."""
    lines = []
    if answer.bound is not None:
        title, rec, kl = answer.bound
        lines.append(f"**{title} loss for this input:** reconstruction {rec:.1f} nats + KL {kl:.1f} nats "
                     f"= {rec + kl:.1f} nats (the negative ELBO). The KL term is the price of the code "
                     "straying from the prior N(0, I).")
    if answer.exact_nats is not None:
        title, exact = answer.exact_nats
        line = f"**{title}: exactly {exact:.1f} nats** (-log p(x), the sum of 784 per-pixel terms)."
        if answer.bound is not None:
            bound_title, rec, kl = answer.bound
            line += (f" The {bound_title}'s {rec + kl:.1f} nats is an upper bound on its own -log p(x), not the "
                     "value; both use the same Bernoulli pixels, so lower means the model finds your drawing more likely.")
        lines.append(line)
    return "\n\n".join(lines)


def _reading(read) -> str:
    if read is None:
        return ""
    return f"{read[0]} ({read[1]:.0%})" if read[1] >= 0.005 else f"{read[0]} (<1%)"


def _drawing(payload, dataset, cvae_class) -> explore.Drawing:
    """What the page sent -> the drawing to answer (a payload that is not a drawing raises, with what is wrong)."""
    return explore.Drawing(decode_payload(payload), common.checked_dataset(dataset), common.class_label(cvae_class))


@common.user_errors
def on_drawing(payload: str, dataset: str, cvae_class: int):
    """Canvas data -> (what the model sees, stored picture, 4 reconstructions, message).
    While a stroke goes on the live channel shows the same pictures without the message (live_pictures)."""
    return render(explore.answer_drawing(_drawing(payload, dataset, cvae_class), common.cache))


@common.user_errors
def _live_drawing(request: dict) -> explore.Drawing:
    return _drawing(request.get("payload"), request.get("dataset"), request.get("cvae_class", -1))


def warm_live_models() -> None:
    """Load every dataset's Draw models for the live previews (the live channel's child process, at start)."""
    for _label, dataset in common.DATASETS:
        common.models_for(dataset, ROLES)


def live_pictures(requests: list[dict]) -> list:
    """The live channel's micro-batch (see batching.py): each {"payload", "dataset", "cvae_class"} -> the pictures
    on_drawing shows, [seen, *reconstructions], at 28x28 (the page scales them up: encoding the upscaled
    pictures was a fifth of a class's batch), or the exception that request earns."""
    answers, prepared = prepare_each(requests, _live_drawing)
    drawn = explore.answer_drawings([drawing for _, drawing in prepared], common.cache)
    for (i, _), answer in zip(prepared, drawn):
        pictures = [answer.seen, *answer.pictures]
        answers[i] = [BLANK28 if picture is None else picture for picture in pictures]
    return answers


@common.user_errors
def on_example(index: int, dataset: str, cvae_class: int):
    """A test example by gallery position -> the same outputs as a drawing."""
    dataset = common.checked_dataset(dataset)
    choices = explore.examples(dataset, per_class=2)
    if not 0 <= int(index) < len(choices):
        raise explore.ExploreError(f"example index must be between 0 and {len(choices) - 1}")
    drawing = explore.Drawing(choices[int(index)][0], dataset, common.class_label(cvae_class), preprocessed=True)
    return render(explore.answer_drawing(drawing, common.cache))


def gallery_items(dataset: str):
    return [(common.picture(image, 3), common.class_choices(dataset)[label][0])
            for image, label in explore.examples(dataset, per_class=2)]


def build(dataset: gr.Radio, current: gr.State) -> None:
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=300):
            gr.HTML(CANVAS_HTML, js_on_load=CANVAS_JS, elem_id="ge-canvas", apply_default_css=False, padding=False)
            payload = gr.Textbox(elem_id="ge-canvas-data", elem_classes=["ge-hidden"], show_label=False,
                                 container=False, lines=1, max_lines=1)
            cvae_class = gr.Dropdown(common.class_choices("mnist", most_likely=True), value=-1,
                                     label="CVAE condition (the class it is told)", elem_id="ge-draw-class")
        with gr.Column(scale=2):
            with gr.Row():
                seen = common.image_output("Model input", value=BLANK, elem_id="ge-seen")
                outputs = [common.image_output(title, value=BLANK, elem_id=f"ge-recon-{role}") for role, title in ROLES]
            message = gr.Markdown(EMPTY_MESSAGE, elem_id="ge-draw-message")
    gr.Markdown("**Or pick an example** from the test set:")
    gallery = gr.Gallery(gallery_items("mnist"), columns=10, height=190, allow_preview=False, show_label=False,
                         elem_id="ge-examples", object_fit="contain")
    example_index = gr.Number(visible=False, precision=0)

    results = [seen, current, *outputs, message]
    # The canvas posts drawings to the live channel while a stroke goes on; it needs these two.
    gr.on([dataset.change, cvae_class.change], None, [dataset, cvae_class], None, api_name=False,
          js="(d, c) => { window.geLive.drawSettings = { dataset: d, cvae_class: c }; return []; }")
    # The payload box is written when a stroke ends (and on undo, clear): this event sets the
    # components' values, the error table and the drawing the other tabs use.
    payload.change(on_drawing, [payload, dataset, cvae_class], results, api_name="draw",
                   trigger_mode="always_last", show_progress="hidden")
    cvae_class.change(on_drawing, [payload, dataset, cvae_class], results, api_name=False, show_progress="hidden")

    def pick(dataset_value, cvae_value, evt: gr.SelectData):
        return on_example(evt.index, dataset_value, cvae_value)

    # The example lands on the canvas too (the picture the models see, 28x28 scaled into the canvas's middle).
    gallery.select(pick, [dataset, cvae_class], results, api_name=False, show_progress="hidden").then(
        None, [seen], None, api_name=False,
        js="(img) => { if (img && img.url && window.geShowOnCanvas) window.geShowOnCanvas(img.url); return []; }")
    example_index.change(on_example, [example_index, dataset, cvae_class], results, api_name="draw_example")

    def switch(dataset_value):
        return (gallery_items(dataset_value),
                gr.update(choices=common.class_choices(dataset_value, most_likely=True), value=-1),
                BLANK, None, BLANK, BLANK, BLANK, BLANK, EMPTY_MESSAGE)

    dataset.change(switch, dataset, [gallery, cvae_class, seen, current, *outputs, message], api_name=False,
                   js="(d) => { const c = document.querySelector('#ge-canvas .ge-clear'); if (c) c.click(); return d; }")
