"""Latent map: the test set's codes coloured by class, the user's drawing on top, and
for 2-D models the decoded manifold. AE-2d beside VAE-2d shows why the VAE's prior matters."""
from __future__ import annotations

import json
import math

import gradio as gr
import numpy as np
import plotly.graph_objects as go
import torch

from .. import explore
from . import common

COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
MAX_POINTS = 3000       # plotted per map; more makes the browser slow with no gain in the picture
MANIFOLD_SIZE = 15
METHOD_NAMES = {"latent": "the 2-D code itself", "umap": "UMAP of the codes", "pca": "PCA of the codes"}
COMPARED = (("ae2d", "AE"), ("vae2d", "VAE"))   # (role, title): the two 2-D maps side by side, plot "ge-map-<role>"

# Hooks plotly_click on every map and writes the clicked point into a hidden textbox.
CLICK_JS = """
() => {
  const hook = () => {
    document.querySelectorAll('[id^="ge-map-"] .js-plotly-plot').forEach((plot) => {
      if (plot.geHooked || !plot.on) return;
      plot.geHooked = true;
      plot.on('plotly_click', (event) => {
        const p = event.points[0];
        const owner = plot.closest('[id^="ge-map-"]').id;
        const box = document.querySelector('#ge-map-click textarea, #ge-map-click input');
        if (!box) return;
        const text = JSON.stringify({ plot: owner, x: p.x, y: p.y, index: p.customdata ?? null, nonce: Math.random() });
        const proto = box.tagName === 'TEXTAREA' ? HTMLTextAreaElement.prototype : HTMLInputElement.prototype;
        Object.getOwnPropertyDescriptor(proto, 'value').set.call(box, text);
        box.dispatchEvent(new Event('input', { bubbles: true }));
      });
    });
  };
  setInterval(hook, 500);
}
"""


def _subsample(count: int) -> np.ndarray:
    if count <= MAX_POINTS:
        return np.arange(count)
    return np.random.default_rng(0).choice(count, MAX_POINTS, replace=False)


def figure(name: str, method: str | None, current28=None, *, title: str = "") -> go.Figure:
    """A plotly scatter of ``name``'s test-set map, one trace per class, the drawing as a star."""
    latent_map = common.maps.get(name, method)
    keep = _subsample(len(latent_map.coords))
    fig = go.Figure()
    for label, class_name in enumerate(latent_map.class_names):
        index = keep[latent_map.labels[keep] == label]
        fig.add_trace(go.Scatter(
            x=latent_map.coords[index, 0], y=latent_map.coords[index, 1], mode="markers", name=class_name,
            customdata=index, marker={"size": 5, "color": COLOURS[label % 10], "opacity": 0.7},
            hovertemplate=f"{class_name}<extra></extra>"))
    if current28 is not None:
        point = common.maps.place(name, common.model_input(current28), latent_map.method)
        fig.add_trace(go.Scatter(x=[point[0]], y=[point[1]], mode="markers", name="your drawing",
                                 marker={"size": 18, "symbol": "star", "color": "black", "line": {"color": "white", "width": 2}}))
    fig.update_layout(height=430, margin={"l": 30, "r": 10, "t": 40, "b": 30}, title=title or f"{name}: {METHOD_NAMES[latent_map.method]}",
                      legend={"itemsizing": "constant"}, clickmode="event", dragmode="pan")
    return fig


@common.user_errors
def compare(dataset: str, current28):
    """The AE-2d and VAE-2d maps with their decoded manifolds, side by side."""
    dataset = common.checked_dataset(dataset)
    out = []
    for role, title in COMPARED:
        name = common.cache.default(dataset, role)
        if name is None or common.cache.get(name).latent_dim != 2:
            out += [None, None]
            continue
        codes = common.maps.get(name, "latent").coords
        out += [figure(name, "latent", current28, title=f"{name}: {title} codes of the test set"),
                common.picture(explore.manifold(common.cache.get(name), size=MANIFOLD_SIZE, codes=codes), 2)]
    return out


@common.user_errors
def single(name: str, method: str, current28):
    if not name:
        return None
    return figure(name, method or None, current28)


