"""Interpolate: pixel blending against walking the AE's and the VAE's latent lines,
and a GAN tour between random codes."""
from __future__ import annotations

import gradio as gr
import numpy as np

from .. import explore
from ..images import grid
from . import common

ROWS = (("pixels", "blend the pixels"), ("ae", "AE latent line"), ("vae", "VAE latent line"))


def endpoint_choices(dataset: str):
    return [("my drawing", "drawing"), ("my upload", "upload")] + [
        (f"a test {name}", str(index)) for name, index in common.class_choices(dataset)]


def _endpoint(source: str, which: int, dataset: str, current28, uploaded28) -> np.ndarray:
    if source == "drawing":
        if current28 is None:
            raise explore.ExploreError("draw something on the Draw tab first, or pick a test example")
        return np.asarray(current28, dtype=np.uint8)
    if source == "upload":
        if uploaded28 is None:
            raise explore.ExploreError("upload a picture on the Upload tab first, or pick a test example")
        return np.asarray(uploaded28, dtype=np.uint8)
    try:
        label = int(source)
    except (TypeError, ValueError):
        raise explore.ExploreError(f"unknown endpoint {source!r}") from None
    images, labels = explore.test_set(dataset)
    where = np.flatnonzero(labels == label)
    if not len(where):
        raise explore.ExploreError(f"no test image of class {label}")
    try:
        which = int(which)
    except (TypeError, ValueError, OverflowError):
        raise explore.ExploreError(f"'which one' must be a whole number, got {which!r}") from None
    return images[where[which % len(where)]]


def strip_rows(source_a, index_a, source_b, index_b, steps, dataset, current28, uploaded28):
    """-> dict of rows, each uint8 (S, 28, 28), and the list of row titles."""
    dataset = common.checked_dataset(dataset)
    a = _endpoint(source_a, index_a, dataset, current28, uploaded28)
    b = _endpoint(source_b, index_b, dataset, current28, uploaded28)
    models, titles = {}, ["blend the pixels"]
    for role, title in ROWS[1:]:
        name, model = common.model_or_none(dataset, role)
        if model is not None:
            models[role] = model
            titles.append(f"{title} ({name})")
    rows = explore.interpolate(models, common.model_input(a), common.model_input(b), steps)
    return rows, titles


@common.user_errors
def on_interpolate(source_a, index_a, source_b, index_b, steps, dataset, current28, uploaded28):
    rows, titles = strip_rows(source_a, index_a, source_b, index_b, steps, dataset, current28, uploaded28)
    picture = grid(np.concatenate(list(rows.values())), ncols=len(rows["pixels"]))
    legend = "Rows, top to bottom: " + "; ".join(f"**{t}**" for t in titles) + (
        ". Blending pixels fades one picture into the other (a ghostly double exposure); the models walk "
        "through codes, so every step is a picture of its own. The VAE's steps stay plausible because its "
        "training packed the codes tightly around the prior.")
    return common.picture(picture, 3), legend


@common.user_errors
def on_export(format, source_a, index_a, source_b, index_b, steps, dataset, current28, uploaded28):
    """The strip as a file to download: format "gif" (animated, there and back) or "png"."""
    rows, _ = strip_rows(source_a, index_a, source_b, index_b, steps, dataset, current28, uploaded28)
    if format == "gif":
        return common.export_file(explore.strip_gif(list(rows.values())), ".gif")
    return common.export_file(explore.strip_png(list(rows.values())), ".png")


@common.user_errors
def on_tour(dataset: str, seed: int, stops: int, steps: int):
    dataset = common.checked_dataset(dataset)
    name, model = common.model_or_none(dataset, "gan")
    if model is None:
        raise explore.ExploreError(f"no GAN checkpoint for {dataset}")
    frames = explore.gan_tour(model, seed=seed, stops=stops, steps=steps)
    return common.picture(grid(frames, ncols=int(steps)), 2)


