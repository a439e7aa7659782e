"""The Gradio page: one module per tab, each wiring components to genexplorer.explore."""
from __future__ import annotations

import os
import sys

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
# Gradio 6.31 rebuilds a pandas summary of up to 10,000 past events after EVERY event (for a
# monitoring page we do not use): 14 ms at 100 events, 32 ms at 10,000 on this machine, more
# than most of our handlers. Keep one event and never rebuild the summary.
os.environ.setdefault("GRADIO_ANALYTICS_MAX_EVENTS", "1")
os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", str(10 ** 12))

# Gradio imports IPython (0.4 s of its start-up, -X importtime) only to offer notebook magics. Outside IPython, hide
# it while gradio imports (gradio goes on as if it were not installed), then let anyone import it (gradio_fixes 5).
_HIDE_IPYTHON = "IPython" not in sys.modules
if _HIDE_IPYTHON:
    sys.modules["IPython"] = None  # type: ignore[assignment] - import IPython now raises ImportError
try:
    import gradio as gr  # noqa: E402
finally:
    if _HIDE_IPYTHON:
        del sys.modules["IPython"]

from . import gradio_fixes  # noqa: E402

gradio_fixes.apply()

from . import common, complete, diffusion, draw, ganlab, generate, interpolate, learn, live, maps, noise, sketch, sliders, training, upload, zoo  # noqa: E402
from .canvas import CANVAS_CSS  # noqa: E402
from . import class_routes, classbar, classtab, presenter  # noqa: E402

CSS = CANVAS_CSS + ganlab.LAB_CSS + classbar.CLASS_CSS + diffusion.DIFFUSION_CSS + """
.ge-hidden { display: none !important; }
.ge-pixels img { image-rendering: pixelated; object-fit: contain; }
#ge-title h1 { margin-bottom: 0; }
""" + presenter.CSS
# Runs once when the page loads.
HEAD_JS = (f"() => {{ ({live.LIVE_JS})(); ({maps.CLICK_JS})(); ({diffusion.DIFFUSION_JS})(); "
           f"({presenter.PAGE_JS})(); }}")
# The Soft theme's indigo labels (#6366f1 on #e0e7ff, 3.6:1) and white on #6366f1 (4.5:1 less a hair) fail
# WCAG AA's 4.5:1 for their small text (axe-core: color-contrast); one shade darker passes.
THEME = gr.themes.Soft().set(
    block_label_text_color="*primary_700", block_title_text_color="*primary_700", color_accent="*primary_600",
    checkbox_label_background_fill_selected="*primary_600", button_primary_background_fill="*primary_600",
    button_primary_background_fill_hover="*primary_700", link_text_color_visited="*primary_700",
    body_text_color_subdued="*neutral_600")


def build_demo() -> gr.Blocks:
    with gr.Blocks(title="genexplorer", delete_cache=(1800, 3600)) as demo:
        classbar.build_bar()         # shown only on a class's link, /?class=CODE
        with gr.Row():
            gr.Markdown("# genexplorer\nDraw, add noise, slide through latent space and watch autoencoders, "
                        "VAEs and GANs at work, side by side.", elem_id="ge-title")
            with gr.Column(elem_id="ge-top-controls"):
                dataset = gr.Radio(common.DATASETS, value="mnist", label="Dataset (applies to every tab)",
                                   elem_id="ge-dataset")
                gr.HTML(presenter.TOOLS_HTML, elem_id="ge-tools", padding=False)
        current = gr.State(None)     # the user's drawing, 28x28 uint8, shared by the tabs
        uploaded = gr.State(None)    # the user's uploaded picture, 28x28 uint8
        with gr.Tabs():
            with gr.Tab("Draw", id="draw"):
                draw.build(dataset, current)
            with gr.Tab("Noise", id="noise") as tab:
                noise.build(dataset, current, tab)
            with gr.Tab("AE zoo", id="zoo") as tab:
                zoo.build(dataset, current, tab)
            with gr.Tab("Latent sliders", id="sliders") as tab:
                sliders.build(dataset, current, tab)
            with gr.Tab("Latent map", id="map") as tab:
                maps.build(dataset, current, tab)
            with gr.Tab("Interpolate", id="interpolate") as tab:
                interpolate.build(dataset, current, uploaded, tab)
            with gr.Tab("Generate", id="generate") as tab:
                generate.build(dataset, tab)
            with gr.Tab("Diffusion", id="diffusion") as tab:
                diffusion.build(dataset, current, tab)
            with gr.Tab("Sketch", id="sketch") as tab:
                sketch.build(dataset, tab)
            with gr.Tab("Toy lab", id="ganlab") as tab:
                ganlab.build(tab)
            with gr.Tab("Upload", id="upload") as tab:
                upload.build(dataset, uploaded, tab)
            with gr.Tab("Complete", id="complete") as tab:
                complete.build(dataset, current, uploaded, tab)
            with gr.Tab("Train", id="train") as tab:
                training.build(tab)
            with gr.Tab("Learn", id="learn"):
                learn.build()
            with gr.Tab("Class", id="class"):
                classtab.build()
    return demo


# Gradio keeps each session's state (about 0.45 MB here: a copy of the page config once a handler
# updates a component) until this many sessions exist; its default, 10,000, is ~4.5 GB. The oldest
# go first: a student idle for the last thousand page loads draws again.
LAUNCH_OPTIONS = {"css": CSS, "js": HEAD_JS, "theme": THEME, "max_file_size": "20mb",
                  "state_session_capacity": 1000}


def launch(demo: gr.Blocks, *, block: bool = True, **kwargs):
    """demo.launch with our options, plus the live channel's routes on the same server.
    Returns launch()'s (app, local_url, share_url); with block=True, serves until stopped."""
    result = demo.launch(prevent_thread_lock=True, **LAUNCH_OPTIONS, **kwargs)
    live.add_routes(demo.app)
    class_routes.add_class_routes(demo.app)
    if block:
        demo.block_thread()
    return result
