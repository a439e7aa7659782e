"""Latent sliders: move through a model's code space and watch the picture morph."""
from __future__ import annotations

import json

import gradio as gr
import torch

from .. import explore, precision
from ..batching import prepare_each
from . import common

MAX_SLIDERS = 16
SLIDER_RANGE = 3.0   # about +/-3 standard deviations of the N(0, I) prior


def _model_info(model) -> str:
    shown = min(model.latent_dim, MAX_SLIDERS)
    rest = f" (the other {model.latent_dim - shown} stay as they are; 'randomise the rest' redraws them)" \
        if model.latent_dim > shown else ""
    return f"**{model.kind.upper()}** with a {model.latent_dim}-d latent: {shown} sliders{rest}."


START_CHOICES = [("my drawing's code", "drawing"), ("a random draw from the prior", "random"), ("zero", "zero")]


def start_choices(name: str | None, chosen: str):
    """The starts ``name`` can make: a model without an encoder (a GAN, a cGAN) cannot start from a drawing's code,
    so that start is not offered, and the line under the choices says why."""
    try:
        model = common.cache.get(name) if name else None
    except common.USER_ERRORS:
        model = None
    if model is None or model.can("encodes"):
        return gr.update(choices=START_CHOICES, info=None)
    return gr.update(choices=START_CHOICES[1:], value="random" if chosen == "drawing" else chosen,
                     info=f"a {model.kind.upper()} has no encoder, so it cannot start from your drawing's code")


def live_state(name: str, label, latent: list) -> str:
    """What the browser's live channel needs to redraw while a slider moves (see live.py)."""
    return json.dumps({"model": name, "label": label, "latent": [float(v) for v in latent]})


@common.user_errors
def start(name: str, mode: str, seed: int, label: int, current28):
    """-> (latent state, picture, info, class dropdown update, rest button update, live state, *slider updates)."""
    model = common.cache.get(name)
    x = common.model_input(current28) if current28 is not None else None
    label = common.class_label(label)
    z = explore.start_latent(model, mode, x=x, label=label, seed=int(seed or 0))
    z = z.clamp(-SLIDER_RANGE, SLIDER_RANGE)
    if model.conditional and label is None:
        label = explore.best_class(model, x)[0] if (mode == "drawing" and x is not None) else 0
    return _shown(name, model, z, label)


@common.user_errors
def follow(request: str):
    """Class mode's follow me (ui/classbar.py): the teacher's {"model", "label", "latent"} as JSON -> start's
    outputs, so a student's page has the teacher's whole code (past the sliders too) and class."""
    try:
        request = json.loads(request)
    except ValueError:
        request = None
    if not isinstance(request, dict) or not isinstance(request.get("latent"), list):
        raise explore.ExploreError('send {"model", "label", "latent"}')
    model = common.cache.get(request.get("model"))
    if len(request["latent"]) != model.latent_dim:
        raise explore.ExploreError(f"this model's code has {model.latent_dim} numbers, not {len(request['latent'])}")
    name, label, z = _slide_input({**request, "values": request["latent"][:MAX_SLIDERS]})
    return _shown(name, model, z, 0 if model.conditional and label is None else label)


def _shown(name: str, model, z, label) -> list:
    """start's outputs for the code z (1, latent_dim), decoded as class ``label``."""
    image = explore.decode_image(model, z, label)
    values = z[0].tolist()
    sliders = [gr.update(value=round(values[i], 3), visible=True, label=f"z{i + 1}") if i < len(values)
               else gr.update(visible=False) for i in range(MAX_SLIDERS)]
    class_update = gr.update(visible=model.conditional,
                             choices=common.class_choices(model.dataset) if model.conditional else [],
                             value=label if model.conditional else None)
    return [values, common.picture(image), _model_info(model), class_update,
            gr.update(visible=model.latent_dim > MAX_SLIDERS), live_state(name, label, values), *sliders]


@common.user_errors
def slide(name: str, label, latent: list, *values):
    """The hot path: the first sliders' values over the stored latent -> picture."""
    name, label, z = _slide_input({"model": name, "label": label, "latent": list(latent or []), "values": list(values)})
    return common.picture(explore.decode_image(common.cache.get(name), z, label))


@common.user_errors
def _slide_input(request: dict):
    """One live slide request -> (checkpoint name, class, (1, latent_dim) code)."""
    values, latent = request.get("values"), request.get("latent")
    if not isinstance(values, list) or not isinstance(latent, list) or len(values) > MAX_SLIDERS:
        raise explore.ExploreError("values and latent must be lists of numbers")
    name = request.get("model")
    model = common.cache.get(name)
    if len(latent) != model.latent_dim:
        latent = [0.0] * model.latent_dim
    shown = min(model.latent_dim, MAX_SLIDERS)
    z = explore.check_latent(model, list(values[:shown]) + list(latent[shown:]))
    label = common.class_label(request.get("label"))
    if model.conditional and label is not None and label >= model.num_classes:
        raise explore.ExploreError(f"class must be between 0 and {model.num_classes - 1}")
    return name, label, z


