"""Complete: hide part of a picture and let the PixelCNN draw it back, several times, beside the VAE."""
from __future__ import annotations

import gradio as gr
import numpy as np
import torch

from .. import explore, pixels
from ..images import upscale
from . import common
from .upload import EDITOR_LABEL_ROW, EDITOR_SCALE, painted_mask

SOURCES = [("a test image", "test"), ("my drawing (Draw tab)", "drawing"), ("my upload (Upload tab)", "upload")]
MASKS = [("the bottom half", "bottom"), ("the right half", "right"), ("the centre 14x14", "centre"),
         ("what I paint", "painted")]
HOLE_GREY = 90


def chosen_picture(source: str, class_index, which, dataset: str, drawing, uploaded=None) -> np.ndarray:
    """The picture a tab works on, uint8 (28, 28): a test image (class, which one), the user's drawing or upload."""
    dataset = common.checked_dataset(dataset)
    if source == "test":
        label = common.class_label(class_index) or 0
        if not 0 <= label < len(common.class_choices(dataset)):
            raise explore.ExploreError("pick one of the dataset's classes")
        which = int(explore.finite(which, "which one", 0, 999))
        picture28 = explore.examples(dataset, offset=which)[label][0]
    elif source == "drawing":
        if drawing is None:
            raise explore.ExploreError("draw something on the Draw tab first (or pick a test image)")
        picture28 = drawing
    elif source == "upload":
        if uploaded is None:
            raise explore.ExploreError("upload a picture on the Upload tab first (or pick a test image)")
        picture28 = uploaded
    else:
        raise explore.ExploreError(f"unknown source {source!r}: use test, drawing or upload")
    return np.asarray(picture28, dtype=np.uint8)


@common.user_errors
def on_source(source: str, class_index, which, dataset: str, drawing, uploaded):
    """-> (the chosen picture, uint8 (28, 28), for the state; the editor showing it; message)."""
    picture28 = chosen_picture(source, class_index, which, dataset, drawing, uploaded)
    background = np.stack([upscale(picture28, EDITOR_SCALE)] * 3, axis=-1)
    return picture28, {"background": background, "layers": [], "composite": background}, ""


def hidden_mask(mask_name: str, editor_value) -> torch.Tensor:
    return painted_mask(editor_value) if mask_name == "painted" else explore.preset_mask(mask_name)


@common.user_errors
def on_complete(picture28, editor_value, mask_name: str, count, seed, pace: str, dataset: str, previous):
    """Start the PixelCNN's completions and fill the same hole with the VAE.
    -> (job id, first frame, picture with the hole, VAE fill, message, job id kept per user)."""
    dataset = common.checked_dataset(dataset)
    if picture28 is None:
        raise explore.ExploreError("choose a picture first")
    name, model = common.model_or_none(dataset, "pixelcnn")
    if model is None:
        raise explore.ExploreError(f"no PixelCNN checkpoint for {dataset}")
    hidden = pixels.check_hidden(hidden_mask(mask_name, editor_value))
    truth = np.asarray(picture28, dtype=np.uint8)
    x = common.model_input(truth)
    job = common.pixel_jobs.add(pixels.complete_job(name, model, x, hidden, count, seed, pace=pace), replaces=previous)
    shown = truth.copy()
    shown[hidden.reshape(28, 28).numpy()] = HOLE_GREY
    _, vae = common.model_or_none(dataset, "vae")
    vae_fill = common.picture(explore.inpaint(vae, x, hidden)) if vae is not None else None
    return (job.id, job.frame().picture, common.picture(shown), vae_fill,
            f"Completing {len(job.images)} times: the hidden pixels are drawn one by one in reading order, each "
            "given every pixel before it (the known ones above and to the left, and those already drawn).", job.id)


# The fills shown beside the PixelCNN's completions once they are done: (role, title).
WALKERS = (("diffusion", "Diffusion (RePaint)"), ("flow", "Flow matching"))
OTHER_FILLERS = (("vae", "VAE (code optimisation)"), *WALKERS)


