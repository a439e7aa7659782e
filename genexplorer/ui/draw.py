"""Draw tab: draw (or pick an example) and watch AE, VAE, CVAE and DAE rebuild it."""
from __future__ import annotations

import gradio as gr
import numpy as np
import torch

from .. import explore, pixels, precision
from ..batching import prepare_each
from ..canvas_payload import decode_payload
from ..preprocess import BlankImageError
from . import common
from .canvas import CANVAS_HTML, CANVAS_JS

ROLES = (("ae", "AE"), ("vae", "VAE"), ("cvae", "CVAE"), ("dae", "Denoising AE"))
EMPTY_MESSAGE = "Draw in the black box (or pick an example below): the models rebuild what you draw as you draw it."
# Nothing drawn shows black squares, not empty frames: the live channel (live.py) paints
# into the pictures' <img> elements while a stroke goes on, so they must always exist.
BLANK28 = np.zeros((28, 28), np.uint8)   # the live channel's blank: the page scales its pictures up
BLANK = common.picture(BLANK28)


def reconstruct_all(picture28: np.ndarray, dataset: str, cvae_class: int) -> tuple[list, str]:
    """Each default model's reconstruction of a uint8 (28, 28) picture, and a table of errors
    with what the dataset's classifier reads in the drawing and in each reconstruction."""
    x = common.model_input(picture28)
    label = common.class_label(cvae_class)
    loaded, problems = common.models_for(dataset, ROLES)
    results = {title: explore.reconstruct(model, x, label=label, name=name) for title, (name, model) in loaded.items()}
    reader = classifier_reader(dataset)
    # the drawing first, then each reconstruction: one pass of the classifier
    readings = reader([picture28, *(result.image for result in results.values())]) if reader else None
    read_of = dict(zip(results, readings[1:])) if readings else {}
    images, rows = [], []
    vae_note = ""
    for role, title in ROLES:
        result = results.get(title)
        if result is None:
            images.append(BLANK)
            rows.append(f"| {title} | not available | | | |")
            continue
        images.append(common.picture(result.image))
        note = ""
        if "class" in result.details:
            note = f"class **{result.details['class']}** ({result.details['class_source']})"
        if role == "vae":
            rec, kl = result.details["rec_nats"], result.details["kl_nats"]
            vae_note = (f"**VAE loss for this input:** reconstruction {rec:.1f} nats + KL {kl:.1f} nats "
                        f"= {rec + kl:.1f} nats (the negative ELBO). The KL term is the price of the code "
                        "straying from the prior N(0, I).")
        reading = read_of[title][0] if title in read_of else None
        rows.append(f"| {title} | {result.mse:.4f} | {result.psnr:.1f} dB | {_reading(reading)} | {note} |")
    table = "| model | error (MSE) | PSNR | classifier reads | |\n|---|---|---|---|---|\n" + "\n".join(rows)
    if readings:
        first, *others = readings[0]
        runners_up = ", ".join(_reading(other) for other in others)
        table = (f"**The classifier reads your drawing as {first[0]}** ({first[1]:.0%}; then {runners_up}).\n\n"
                 + table)
    vae_note = likelihood_note(x, dataset, results.get("VAE"), vae_note)
    notes = "".join(f"\n\n**{problem}**" for problem in problems)
    return images, table + ("\n\n" + vae_note if vae_note else "") + notes


def likelihood_note(x, dataset: str, vae_result, vae_note: str) -> str:
    """The PixelCNN's exact -log p(x) beside the VAE's bound, when the dataset has a PixelCNN."""
    try:
        _, model = common.model_or_none(dataset, "pixelcnn")
    except common.CheckpointError:
        return vae_note
    if model is None:
        return vae_note
    exact = pixels.likelihood(model, x)
    line = f"**PixelCNN: exactly {exact:.1f} nats** (-log p(x), the sum of 784 per-pixel terms)."
    if vae_result is not None:
        bound = vae_result.details["rec_nats"] + vae_result.details["kl_nats"]
        line += (f" The VAE's {bound:.1f} nats is an upper bound on its own -log p(x), not the value; "
                 "both use the same Bernoulli pixels, so lower means the model finds your drawing more likely.")
    return vae_note + ("\n\n" if vae_note else "") + line


def classifier_reader(dataset: str):
    """[picture28, ...] -> the classifier's top 3 (name, probability) for each, or None without a classifier:
    the app works without one, it only reads less."""
    try:
        _, model = common.model_or_none(dataset, "classifier")
    except common.CheckpointError:
        return None
    if model is None:
        return None
    return lambda pictures28: explore.classify_many(model, torch.cat([common.model_input(p) for p in pictures28]), top=3)


