"""Learn: short, accurate notes on each family (genexplorer/learn_notes.py), with a table of contents."""
from __future__ import annotations

import html

import gradio as gr

from .. import glossary, pixels
from ..learn_notes import ALL_NOTES, CLASS_NOTES, CONTEXT_NOTES, DIFFUSION_NOTES, NOTES, PIX2PIX_NOTES, PIXELCNN_NOTES

LATEX = [{"left": "$$", "right": "$$", "display": True}, {"left": "$", "right": "$", "display": False}]
NOTE_CLASSES = ["ge-learn-notes"]     # the page's script finds the notes' headings in these (ui/presenter.py)


def contents_html() -> str:
    """The table of contents: one link per note; the page's script scrolls to the heading (a click on
    data-learn, see ui/presenter.py), as it does for the links from the other tabs."""
    items = "".join(f'<li><a href="#" data-learn="{html.escape(glossary.title(heading))}">'
                    f"{html.escape(glossary.title(heading))}</a></li>"
                    for note in ALL_NOTES for heading in glossary.headings(note))
    return f'<nav class="ge-learn-contents" aria-label="Learn: contents"><b>Contents</b><ol>{items}</ol></nav>'


def build() -> None:
    gr.HTML(contents_html(), elem_id="ge-learn-contents", padding=False)
    for text, elem_id in ((NOTES, "ge-learn"), (CONTEXT_NOTES, "ge-learn-context"), (PIX2PIX_NOTES, "ge-learn-pix2pix"),
                          (DIFFUSION_NOTES, "ge-learn-diffusion")):
        gr.Markdown(text, latex_delimiters=LATEX, elem_id=elem_id, elem_classes=NOTE_CLASSES)
    with gr.Row(equal_height=False):
        with gr.Column(scale=3):
            gr.Markdown(PIXELCNN_NOTES, latex_delimiters=LATEX, elem_id="ge-learn-pixelcnn", elem_classes=NOTE_CLASSES)
        with gr.Column(scale=1, min_width=200):
            gr.Image(pixels.receptive_field_picture(), label="What one output may see (3 layers)", format="png",
                     interactive=False, height=230, width=230, elem_id="ge-learn-mask", buttons=[])
    gr.Markdown(CLASS_NOTES, latex_delimiters=LATEX, elem_id="ge-learn-class", elem_classes=NOTE_CLASSES)