@common.user_errors
def on_complete_result(job_id: str, picture28, dataset: str):
    """The finished completions, each read by the classifier and scored on the hole, beside the VAE's, the
    diffusion model's and the flow's fills of the same hole. -> (completions, message, diffusion fill, flow fill)."""
    dataset = common.checked_dataset(dataset)
    job = common.pixel_jobs.get(job_id)
    frame = job.run_to_end()
    if picture28 is None:
        return frame.picture, "", None, None
    truth = np.asarray(picture28, dtype=np.uint8)
    hidden = ~job.known[:1]
    completions = list(job.result())
    rows = []
    loaded, missing = common.models_for(dataset, OTHER_FILLERS)
    fills = {title: explore.inpaint(model, common.model_input(truth), hidden) for title, (_, model) in loaded.items()}
    candidates = [("the original", truth)] + [(f"PixelCNN {i + 1}", c) for i, c in enumerate(completions)]
    candidates += list(fills.items())
    readings = explore.read_pictures([picture for _, picture in candidates], dataset, common.cache) \
        or [None] * len(candidates)
    for (title, picture), reading in zip(candidates, readings):
        psnr = "" if title == "the original" else f"{explore.hidden_psnr(picture, truth, hidden):.1f} dB"
        read = f"{reading[0][0]} ({reading[0][1]:.0%})" if reading else ""
        rows.append(f"| {title} | {read} | {psnr} |")
    table = "| picture | classifier reads | PSNR on the hole |\n|---|---|---|\n" + "\n".join(rows)
    notes = "".join(f"\n\n{problem} (train one on the Train tab)." for problem in missing)
    walked = [common.picture(fills[title]) if title in fills else None for _, title in WALKERS]
    return (frame.picture,
            f"**{len(completions)} completions in {frame.compute_s:.2f} s** ({frame.to_draw} pixels each, drawn in "
            "turn). Each is a different sample of p(hidden | known): the PixelCNN draws plausible pictures, "
            "not the average one, so its PSNR can be lower than the VAE's blurrier fill. The diffusion model and "
            "the flow walk from noise with the known pixels put back at every step.\n\n" + table + notes, *walked)


def source_picker(sources, prefix: str):
    """Where the picture comes from, and which test image: (source radio, class dropdown, which number), with
    elem_ids ``prefix``-source, -class and -which (the Complete and Diffusion tabs)."""
    source = gr.Radio(sources, value="test", label="Picture", elem_id=f"{prefix}-source")
    with gr.Row():
        class_index = gr.Dropdown(common.class_choices("mnist"), value=0, label="Class (test image)",
                                  elem_id=f"{prefix}-class")
        which = gr.Number(0, precision=0, minimum=0, maximum=999, label="Which one", elem_id=f"{prefix}-which")
    return source, class_index, which