def slide_pictures(requests: list[dict]) -> list:
    """The live channel's micro-batch (see batching.py): each {"model", "label", "latent", "values"} -> the
    picture slide() shows at 28x28 (the page scales it up), or the exception that request earns; one decoder
    pass per (model, class)."""
    answers, prepared = prepare_each(requests, _slide_input)
    groups: dict[tuple, list[tuple[int, torch.Tensor]]] = {}
    for i, (name, label, z) in prepared:
        groups.setdefault((name, label), []).append((i, z))
    for (name, label), items in groups.items():
        with precision.live_arithmetic():   # a preview: the event at the drag's end paints in float32
            images = explore.decode_images(precision.live_model(common.cache.get(name)), torch.cat([z for _, z in items]), label)
        for (i, _), image in zip(items, images):
            answers[i] = image
    return answers


@common.user_errors
def randomise_rest(name: str, latent: list, seed: int, label, *values):
    model = common.cache.get(name)
    generator = torch.Generator().manual_seed(int(seed or 0) + 1)
    rest = torch.randn(max(0, model.latent_dim - MAX_SLIDERS), generator=generator).tolist()
    shown = min(model.latent_dim, MAX_SLIDERS)
    latent = [float(v) for v in values[:shown]] + rest
    return latent, slide(name, label, latent, *values), live_state(name, label, latent)


@common.user_errors
def relabel(name: str, label, latent: list, *values):
    """The CVAE's class changed: the same style redrawn as the new class, and the live state."""
    label = common.class_label(label)
    return slide(name, label, latent, *values), live_state(name, label, latent)


def build(dataset: gr.Radio, current: gr.State, tab: gr.Tab) -> None:
    names = common.cache.names("mnist", able="decodes")   # the sliders decode a code
    default = common.cache.default("mnist", "vae") or (names[0] if names else None)
    latent = gr.State([])
    with gr.Row():
        with gr.Column(scale=1, min_width=260):
            model = gr.Dropdown(names, value=default, label="Model", elem_id="ge-slider-model")
            mode = gr.Radio(START_CHOICES, value="zero", label="Start from", elem_id="ge-slider-start")
            seed = gr.Number(0, precision=0, minimum=0, label="Seed", elem_id="ge-slider-seed")
            go = gr.Button("Start here", variant="primary", elem_id="ge-slider-go")
            label = gr.Dropdown([], label="Class (CVAE or cGAN: keeps the style, changes the class)", visible=False,
                                elem_id="ge-slider-class")
            rest = gr.Button("Randomise the rest", visible=False, elem_id="ge-slider-rest")
            image = common.image_output("Decoded", height=220, width=220, elem_id="ge-slider-image")
            live = gr.Textbox(elem_id="ge-slider-live", elem_classes=["ge-hidden"], show_label=False,
                              container=False, lines=1, max_lines=1)
            info = gr.Markdown(elem_id="ge-slider-info")
        sliders = []
        for half in range(2):
            with gr.Column(scale=1, min_width=240):
                sliders += [gr.Slider(-SLIDER_RANGE, SLIDER_RANGE, value=0, step=0.01, label=f"z{i + 1}",
                                      elem_id=f"ge-z{i}", visible=i < 2)
                            for i in range(half * MAX_SLIDERS // 2, (half + 1) * MAX_SLIDERS // 2)]
    start_outputs = [latent, image, info, label, rest, live, *sliders]
    start_inputs = [model, mode, seed, label, current]
    # A start that fails says why in the info line under the picture, once.
    common.page_event(go.click, start, start_inputs, start_outputs, message=info, api_name="slider_start")
    followed = gr.Textbox(elem_id="ge-slider-follow", elem_classes=["ge-hidden"], show_label=False, container=False)
    followed.change(follow, followed, start_outputs, api_name="slider_follow", trigger_mode="always_last",
                    show_progress="hidden")
    page_start = common.shown_on_page(start, len(start_outputs), start_outputs.index(info))

    def first_view(latent_now, *args):
        return page_start(*args) if not latent_now else [gr.skip()] * len(start_outputs)

    tab.select(common.refresh_choices, [dataset, model], model, api_name=False).then(
        first_view, [latent, *start_inputs], start_outputs, api_name=False)
    # A new model: its class is picked afresh, and a start it cannot make is not offered.
    model.change(lambda name, chosen: (gr.update(value=None), start_choices(name, chosen)), [model, mode], [label, mode],
                 api_name=False).then(page_start, start_inputs, start_outputs, api_name=False)
    # While a slider moves, the page paints through the live channel (live.py); when it is
    # released, this event sets the component's value (and serves the API).
    gr.on([s.release for s in sliders], slide, [model, label, latent, *sliders], image, api_name="slide",
          trigger_mode="always_last", show_progress="hidden")
    label.input(relabel, [model, label, latent, *sliders], [image, live], api_name=False, show_progress="hidden")
    rest.click(randomise_rest, [model, latent, seed, label, *sliders], [latent, image, live], api_name="slider_rest")

    def switch(dataset_value):
        names = common.cache.names(dataset_value, able="decodes")
        value = common.cache.default(dataset_value, "vae") or (names[0] if names else None)
        return gr.update(choices=names, value=value)

    dataset.change(switch, dataset, model, api_name=False)