def build(dataset: gr.Radio, current: gr.State, uploaded: gr.State, tab: gr.Tab) -> None:
    choices = endpoint_choices("mnist")
    with gr.Row():
        source_a = gr.Dropdown(choices, value="1", label="From", elem_id="ge-interp-a")
        index_a = gr.Slider(0, 49, value=0, step=1, label="which one", elem_id="ge-interp-a-index")
        source_b = gr.Dropdown(choices, value="7", label="To", elem_id="ge-interp-b")
        index_b = gr.Slider(0, 49, value=0, step=1, label="which one", elem_id="ge-interp-b-index")
        steps = gr.Slider(3, 16, value=10, step=1, label="Steps", elem_id="ge-interp-steps")
    strip = common.image_output("Interpolation", height=280, width=None, elem_id="ge-interp-strip")
    legend = gr.Markdown(elem_id="ge-interp-legend")
    with gr.Row():
        png_button = gr.Button("Export PNG", elem_id="ge-interp-png")
        gif_button = gr.Button("Export animated GIF", elem_id="ge-interp-gif")
        export = gr.File(label="Export", elem_id="ge-interp-file", height=80)
    gr.Markdown("### GAN tour\nA GAN has no encoder, so it cannot walk between *your* pictures; instead it walks "
                "between random codes. Spherical interpolation keeps every step at the typical distance "
                "from the origin where N(0, I) puts its mass.")
    with gr.Row():
        tour_seed = gr.Number(0, precision=0, minimum=0, label="Seed", elem_id="ge-tour-seed")
        tour_stops = gr.Slider(2, 8, value=4, step=1, label="Stops", elem_id="ge-tour-stops")
        tour_steps = gr.Slider(3, 12, value=8, step=1, label="Steps between stops", elem_id="ge-tour-steps")
        tour_button = gr.Button("Tour", elem_id="ge-tour-go")
    tour = common.image_output("GAN tour (one row per leg)", height=300, width=None, elem_id="ge-tour")

    inputs = [source_a, index_a, source_b, index_b, steps, dataset, current, uploaded]

    def on_page(source_a_value, index_a_value, source_b_value, *rest):
        """'my drawing' or 'my upload' with none yet goes back to a test picture, and the legend says why."""
        current28, uploaded28 = rest[-2:]
        source_a_value, why_a = common.available_source(source_a_value, current28, uploaded28, fallback="1")
        source_b_value, why_b = common.available_source(source_b_value, current28, uploaded28, fallback="7")
        picture, legend_text = on_interpolate(source_a_value, index_a_value, source_b_value, *rest)
        why = why_a or why_b
        return (source_a_value if why_a else gr.skip(), source_b_value if why_b else gr.skip(), picture,
                f"{why}\n\n{legend_text}" if why else legend_text)

    page_outputs = [source_a, source_b, strip, legend]
    common.page_event([source_a.change, source_b.change, index_a.input, index_b.input, steps.input], on_page, inputs,
                      page_outputs, message=legend, trigger_mode="always_last", show_progress="hidden")
    common.api_endpoint(on_interpolate, inputs, [strip, legend], "interpolate")
    tab.select(common.shown_on_page(on_page, 4, 3), inputs, page_outputs, api_name=False, show_progress="hidden").then(
        on_tour, [dataset, tour_seed, tour_stops, tour_steps], tour, api_name=False)
    png_button.click(lambda *a: on_export("png", *a), inputs, export, api_name="interpolate_png")
    gif_button.click(lambda *a: on_export("gif", *a), inputs, export, api_name="interpolate_gif")
    gr.on([tour_button.click, tour_seed.change, tour_stops.input, tour_steps.input, dataset.change], on_tour,
          [dataset, tour_seed, tour_stops, tour_steps], tour, api_name="gan_tour", trigger_mode="always_last")

    def switch(dataset_value):
        choices = endpoint_choices(dataset_value)
        return gr.update(choices=choices, value="1"), gr.update(choices=choices, value="7")

    # The endpoints may keep their values (no change event): the strip is redrawn with the new dataset either way.
    dataset.change(switch, dataset, [source_a, source_b], api_name=False).then(
        common.shown_on_page(on_page, 4, 3), inputs, page_outputs, api_name=False, show_progress="hidden")