def _reading(read) -> str:
    if read is None:
        return ""
    return f"{read[0]} ({read[1]:.0%})" if read[1] >= 0.005 else f"{read[0]} (<1%)"


@common.user_errors
def on_drawing(payload: str, dataset: str, cvae_class: int):
    """Canvas data -> (what the model sees, stored picture, 4 reconstructions, message).
    While a stroke goes on the live channel shows the same pictures without the message (live_pictures)."""
    dataset = common.checked_dataset(dataset)
    pixels = decode_payload(payload)
    if pixels is None:
        return [BLANK, None, BLANK, BLANK, BLANK, BLANK, EMPTY_MESSAGE]
    try:
        picture28 = common.preprocess_picture(pixels, dataset)
    except BlankImageError as exc:
        return [BLANK, None, BLANK, BLANK, BLANK, BLANK, f"**{exc}**"]
    images, table = reconstruct_all(picture28, dataset, cvae_class)
    return [common.picture(picture28), picture28, *images, table]


@common.user_errors
def _live_input(request: dict) -> tuple[str, int | None, np.ndarray | None]:
    """One live request -> (dataset, CVAE class or None, the model's 28x28 picture or None when nothing is drawn)."""
    dataset = common.checked_dataset(request.get("dataset"))
    label = common.class_label(request.get("cvae_class", -1))
    if label is not None and label >= len(common.class_choices(dataset)):
        raise explore.ExploreError(f"class must be between 0 and {len(common.class_choices(dataset)) - 1}")
    pixels = decode_payload(request.get("payload"))
    if pixels is None:
        return dataset, label, None
    try:
        return dataset, label, common.preprocess_picture(pixels, dataset)
    except BlankImageError:
        return dataset, label, None


def warm_live_models() -> None:
    """Load every dataset's default models for the live previews (the live channel's child process, at start)."""
    for _label, dataset in common.DATASETS:
        common.models_for(dataset, ROLES)


def live_pictures(requests: list[dict]) -> list:
    """The live channel's micro-batch (see batching.py): each {"payload", "dataset", "cvae_class"} -> the pictures
    on_drawing shows, [seen, *reconstructions], at 28x28 (the page scales them up: encoding the upscaled
    pictures was a fifth of a class's batch), or the exception that request earns. Each model runs once on
    every picture of its dataset that waited."""
    answers, prepared = prepare_each(requests, _live_input)
    drawn: dict[str, list[tuple[int, np.ndarray, int | None]]] = {}
    for i, (dataset, label, picture28) in prepared:
        if picture28 is None:
            answers[i] = [BLANK28] * (1 + len(ROLES))
        else:
            drawn.setdefault(dataset, []).append((i, picture28, label))
    for dataset, items in drawn.items():
        loaded, _problems = common.models_for(dataset, ROLES)
        x = torch.cat([common.model_input(picture28) for _, picture28, _ in items])
        labels = [label for _, _, label in items]
        with precision.live_arithmetic():   # a preview: the event at the stroke's end paints in float32
            rebuilt = {title: explore.reconstruct_images(precision.live_model(model), x, labels) for title, (_, model) in loaded.items()}
        for row, (i, picture28, _) in enumerate(items):
            answers[i] = [picture28] + [rebuilt[title][row] if title in rebuilt else BLANK28 for _, title in ROLES]
    return answers


@common.user_errors
def on_example(index: int, dataset: str, cvae_class: int):
    """A test example by gallery position -> the same outputs as a drawing."""
    dataset = common.checked_dataset(dataset)
    choices = explore.examples(dataset, per_class=2)
    if not 0 <= int(index) < len(choices):
        raise explore.ExploreError(f"example index must be between 0 and {len(choices) - 1}")
    picture28 = choices[int(index)][0]
    images, table = reconstruct_all(picture28, dataset, cvae_class)
    return [common.picture(picture28), picture28, *images, table]


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

    gallery.select(pick, [dataset, cvae_class], results, api_name=False, show_progress="hidden")
    example_index.change(on_example, [example_index, dataset, cvae_class], results, api_name="draw_example")

    def switch(dataset_value):
        return (gallery_items(dataset_value),
                gr.update(choices=common.class_choices(dataset_value, most_likely=True), value=-1),
                BLANK, None, BLANK, BLANK, BLANK, BLANK, EMPTY_MESSAGE)

    dataset.change(switch, dataset, [gallery, cvae_class, seen, current, *outputs, message], api_name=False,
                   js="(d) => { const c = document.querySelector('#ge-canvas .ge-clear'); if (c) c.click(); return d; }")
