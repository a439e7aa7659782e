"""Noise tab: corrupt a picture and compare how AE, denoising AE and VAE clean it."""
from __future__ import annotations

import gradio as gr

from .. import explore, lessons
from . import common
from .upload import refusal, size_guard

NOISE_CHOICES = [("Gaussian (sigma)", "gaussian"), ("Salt and pepper (fraction)", "salt_pepper"),
                 ("Masking (each pixel zeroed with probability nu)", "masking")]
ROLES = (("ae", "AE"), ("dae", "Denoising AE"), ("vae", "VAE"))
LESSON = lessons.NOISE_INTRO   # before a picture; with one, lessons.noise_lesson says what its scores show


@common.user_errors
def on_noise(clean28, dataset: str, noise: str, level: float, seed: int):
    """-> (clean, noisy, AE, DAE, VAE pictures, score table)."""
    dataset = common.checked_dataset(dataset)
    if clean28 is None:
        return [None] * 5 + ["Pick an example, use your drawing or upload a picture first."]
    clean = common.model_input(clean28)
    noisy = explore.make_noisy(clean, noise, level, seed)
    loaded, missing = common.models_for(dataset, ROLES)
    results = explore.denoise({title: model for title, (_, model) in loaded.items()}, clean, noisy)
    by_name = {r.name: r for r in results}
    pictures = [common.picture(by_name[title].image) if title in by_name else None for _, title in ROLES]
    rows = [f"| {r.name} | {r.psnr:.1f} dB | {r.ssim:.3f} |" for r in results]
    table = "| against the clean image | PSNR | SSIM |\n|---|---|---|\n" + "\n".join(rows)
    if missing:
        table += "".join(f"\n\n**{problem}**" for problem in missing)
    lesson = lessons.noise_lesson({r.name: round(r.psnr, 1) for r in results})
    return [common.picture(clean28), common.picture(by_name["noisy input"].image), *pictures, table + "\n\n" + lesson]


@common.user_errors
def use_example(index: int, dataset: str):
    dataset = common.checked_dataset(dataset)
    choices = explore.examples(dataset, per_class=1, offset=3)
    return choices[int(index) % len(choices)][0]


@common.user_errors
def use_upload(path, dataset: str):
    from .upload import load_picture

    if not path:
        return None
    return common.preprocess_picture(load_picture(path), common.checked_dataset(dataset))


def use_drawing(current28, clean28):
    """'Use my drawing' -> (the picture to noise, note): with nothing drawn the picture shown stays, and the note
    says why."""
    if current28 is None:
        return clean28, f"**{common.MISSING_PICTURE['drawing']}.**"
    return current28, ""


def initial_clean(clean28, current28, dataset: str):
    """What the tab shows when first opened: the drawing, else a test example."""
    if clean28 is not None:
        return clean28
    if current28 is not None:
        return current28
    return explore.examples(common.checked_dataset(dataset), per_class=1, offset=3)[3][0]


def build(dataset: gr.Radio, current: gr.State, tab: gr.Tab) -> None:
    clean_state = gr.State(None)
    with gr.Row():
        with gr.Column(scale=1, min_width=280):
            with gr.Row():
                from_drawing = gr.Button("Use my drawing", elem_id="ge-noise-use-drawing")
                example_button = gr.Button("Next test example", elem_id="ge-noise-example")
            upload = gr.File(file_types=["image"], type="filepath", label="…or upload a picture", height=100,
                             elem_id="ge-noise-upload")
            note = gr.Markdown(elem_id="ge-noise-note")   # why a picture was not taken: beside the buttons
            refused = size_guard("ge-noise-upload")
            noise = gr.Radio(NOISE_CHOICES, value="gaussian", label="Noise type", elem_id="ge-noise-type")
            level = gr.Slider(0, 1, value=0.3, step=0.01, label="Level (sigma, fraction or nu)", elem_id="ge-noise-level")
            seed = gr.Number(0, precision=0, minimum=0, label="Seed (same seed, same noise)", elem_id="ge-noise-seed")
        with gr.Column(scale=2):
            with gr.Row():
                clean_out = common.image_output("Clean", elem_id="ge-noise-clean")
                noisy_out = common.image_output("Noisy", elem_id="ge-noise-noisy")
                outs = [common.image_output(title, elem_id=f"ge-noise-{role}") for role, title in ROLES]
            table = gr.Markdown(LESSON, elem_id="ge-noise-table")
    example_counter = gr.State(0)
    outputs = [clean_out, noisy_out, *outs, table]
    inputs = [clean_state, dataset, noise, level, seed]

    level.input(on_noise, inputs, outputs, api_name="noise", trigger_mode="always_last", show_progress="hidden")
    for trigger in (noise.change, seed.change):
        trigger(on_noise, inputs, outputs, api_name=False, show_progress="hidden")
    from_drawing.click(use_drawing, [current, clean_state], [clean_state, note], api_name=False).then(
        on_noise, inputs, outputs, api_name=False, show_progress="hidden")
    example_button.click(lambda i: i + 1, example_counter, example_counter, api_name=False).then(
        use_example, [example_counter, dataset], clean_state, api_name=False).then(
        on_noise, inputs, outputs, api_name=False, show_progress="hidden")
    # A file that cannot be read says why under the file box, once; the picture shown stays.
    common.page_event(upload.upload, lambda path, d: [use_upload(path, d), ""], [upload, dataset], [clean_state, note],
                      message=note).then(on_noise, inputs, outputs, api_name=False, show_progress="hidden")
    common.api_endpoint(use_upload, [upload, dataset], clean_state, "noise_upload")
    refused.change(lambda text: refusal(text) if text else gr.skip(), refused, note, api_name=False,
                   show_progress="hidden")
    tab.select(initial_clean, [clean_state, current, dataset], clean_state, api_name=False).then(
        on_noise, inputs, outputs, api_name=False, show_progress="hidden")
    dataset.change(lambda d: initial_clean(None, None, d), dataset, clean_state, api_name=False).then(
        on_noise, inputs, outputs, api_name=False, show_progress="hidden")
