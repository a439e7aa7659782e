"""Generate: VAE samples from the prior, CVAE and cGAN class-by-style grids, GAN samples, and PixelCNN
samples drawn pixel by pixel while you watch."""
from __future__ import annotations

import time

import gradio as gr

from .. import explore, pixels
from ..images import grid
from . import common


def _default_model(dataset: str, role: str):
    name, model = common.model_or_none(common.checked_dataset(dataset), role)
    if model is None:
        raise explore.ExploreError(f"no {role.upper()} checkpoint for {dataset}")
    return model


def _prior_grid(dataset: str, role: str, count: int, seed: int):
    return common.picture(grid(explore.prior_samples(_default_model(dataset, role), count, seed), ncols=10), 2)


@common.user_errors
def on_vae(dataset: str, count: int, seed: int):
    return _prior_grid(dataset, "vae", count, seed)


@common.user_errors
def on_cvae(dataset: str, styles: int, seed: int):
    model = _default_model(dataset, "cvae")
    rows = " / ".join(model.class_names)
    return (common.picture(grid(explore.class_grid(model, styles, seed), ncols=int(styles)), 2),
            f"Rows, top to bottom: {rows}. Each column shares one code z: the same *style* told a different class.")


@common.user_errors
def on_cgan(dataset: str, styles: int, seed: int):
    """The class-conditional GAN's grid, like the CVAE's; without a cGAN checkpoint, a note saying how to get one."""
    explore.finite(styles, "number of styles", 1, 12), explore.seeded_generator(seed)   # bad input is refused either way
    name, model = common.model_or_none(common.checked_dataset(dataset), "cgan")
    if model is None:
        return None, ("No class-conditional GAN for this dataset yet: train one on the **Train** tab "
                      "(family *Conditional GAN*), and it appears here.")
    return (common.picture(grid(explore.class_grid(model, styles, seed), ncols=int(styles)), 2),
            f"{name}: one row per class, top to bottom: {' / '.join(model.class_names)}. Each column shares one noise z: "
            "G(z, y) keeps what z holds and draws the class y it is told.")


@common.user_errors
def on_gan(dataset: str, count: int, seed: int):
    return _prior_grid(dataset, "gan", count, seed)


@common.user_errors
def on_pixelcnn_start(dataset: str, count: int, seed: int, pace: str, previous: str | None):
    """Start drawing; -> (job id for the page's watcher, first frame, message, job id kept per user).
    The page then asks the live channel for frames; API clients call /pixelcnn_result."""
    model = _default_model(dataset, "pixelcnn")
    name = common.cache.default(common.checked_dataset(dataset), "pixelcnn")
    job = common.pixel_jobs.add(pixels.sample_job(name, model, count, seed, pace=pace), replaces=previous)
    return (job.id, job.frame().picture,
            f"Drawing {len(job.images)} pictures: 784 pixels each, one after another, every pixel drawn from "
            "p(x_i | all the pixels before it). Blue: still to draw; red: the next pixel.", job.id)


@common.user_errors
def on_pixelcnn_result(job_id: str, dataset: str):
    """The finished drawing (run to its end if the page was not watching) and what it cost."""
    job = common.pixel_jobs.get(job_id)
    frame = job.run_to_end()
    count = len(job.images)
    vae_ms = None
    try:
        vae = _default_model(dataset, "vae")
        start = time.perf_counter()
        explore.prior_samples(vae, count, 0)
        vae_ms = 1000 * (time.perf_counter() - start)
    except (explore.ExploreError, common.CheckpointError):
        pass
    vae_note = f" The VAE draws {count} in {vae_ms:.0f} ms: one pass of its decoder." if vae_ms is not None else ""
    return (frame.picture,
            f"**{count} pictures in {frame.compute_s:.2f} s of computing**: 784 passes of the network, "
            f"{1000 * frame.compute_s / 784:.1f} ms each (all {count} pictures at once).{vae_note} "
            "Exact likelihood is paid for with sequential sampling.")