@common.user_errors
def on_click(payload: str, dataset: str, any_model: str):
    """A clicked point -> the picture decoded there (2-D maps: the code under the mouse;
    UMAP/PCA maps: the reconstruction of the test image behind the point)."""
    if not payload:
        return None, ""
    try:
        click = json.loads(payload)
        plot = str(click["plot"])
        x, y = float(click["x"]), float(click["y"])
        if not (math.isfinite(x) and math.isfinite(y)):
            raise ValueError("not a point")
    except (ValueError, KeyError, TypeError):
        raise explore.ExploreError("the clicked point could not be read") from None
    compared = {f"ge-map-{role}": role for role, _ in COMPARED}
    if plot == "ge-map-any":
        name = any_model
    elif plot in compared:
        name = common.cache.default(common.checked_dataset(dataset), compared[plot])
    else:
        raise explore.ExploreError(f"unknown map {plot!r}")
    model = common.cache.get(name)
    if model.latent_dim == 2:
        z = torch.tensor([[x, y]], dtype=torch.float32).clamp(-10, 10)
        label = 0
        image = explore.decode_image(model, z, label)
        return common.picture(image), f"{name} decoded at z = ({x:.2f}, {y:.2f})"
    index = click.get("index")
    if index is None:
        return None, "That point is your drawing: its reconstruction is on the Draw tab."
    images, labels = explore.test_set(model.dataset)
    index = int(index)
    if not 0 <= index < len(images):
        raise explore.ExploreError("that point is not in the test set")
    result = explore.reconstruct(model, explore.as_batch(images[index]), label=int(labels[index]) if model.conditional else None)
    return common.picture(result.image), f"{name}: reconstruction of test image {index} ({model.class_names[labels[index]]})"


def build(dataset: gr.Radio, current: gr.State, tab: gr.Tab) -> None:
    gr.Markdown("Each dot is a test image, placed by its code. The star is your drawing. "
                "**Click a point to decode it.** Left: a plain AE's 2-D codes spread in odd, gappy shapes, so "
                "points between the clusters decode to nonsense. Right: the VAE's KL term pulls codes towards "
                "N(0, I), so the plane is filled and every point decodes to something plausible. The grids show "
                "what each model decodes over its plane (the VAE's spaced by Gaussian quantiles).")
    refresh = gr.Button("Show maps (with my drawing)", variant="primary", elem_id="ge-map-refresh")
    with gr.Row():
        with gr.Column():
            ae_plot = gr.Plot(elem_id="ge-map-ae2d", label="AE, 2-D latent")
            ae_grid = common.image_output("AE decoded over its plane", height=420, width=420, elem_id="ge-manifold-ae")
        with gr.Column():
            vae_plot = gr.Plot(elem_id="ge-map-vae2d", label="VAE, 2-D latent")
            vae_grid = common.image_output("VAE decoded over its plane", height=420, width=420, elem_id="ge-manifold-vae")
    with gr.Row():
        clicked = common.image_output("Decoded at the clicked point", height=180, width=180, elem_id="ge-map-decoded")
        clicked_info = gr.Markdown(elem_id="ge-map-info")
    gr.Markdown("### Any encoder model")
    with gr.Row():
        names = common.cache.names("mnist", able="encodes")
        any_model = gr.Dropdown(names, value=common.cache.default("mnist", "vae"), label="Model", elem_id="ge-map-model")
        method = gr.Radio([("UMAP", "umap"), ("PCA", "pca"), ("2-D code", "latent")], value="umap",
                          label="Projection (larger latents)", elem_id="ge-map-method")
    any_plot = gr.Plot(elem_id="ge-map-any", label="Map")
    click_box = gr.Textbox(elem_id="ge-map-click", elem_classes=["ge-hidden"], show_label=False, container=False)

    def method_for(name, chosen):
        available = common.maps.methods(name) if name else []
        return chosen if chosen in available else (available[0] if available else None)

    def show_single(name, chosen, current28):
        return single(name, method_for(name, chosen), current28)

    tab.select(lambda d, m: common.refresh_choices(d, m, "encodes"), [dataset, any_model], any_model,
               api_name=False).then(
        compare, [dataset, current], [ae_plot, ae_grid, vae_plot, vae_grid], api_name=False).then(
        show_single, [any_model, method, current], any_plot, api_name=False)
    refresh.click(compare, [dataset, current], [ae_plot, ae_grid, vae_plot, vae_grid], api_name="maps_compare").then(
        show_single, [any_model, method, current], any_plot, api_name=False)
    gr.on([any_model.change, method.change], show_single, [any_model, method, current], any_plot, api_name="map")
    click_box.change(on_click, [click_box, dataset, any_model], [clicked, clicked_info], api_name="map_click",
                     show_progress="hidden")

    def switch(dataset_value):
        """The other dataset's models; the point decoded from the old map goes."""
        names = common.cache.names(dataset_value, able="encodes")
        return gr.update(choices=names, value=common.cache.default(dataset_value, "vae")), None, ""

    dataset.change(switch, dataset, [any_model, clicked, clicked_info], api_name=False).then(
        compare, [dataset, current], [ae_plot, ae_grid, vae_plot, vae_grid], api_name=False)