def build(dataset: gr.Radio, current: gr.State, uploaded: gr.State, tab: gr.Tab) -> None:
    gr.Markdown("Hide part of a picture and let the **PixelCNN** draw the hidden pixels back, one at a time, several "
                "times over: each completion is a different, plausible answer. The **VAE** fills the same hole by "
                "searching for the code that best explains the pixels you left; the **diffusion model** and the "
                "**flow** walk from noise with the known pixels put back at every step (shown with the results).")
    chosen = gr.State(None)
    with gr.Row():
        with gr.Column(scale=1, min_width=300):
            source, class_index, which = source_picker(SOURCES, "ge-complete")
            source_note = gr.Markdown(elem_id="ge-complete-note")   # why the picker went back, or what went wrong
            editor = gr.ImageEditor(type="numpy", image_mode="RGBA", sources=[], label="Paint the part to hide",
                                    brush=gr.Brush(colors=["#ff3030"], default_size=30, color_mode="fixed"),
                                    transforms=(), layers=False, height=300 + EDITOR_LABEL_ROW, width=300,
                                    elem_id="ge-complete-editor")
            mask_name = gr.Radio(MASKS, value="bottom", label="Hide", elem_id="ge-complete-mask")
            with gr.Row():
                count = gr.Slider(1, 8, value=4, step=1, label="Completions", elem_id="ge-complete-count")
                seed = gr.Number(0, precision=0, minimum=0, label="Seed", elem_id="ge-complete-seed")
            pace = gr.Radio(list(pixels.PACES), value="row by row", label="Pace", elem_id="ge-complete-pace")
            go = gr.Button("Complete", variant="primary", elem_id="ge-complete-go")
        with gr.Column(scale=2):
            with gr.Row():
                holed = common.image_output("With the hole", elem_id="ge-complete-input")
                vae_fill = common.image_output("VAE", elem_id="ge-complete-vae")
                walked = [common.image_output(title.split(" (")[0], elem_id=f"ge-complete-{role}")
                          for role, title in WALKERS]
            completions = common.image_output("PixelCNN completions", height=190, width=None,
                                              elem_id="ge-complete-pixelcnn")
            gr.HTML("", elem_id="ge-complete-pixelcnn-status")
            message = gr.Markdown(elem_id="ge-complete-message")
    job_box = gr.Textbox(elem_id="ge-complete-job", elem_classes=["ge-hidden"], show_label=False, container=False)
    done_box = gr.Textbox(elem_id="ge-complete-done", elem_classes=["ge-hidden"], show_label=False, container=False)
    job_state = gr.State(None)

    source_inputs = [source, class_index, which, dataset, current, uploaded]

    def on_source_page(source_value, class_value, which_value, dataset_value, drawing, upload):
        """'my drawing' or 'my upload' with none yet goes back to the test image and says so."""
        source_value, note = common.available_source(source_value, drawing, upload, fallback="test")
        chosen_value, editor_value, _ = on_source(source_value, class_value, which_value, dataset_value, drawing, upload)
        return [source_value if note else gr.skip(), chosen_value, editor_value, note]

    common.page_event([source.input, class_index.change, which.change, tab.select], on_source_page, source_inputs,
                      [source, chosen, editor, source_note], message=source_note, show_progress="hidden")
    common.api_endpoint(on_source, source_inputs, [chosen, editor, message], "complete_source")
    go.click(on_complete, [chosen, editor, mask_name, count, seed, pace, dataset, job_state],
             [job_box, completions, holed, vae_fill, message, job_state], api_name="pixelcnn_complete",
             show_progress="hidden"
             ).then(None, [job_box], None, js="(job) => { window.geLive.pixels(job, 'ge-complete-pixelcnn', "
                                              "'ge-complete-done'); return []; }"
                    ).then(lambda: (None, None), None, walked, api_name=False)   # the last picture's fills go
    done_box.change(on_complete_result, [done_box, chosen, dataset], [completions, message, *walked],
                    api_name="pixelcnn_complete_result", show_progress="hidden")
    # The editor's brush is not active until its button is clicked: click it for the user.
    tab.select(None, None, None, api_name=False,
               js="() => setTimeout(() => document.querySelector(\"#ge-complete-editor button[aria-label='Brush']\")?.click(), 300)")

    # A switch of dataset: the completions and fills came from the other dataset's models, so they go.
    def switch(dataset_value):
        return gr.update(choices=common.class_choices(dataset_value), value=0), *[None] * (3 + len(walked))

    dataset.change(switch, dataset, [class_index, holed, vae_fill, completions, *walked], api_name=False,
                   js="(d) => { if (window.geLive) window.geLive.watching['ge-complete-pixelcnn'] = null; "
                      "const s = document.querySelector('#ge-complete-pixelcnn-status'); if (s) s.textContent = ''; "
                      "return d; }").then(
        common.shown_on_page(on_source_page, 4, 3), source_inputs, [source, chosen, editor, source_note], api_name=False,
        show_progress="hidden")