def build(dataset: gr.Radio, tab: gr.Tab) -> None:
    gr.Markdown("Every picture here is new: decoded from a random code z ~ N(0, I). The same seed always gives the same pictures.")
    with gr.Row():
        with gr.Column():
            gr.Markdown("### VAE samples")
            vae_count = gr.Slider(10, 100, value=40, step=10, label="How many", elem_id="ge-gen-vae-count")
            vae_seed = gr.Number(0, precision=0, minimum=0, label="Seed", elem_id="ge-gen-vae-seed")
            vae_button = gr.Button("Sample", elem_id="ge-gen-vae-go")
            vae_out = common.image_output("VAE samples", height=340, width=None, elem_id="ge-gen-vae")
        with gr.Column():
            gr.Markdown("### GAN samples")
            gan_count = gr.Slider(10, 100, value=40, step=10, label="How many", elem_id="ge-gen-gan-count")
            gan_seed = gr.Number(0, precision=0, minimum=0, label="Seed", elem_id="ge-gen-gan-seed")
            gan_button = gr.Button("Sample", elem_id="ge-gen-gan-go")
            gan_out = common.image_output("GAN samples", height=340, width=None, elem_id="ge-gen-gan")
    gr.Markdown("### CVAE: classes by rows, styles by columns")
    with gr.Row():
        styles = gr.Slider(2, 12, value=8, step=1, label="Styles (columns)", elem_id="ge-gen-cvae-styles")
        cvae_seed = gr.Number(0, precision=0, minimum=0, label="Seed", elem_id="ge-gen-cvae-seed")
        cvae_button = gr.Button("Draw the grid", elem_id="ge-gen-cvae-go")
    cvae_out = common.image_output("CVAE grid", height=420, width=None, elem_id="ge-gen-cvae")
    cvae_legend = gr.Markdown()

    gr.Markdown("### Class-conditional GAN (cGAN): classes by rows, the same noise z down each column")
    with gr.Row():
        cgan_styles = gr.Slider(2, 12, value=8, step=1, label="Styles (columns)", elem_id="ge-gen-cgan-styles")
        cgan_seed = gr.Number(0, precision=0, minimum=0, label="Seed", elem_id="ge-gen-cgan-seed")
        cgan_button = gr.Button("Draw the grid", elem_id="ge-gen-cgan-go")
    cgan_out = common.image_output("cGAN grid", height=420, width=None, elem_id="ge-gen-cgan")
    cgan_legend = gr.Markdown(elem_id="ge-gen-cgan-legend")

    gr.Markdown("### PixelCNN: one pixel at a time\n"
                "An autoregressive model has no code z: it draws pixel 1, then pixel 2 given pixel 1, and so on "
                "for all 784 pixels, in reading order. Watch the pictures fill in.")
    with gr.Row():
        with gr.Column(scale=1, min_width=260):
            pix_count = gr.Slider(1, pixels.MAX_IMAGES, value=16, step=1, label="How many", elem_id="ge-gen-pixelcnn-count")
            pix_seed = gr.Number(0, precision=0, minimum=0, label="Seed", elem_id="ge-gen-pixelcnn-seed")
            pix_pace = gr.Radio(list(pixels.PACES), value="row by row", label="Pace",
                                info="live: as fast as this computer draws; slower paces show the raster order",
                                elem_id="ge-gen-pixelcnn-pace")
            pix_button = gr.Button("Draw pixel by pixel", variant="primary", elem_id="ge-gen-pixelcnn-go")
        with gr.Column(scale=2):
            pix_out = common.image_output("PixelCNN samples", height=380, width=None, elem_id="ge-gen-pixelcnn")
            gr.HTML("", elem_id="ge-gen-pixelcnn-status")
            pix_message = gr.Markdown(elem_id="ge-gen-pixelcnn-message")
    pix_job = gr.Textbox(elem_id="ge-gen-pixelcnn-job", elem_classes=["ge-hidden"], show_label=False, container=False)
    pix_done = gr.Textbox(elem_id="ge-gen-pixelcnn-done", elem_classes=["ge-hidden"], show_label=False, container=False)
    pix_state = gr.State(None)

    pix_button.click(on_pixelcnn_start, [dataset, pix_count, pix_seed, pix_pace, pix_state],
                     [pix_job, pix_out, pix_message, pix_state], api_name="pixelcnn_sample", show_progress="hidden"
                     ).then(None, [pix_job], None, js="(job) => { window.geLive.pixels(job, 'ge-gen-pixelcnn', "
                                                       "'ge-gen-pixelcnn-done'); return []; }")
    # A switch of dataset: the last drawing was the other dataset's model's, so it goes (and its watcher stops).
    dataset.change(lambda: (None, "", ""), None, [pix_out, pix_message, pix_job], api_name=False, show_progress="hidden",
                   js="() => { if (window.geLive) window.geLive.watching['ge-gen-pixelcnn'] = null; "
                      "const s = document.querySelector('#ge-gen-pixelcnn-status'); if (s) s.textContent = ''; return []; }")
    pix_done.change(on_pixelcnn_result, [pix_done, dataset], [pix_out, pix_message], api_name="pixelcnn_result",
                    show_progress="hidden")

    gr.on([vae_button.click, vae_seed.change, vae_count.release, tab.select, dataset.change], on_vae, [dataset, vae_count, vae_seed], vae_out,
          api_name="generate_vae")
    gr.on([gan_button.click, gan_seed.change, gan_count.release, tab.select, dataset.change], on_gan, [dataset, gan_count, gan_seed], gan_out,
          api_name="generate_gan")
    gr.on([cvae_button.click, cvae_seed.change, styles.release, tab.select, dataset.change], on_cvae, [dataset, styles, cvae_seed],
          [cvae_out, cvae_legend], api_name="generate_cvae")
    gr.on([cgan_button.click, cgan_seed.change, cgan_styles.release, tab.select, dataset.change], on_cgan,
          [dataset, cgan_styles, cgan_seed], [cgan_out, cgan_legend], api_name="generate_cgan")
