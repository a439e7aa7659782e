"""Sketch tab: draw an outline (or take a test item's edges) and watch pix2pix turn it into a picture, beside its
L1-only twin (genexplorer.sketching). While a stroke goes on, the live channel paints the translations."""
from __future__ import annotations

import gradio as gr
import numpy as np

from .. import explore, sketching
from ..canvas_payload import decode_payload
from . import common
from .canvas import CANVAS_HTML, canvas_js

IMAGE_IDS = ["ge-sketch-seen", *(f"ge-sketch-{role}" for role, _ in sketching.TRANSLATORS)]
BLANK = common.picture(np.zeros((28, 28), np.uint8))
EMPTY_MESSAGE = ("Draw the outline of a shoe, a bag, a shirt or trousers in the black box (thin strokes, filling the "
                 "box), or take a test item's edges below.")


def _translate(sketch, dataset: str, *, read: bool) -> list:
    """-> [the sketch the models see, one picture per translator, message]."""
    loaded, missing = common.models_for(dataset, sketching.TRANSLATORS)
    pictures = sketching.translate_all(loaded, sketch)
    seen = common.picture((sketch[0, 0].numpy() * 255).astype(np.uint8))
    outputs = [common.picture(pictures[title]) if title in pictures else BLANK for _, title in sketching.TRANSLATORS]
    if not read:
        return [seen, *outputs, ""]
    readings = explore.read_pictures(list(pictures.values()), dataset, common.cache, top=1) or [None] * len(pictures)
    lines = [f"- {title}" + (f": the classifier reads **{top[0][0]}** ({top[0][1]:.0%})" if top else "")
             for title, top in zip(pictures, readings)]
    notes = [f"**{problem}** (train one on the Train tab: family pix2pix)" for problem in missing]
    return [seen, *outputs, "\n".join(lines + notes)]


@common.user_errors
def on_sketch(payload: str, dataset: str, *, read: bool = True):
    """Canvas data -> (the sketch the models see, pix2pix, L1 twin, message). The live channel passes read=False."""
    dataset = common.checked_dataset(dataset)
    pixels = decode_payload(payload)
    if pixels is None:
        return [BLANK, BLANK, BLANK, EMPTY_MESSAGE]
    return _translate(sketching.drawing_to_sketch(pixels), dataset, read=read)


@common.user_errors
def on_test_item(example_class, which, dataset: str):
    """A test item -> (the item, its edges, pix2pix, L1 twin, message)."""
    dataset = common.checked_dataset(dataset)
    label = common.class_label(example_class) or 0
    which = int(explore.finite(which, "which item", 0, 9))
    picture = [p for p, y in explore.examples(dataset, per_class=10) if y == label][which]
    return [common.picture(picture), *_translate(sketching.picture_to_sketch(picture), dataset, read=True)]


def build(dataset: gr.Radio, tab: gr.Tab) -> None:
    gr.Markdown("pix2pix learned to turn edge maps of the training pictures into the pictures. Draw your own outline: "
                "it goes through the same edge function, and both models translate it as you draw.")
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=300):
            gr.HTML(CANVAS_HTML, js_on_load=canvas_js("ge-sketch-data", "sketch", brush=10), elem_id="ge-sketch-canvas",
                    apply_default_css=False, padding=False)
            payload = gr.Textbox(elem_id="ge-sketch-data", elem_classes=["ge-hidden"], show_label=False,
                                 container=False, lines=1, max_lines=1)
        with gr.Column(scale=2):
            with gr.Row():
                seen = common.image_output("Sketch the models see", value=BLANK, elem_id=IMAGE_IDS[0])
                outputs = [common.image_output(title, value=BLANK, elem_id=elem_id)
                           for (_, title), elem_id in zip(sketching.TRANSLATORS, IMAGE_IDS[1:])]
            message = gr.Markdown(EMPTY_MESSAGE, elem_id="ge-sketch-message")
    gr.Markdown("**Or take a test item's edges:**")
    with gr.Row():
        item_class = gr.Dropdown(common.class_choices("mnist"), value=0, label="Class", elem_id="ge-sketch-class")
        which = gr.Slider(0, 9, value=0, step=1, label="Which item", elem_id="ge-sketch-which")
        go = gr.Button("Translate its edges", elem_id="ge-sketch-item-go")
        truth = common.image_output("The test item", elem_id="ge-sketch-truth")

    gr.on([dataset.change], None, [dataset], None, api_name=False,
          js="(d) => { if (window.geLive) window.geLive.sketchSettings = { dataset: d }; return []; }")
    payload.change(on_sketch, [payload, dataset], [seen, *outputs, message], api_name="sketch",
                   trigger_mode="always_last", show_progress="hidden")
    go.click(on_test_item, [item_class, which, dataset], [truth, seen, *outputs, message], api_name="sketch_item")
    # Everything shown came from the other dataset's models: the class picker, the pictures, the readings and the
    # canvas all start again.
    def switch(dataset_value):
        return [gr.update(choices=common.class_choices(dataset_value), value=0), None, BLANK, BLANK, BLANK, EMPTY_MESSAGE]

    dataset.change(switch, dataset, [item_class, truth, seen, *outputs, message], api_name=False, show_progress="hidden",
                   js="(d) => { const c = document.querySelector('#ge-sketch-canvas .ge-clear'); if (c) c.click(); return d; }")
