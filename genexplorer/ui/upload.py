"""Upload: bring your own picture, see what the model sees, denoise it, hide part of it and inpaint."""
from __future__ import annotations

import gradio as gr
import numpy as np
import torch

from .. import explore
from ..images import upscale
from ..preprocess import open_picture
from . import common

EDITOR_SCALE = 10   # the 28x28 picture is painted on at 280x280
# The mask editor's canvas is EDITOR_SIDE square, below its label's row (ui/presenter.py puts the label above the
# canvas, 34 px). A shorter canvas shrinks the picture (88 % at 306 px high) and leaves a band beside it where a
# stroke that starts there paints nothing (the brush only starts over the picture).
EDITOR_SIDE = 340
EDITOR_LABEL_ROW = 34
MASK_CHOICES = [("what I paint", "painted"), ("the centre 14x14", "centre"), ("the bottom half", "bottom"),
                ("the right half", "right")]


# A file over the app's size cap never reaches a handler: Gradio's upload refuses it with a toast and leaves a bare
# "Error" in the file box. The page checks the size first, keeps the file from being sent, and writes why into a
# hidden box beside the file box (a nonce first, so the same refusal twice still fires its event): size_guard.
SIZE_GUARD_JS = """
// (not `upload`: Gradio's js_on_load wrapper already declares it)
const fileBox = '%UPLOAD%', cap = (window.gradio_config && window.gradio_config.max_file_size) || 20 * 1024 * 1024;
function refuse(event, files) {
  const big = [...(files || [])].find((file) => file.size > cap);
  if (!big) return;
  event.preventDefault();
  event.stopImmediatePropagation();
  if (event.target && event.target.value) event.target.value = '';
  const mb = (n) => (n / 1024 / 1024).toFixed(n < 10 * 1024 * 1024 ? 1 : 0);
  const box = document.querySelector(`#${fileBox}-refused textarea, #${fileBox}-refused input`);
  if (!box) return;
  const text = `${Date.now()}|${big.name} is ${mb(big.size)} MB: the limit is ${mb(cap)} MB. ` +
               'Take a smaller file, or crop or scale it down, and upload that.';
  Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, 'value').set.call(box, text);
  box.dispatchEvent(new Event('input', { bubbles: true }));
}
const inUpload = (e) => e.target && e.target.closest && e.target.closest('#' + fileBox);
document.addEventListener('change', (e) => { if (inUpload(e)) refuse(e, e.target.files); }, true);
document.addEventListener('drop', (e) => { if (inUpload(e)) refuse(e, e.dataTransfer && e.dataTransfer.files); }, true);
"""


def size_guard(upload_id: str) -> gr.Textbox:
    """For the file box ``upload_id``: a hidden box that says (as "<nonce>|<why>") when the page kept a file over the
    size cap from being sent. Wire its change event to show ``refusal(text)`` where the box's other messages go."""
    refused = gr.Textbox(elem_id=f"{upload_id}-refused", elem_classes=["ge-hidden"], show_label=False, container=False,
                         lines=2)
    gr.HTML("", js_on_load=SIZE_GUARD_JS.replace("%UPLOAD%", upload_id), elem_classes=["ge-hidden"], padding=False)
    return refused


def refusal(text: str) -> str:
    """The size guard's text -> the message (the nonce off), bold as the other refusals."""
    return f"**{text.split('|', 1)[-1]}**"



def load_picture(path):
    """An uploaded file's path -> PIL picture (checked: size, type, damage)."""
    return open_picture(path)


@common.user_errors
def on_upload(path, dataset: str):
    """-> (original, what the model sees, stored picture, editor background, DAE, VAE, message)."""
    dataset = common.checked_dataset(dataset)
    if not path:
        return None, None, None, None, None, None, "Upload a picture: a photo of a digit on paper, or of a piece of clothing."
    picture = load_picture(path)
    picture28 = common.preprocess_picture(picture, dataset)
    preview = picture.convert("RGB")
    preview.thumbnail((320, 320))
    x = common.model_input(picture28)
    outs, notes = [], []
    for role, title in (("dae", "Denoising AE"), ("vae", "VAE")):
        name, model = common.model_or_none(dataset, role)
        if model is None:
            outs.append(None)
            continue
        result = explore.reconstruct(model, x, name=name)
        outs.append(common.picture(result.image))
        notes.append(f"{title}: MSE {result.mse:.4f} against your picture")
    background = np.stack([upscale(picture28, EDITOR_SCALE)] * 3, axis=-1)
    editor_value = {"background": background, "layers": [], "composite": background}
    return (np.asarray(preview), common.picture(picture28), picture28, editor_value, *outs,
            "Cleaned by each model (they only know how to draw what they were trained on). " + "; ".join(notes))


