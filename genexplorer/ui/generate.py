"""Generate: VAE samples from the prior, a CVAE class-by-style grid, GAN samples."""
from __future__ import annotations

import gradio as gr

from .. import explore
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
def on_gan(dataset: str, count: int, seed: int):
    return _prior_grid(dataset, "gan", count, seed)


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

    gr.on([vae_button.click, vae_seed.change, vae_count.release, tab.select, dataset.change], on_vae, [dataset, vae_count, vae_seed], vae_out,
          api_name="generate_vae")
    gr.on([gan_button.click, gan_seed.change, gan_count.release, tab.select, dataset.change], on_gan, [dataset, gan_count, gan_seed], gan_out,
          api_name="generate_gan")
    gr.on([cvae_button.click, cvae_seed.change, styles.release, tab.select, dataset.change], on_cvae, [dataset, styles, cvae_seed],
          [cvae_out, cvae_legend], api_name="generate_cvae")
