"""Autoencoder zoo tab: the same picture, pure noise, and the picture shifted, through PCA-16, a dense AE, the conv
AE, an overcomplete AE and a sparse AE (genexplorer.zoo), with their errors and the sparse AE's code."""
from __future__ import annotations

import gradio as gr

from .. import explore, zoo
from . import common

LESSON = """**What to look for.** The *overcomplete* AE's code (1,024 numbers) is wider than the picture (784 pixels):
it rebuilds your picture almost exactly and copies even the **shifted** one (the table), while the undercomplete
ones (PCA with 16 components, the dense and the conv AE with 16 numbers) cannot copy and give back something like the
pictures they were trained on. One exception teaches the same thing: the digits' conv AE saw every training digit
moved a little (shifted, turned, scaled), so a moved digit *is* like its training pictures, and it follows a shift
as well as the overcomplete one; the Fashion conv AE, trained on the pictures as they are, does not. Yet the
overcomplete AE does not copy **pure noise**: capacity to copy is not having learned to. Noise lives in directions
no training picture had, where nothing was learned, so it fails there like the others (measured in BENCHMARKS.md).
The *sparse* AE has the same width, but its L1 penalty keeps most units at exactly zero (the grids: bright = active).
The dense AE sees 784 separate pixels, the conv AE local patterns: move the picture and compare."""


def _source_picture(source: str, current28, dataset: str, example_class, which):
    if source == "drawing":
        if current28 is None:
            raise explore.ExploreError("draw something on the Draw tab first, or pick a test example")
        return current28
    label = common.class_label(example_class) or 0
    which = int(explore.finite(which, "which example", 0, 9))
    pool = [picture for picture, y in explore.examples(dataset, per_class=10) if y == label]
    return pool[which]


@common.user_errors
def on_zoo(source: str, current28, dataset: str, example_class, which, dx, dy, noise_seed):
    """-> (3 rows of 6 pictures: input and the five models', the errors table, the two codes and their note)."""
    dataset = common.checked_dataset(dataset)
    picture = _source_picture(source, current28, dataset, example_class, which)
    inputs = zoo.inputs_for(picture, dx, dy, noise_seed)
    loaded, missing = common.models_for(dataset, zoo.ZOO)
    results = zoo.run_zoo(loaded, inputs)
    pictures = []
    for label, picture28 in inputs.items():
        by_title = {r.title: r for r in results[label]}
        pictures.append(common.picture(picture28))
        pictures += [common.picture(by_title[title].picture) if title in by_title else None for _, title in zoo.ZOO]
    table = zoo.errors_table(results) if loaded else ""
    if missing:
        table += "".join(f"\n\n**{problem}**" for problem in missing)
    strips, notes = [], []
    for title in ("overcomplete AE", "sparse AE"):
        if title in loaded:
            image, active, width = zoo.code_strip(loaded[title][1], inputs[zoo.INPUTS[0]])
            strips.append(image)
            notes.append(f"{title}: **{active:,} of {width:,}** units active for your picture")
        else:
            strips.append(None)
    return [*pictures, table, *strips, " · ".join(notes)]


def build(dataset: gr.Radio, current: gr.State, tab: gr.Tab) -> None:
    gr.Markdown("The lectures' autoencoders side by side: the same input through each, the error beside it.")
    with gr.Row():
        source = gr.Radio([("a test example", "example"), ("my drawing (Draw tab)", "drawing")], value="example",
                          label="Picture", elem_id="ge-zoo-source")
        example_class = gr.Dropdown(common.class_choices("mnist"), value=3, label="Example class", elem_id="ge-zoo-class")
        which = gr.Slider(0, 9, value=0, step=1, label="Which example", elem_id="ge-zoo-which")
    note = gr.Markdown(elem_id="ge-zoo-note")       # why the picker went back, or what went wrong: beside it
    with gr.Row():
        dx = gr.Slider(-zoo.MAX_SHIFT, zoo.MAX_SHIFT, value=5, step=1, label="Shift right (pixels)", elem_id="ge-zoo-dx")
        dy = gr.Slider(-zoo.MAX_SHIFT, zoo.MAX_SHIFT, value=0, step=1, label="Shift down (pixels)", elem_id="ge-zoo-dy")
        noise_seed = gr.Number(0, precision=0, minimum=0, label="Noise seed", elem_id="ge-zoo-seed")
    outputs = []
    for row, label in enumerate(zoo.INPUTS):
        with gr.Row():
            outputs.append(common.image_output(label, elem_id=f"ge-zoo-{row}-input"))
            outputs += [common.image_output(title, elem_id=f"ge-zoo-{row}-{role}") for role, title in zoo.ZOO]
    table = gr.Markdown(elem_id="ge-zoo-table")
    with gr.Row():
        over_code = common.image_output("Overcomplete AE's code (1,024 units)", elem_id="ge-zoo-code-over", height=200, width=200)
        sparse_code = common.image_output("Sparse AE's code (1,024 units)", elem_id="ge-zoo-code-sparse", height=200, width=200)
        codes_note = gr.Markdown(elem_id="ge-zoo-codes-note")
    gr.Markdown(LESSON)

    inputs = [source, current, dataset, example_class, which, dx, dy, noise_seed]
    answers = [*outputs, table, over_code, sparse_code, codes_note]

    def on_page(source_value, current28, *rest):
        """'my drawing' with nothing drawn goes back to the test example and says so under the picker."""
        source_value, why = common.available_source(source_value, current28, fallback="example")
        return [source_value if why else gr.skip(), why, *on_zoo(source_value, current28, *rest)]

    triggers = [tab.select, source.input, example_class.change, which.release, dx.release, dy.release, noise_seed.change]
    common.page_event(triggers, on_page, inputs, [source, note, *answers], message=note, show_progress="hidden")
    common.api_endpoint(on_zoo, inputs, answers, "zoo")
    # A switch redraws every row with the new dataset's models (the class may keep its value: no change event).
    dataset.change(lambda d: gr.update(choices=common.class_choices(d), value=3), dataset, example_class, api_name=False
                   ).then(common.shown_on_page(on_page, len(answers) + 2, 1), inputs, [source, note, *answers],
                          api_name=False, show_progress="hidden")