def painted_mask(editor_value) -> torch.Tensor:
    """The painted layer of the editor -> bool (1, 1, 28, 28): a pixel is hidden when a
    quarter or more of its 10x10 block is painted."""
    layers = (editor_value or {}).get("layers") or []
    if not layers or layers[0] is None:
        raise explore.ExploreError("paint over the part to hide first (or choose a ready-made mask)")
    layer = np.asarray(layers[0])
    if layer.ndim != 3 or layer.shape[2] != 4:
        raise explore.ExploreError("the painted mask could not be read")
    alpha = layer[:, :, 3].astype(np.float32) / 255.0
    height, width = alpha.shape
    rows = (np.arange(height) * 28 // height)
    cols = (np.arange(width) * 28 // width)
    coverage = np.zeros((28, 28), np.float32)
    counts = np.zeros((28, 28), np.float32)
    np.add.at(coverage, (rows[:, None], cols[None, :]), alpha)
    np.add.at(counts, (rows[:, None], cols[None, :]), 1.0)
    hidden = coverage / np.maximum(counts, 1) >= 0.25
    if not hidden.any():
        raise explore.ExploreError("nothing is painted: paint over the part to hide first")
    return torch.from_numpy(hidden).reshape(1, 1, 28, 28)


# The inpainting rows, left to right: (checkpoint role, title). The context encoders paint the hole in one pass;
# the VAE optimises its code against the known pixels; the AE projects; the PixelCNN draws one completion; the
# diffusion model and the flow walk from noise with the known pixels put back at every step.
FILLERS = (("context", "Context encoder (L2 + adversarial)"), ("context-l2", "Context encoder, L2 only"),
           ("vae", "VAE (latent optimisation)"), ("ae", "AE (reconstruct, keep known pixels)"),
           ("pixelcnn", "PixelCNN (one completion)"), ("diffusion", "Diffusion (RePaint: known pixels at every step)"),
           ("flow", "Flow matching (known pixels on their straight line)"))
SHORT_TITLES = {"context": "Context encoder", "context-l2": "L2 only", "vae": "VAE", "ae": "AE", "pixelcnn": "PixelCNN",
                "diffusion": "Diffusion", "flow": "Flow"}


@common.user_errors
def on_inpaint(picture28, editor_value, mask_name: str, dataset: str):
    """-> (input with the hole shown, one picture per filler (None where no checkpoint), mean-image fill, score table)."""
    dataset = common.checked_dataset(dataset)
    if picture28 is None:
        raise explore.ExploreError("upload a picture first")
    hidden = painted_mask(editor_value) if mask_name == "painted" else explore.preset_mask(mask_name)
    truth = np.asarray(picture28, dtype=np.uint8)
    x = common.model_input(truth)
    shown = truth.copy()
    shown[hidden.reshape(28, 28).numpy()] = 90   # the hole, in grey
    loaded, _ = common.models_for(dataset, FILLERS)
    filled = {title: explore.inpaint(model, x, hidden) for title, (_, model) in loaded.items()}
    mean = (explore.mean_image(dataset).numpy()[0, 0] * 255).round().astype(np.uint8)
    baseline = np.where(hidden.reshape(28, 28).numpy(), mean, truth)
    # what the classifier reads in the picture, the baseline and each fill: one pass
    readings = explore.read_pictures([truth, baseline, *filled.values()], dataset, common.cache, top=1)
    said = [f"{top[0][0]} ({100 * top[0][1]:.0f}%)" for top in readings] if readings else [""] * (2 + len(filled))
    read = dict(zip(filled, said[2:]))
    rows = [f"| {title} | {explore.hidden_psnr(filled[title], truth, hidden):.1f} dB | {read[title]} |"
            if title in filled else f"| {title} | no `{dataset}-{role}` checkpoint yet (train one on the Train tab) | |"
            for role, title in FILLERS]
    rows.append(f"| mean image (baseline) | {explore.hidden_psnr(baseline, truth, hidden):.1f} dB | {said[1]} |")
    table = ("| filled by | PSNR on the hidden pixels | the classifier reads |\n|---|---|---|\n" + "\n".join(rows)
             + (f"\n\nThe classifier reads your picture, without the hole, as **{said[0]}**." if readings else ""))
    results = [common.picture(filled[title]) if title in filled else None for _, title in FILLERS]
    return (common.picture(shown), *results, common.picture(baseline), table)


def fresh_upload(path, dataset: str) -> list:
    """on_upload's answer, with the last picture's inpainting emptied (the page's upload, removal and switch)."""
    return [*on_upload(path, dataset), *[None] * (1 + len(FILLERS) + 1), "", ""]


def on_inpaint_page(picture28, editor_value, mask_name: str, dataset: str) -> list:
    return [*on_inpaint(picture28, editor_value, mask_name, dataset), ""]


def refuse(text: str) -> list:
    """A file the page refused before sending it (over the size cap: size_guard): everything emptied, and why."""
    if not text:
        return [gr.skip()] * (7 + 2 + len(FILLERS) + 2)
    return [None] * 6 + [refusal(text)] + [None] * (2 + len(FILLERS)) + ["", ""]


def build(dataset: gr.Radio, uploaded: gr.State, tab: gr.Tab) -> None:
    with gr.Row():
        with gr.Column(scale=1, min_width=260):
            # A file box, not gr.Image: gr.Image decodes uploads itself and fails with a bare
            # "Error" on a PDF renamed .png; here our own checks give the message.
            upload = gr.File(file_types=["image"], type="filepath", label="Your picture", height=120,
                             elem_id="ge-upload")
            original = gr.Image(label="Your picture", type="numpy", format="png", interactive=False, height=200,
                                elem_id="ge-upload-original")
            refused = size_guard("ge-upload")
        with gr.Column(scale=2):
            message = gr.Markdown("Upload a picture: a photo of a digit on paper, or of a piece of clothing.",
                                  elem_id="ge-upload-message")
            # What the model sees beside what each model makes of it (not under the picture in the left column:
            # there it pushed the mask editor down, its canvas half below a 1000 px window's fold).
            with gr.Row():
                seen = common.image_output("What the model sees", elem_id="ge-upload-seen")
                dae_out = common.image_output("Denoising AE", elem_id="ge-upload-dae")
                vae_out = common.image_output("VAE", elem_id="ge-upload-vae")
    gr.Markdown("### Inpainting: hide part of the picture and let the models fill it in")
    with gr.Row():
        with gr.Column(scale=1, min_width=300):
            editor = gr.ImageEditor(type="numpy", image_mode="RGBA", sources=[], label="Paint the part to hide",
                                    brush=gr.Brush(colors=["#ff3030"], default_size=30, color_mode="fixed"),
                                    transforms=(), layers=False, height=EDITOR_SIDE + EDITOR_LABEL_ROW, width=EDITOR_SIDE,
                                    elem_id="ge-mask-editor")
            mask_name = gr.Radio(MASK_CHOICES, value="painted", label="Hide", elem_id="ge-mask-choice")
            go = gr.Button("Inpaint", variant="primary", elem_id="ge-inpaint-go")
            note = gr.Markdown(elem_id="ge-inpaint-note")
        with gr.Column(scale=2):
            # Rows of four, short labels: nine pictures in one row were too small to read.
            with gr.Row():
                holed = common.image_output("With the hole", elem_id="ge-inpaint-input")
                fills = [common.image_output(SHORT_TITLES[role], elem_id=f"ge-inpaint-{role}") for role, _ in FILLERS[:3]]
            with gr.Row():
                fills += [common.image_output(SHORT_TITLES[role], elem_id=f"ge-inpaint-{role}") for role, _ in FILLERS[3:]]
            with gr.Row():
                mean_fill = common.image_output("Mean image", elem_id="ge-inpaint-mean")
                for _ in range(3):
                    gr.HTML("")    # keeps the last row's picture as wide as the others
            scores = gr.Markdown(elem_id="ge-inpaint-scores")

    # Everything made from a picture goes with it: a new upload, a removed file (the x) or a dataset switch
    # refreshes the first row and empties the inpainting; a failed upload says why once, beside the file box.
    picture_outputs = [original, seen, uploaded, editor, dae_out, vae_out, message]
    inpaint_outputs = [holed, *fills, mean_fill, scores]
    common.api_endpoint(on_upload, [upload, dataset], picture_outputs, "upload")
    for trigger in (upload.upload, upload.clear, dataset.change):
        common.page_event(trigger, fresh_upload, [upload, dataset], [*picture_outputs, *inpaint_outputs, note],
                          message=message, cleared=True, show_progress="hidden")
    common.api_endpoint(on_inpaint, [uploaded, editor, mask_name, dataset], inpaint_outputs, "inpaint")
    common.page_event(go.click, on_inpaint_page, [uploaded, editor, mask_name, dataset], [*inpaint_outputs, note],
                      message=note, cleared=True)
    refused.change(refuse, refused, [*picture_outputs, *inpaint_outputs, note], api_name=False, show_progress="hidden")
    # The editor's brush is not active until its button is clicked: click it for the user.
    tab.select(None, None, None, api_name=False,
               js="() => setTimeout(() => document.querySelector(\"#ge-mask-editor button[aria-label='Brush']\")?.click(), 300)")
