"""Diffusion: a picture on the two noising paths, the walk back from noise drawn live, guidance, and what each
generator pays for its pictures.

The diffusion model (DDPM / DDIM) and the flow (flow matching) side by side. The handlers decode what the page
sends and render what ``explore.paths`` and ``walks`` answer. While the t slider moves, the page asks the live
channel's "noise" route (live.py) and paints its answer; the walks' frames come from its "walk" route, one per
request, as the PixelCNN's do.
"""
from __future__ import annotations

import json

import gradio as gr
import numpy as np

from .. import explore, walks
from ..explore import paths
from ..explore.paths import WalkPlan
from ..images import grid
from ..pixels import JobBoard
from . import common
from .complete import chosen_picture, source_picker

# (role, the suffix of its elements' ids, title): the left side is the diffusion model's, the right the flow's.
SIDES = (("diffusion", "a", "Diffusion"), ("flow", "b", "Flow matching"))
MAX_STEPS = {"diffusion": 1000, "flow": 100}
DEFAULT_STEPS = {"diffusion": 50, "flow": 10}
SAMPLER_TITLES = {"ddim": "DDIM", "ddpm": "DDPM", "euler": "Euler", "heun": "Heun"}
SOURCES = [("a test image", "test"), ("my drawing (Draw tab)", "drawing")]
FORWARD_IDS = ["ge-diff-clean", *(f"ge-diff-{what}-{side}" for what in ("noisy", "seen") for _, side, _ in SIDES)]
WALK_IDS = [f"ge-diff-{what}-{side}" for _, side, _ in SIDES for what in ("xt", "pred")]
NO_CHECKPOINT = "no {role} checkpoint for {dataset} yet: train one on the Train tab (family {role}) and it appears here"
walk_jobs = JobBoard()      # the walks being watched, every user's (ids are unguessable)


# ------------------------------------------------------------------ the models

def _walker(name: str | None):
    """A picker's value -> the loaded model, or None for an empty picker."""
    if not name:
        return None
    model = common.cache.get(name)
    paths.check_walker(model)
    return model


def on_models(dataset: str, current_a: str | None = None, current_b: str | None = None):
    """The pickers' choices (every checkpoint that walks from noise) and defaults, and a note naming what is
    missing. -> (picker a update, picker b update, note)."""
    dataset = common.checked_dataset(dataset)
    names = common.cache.players(dataset, "diffusion")
    updates, missing = [], []
    for (role, _, _), current in zip(SIDES, (current_a, current_b)):
        default = common.cache.default(dataset, role)
        value = current if current in names else default
        updates.append(gr.update(choices=names, value=value))
        if default is None:
            missing.append(NO_CHECKPOINT.format(role=role, dataset=dataset))
    note = ("**" + "; ".join(missing) + ".** The forward process is shown on the family's own path (it is "
            "fixed, not learned).") if missing else ""
    return (*updates, note)


def _sampler_choices(model) -> list[tuple[str, str]]:
    """A model's own samplers (every sampler the page knows when there is no model)."""
    return [(SAMPLER_TITLES.get(s, s), s) for s in (model.samplers if model is not None else SAMPLER_TITLES)]


@common.user_errors
def on_sampler_choices(name: str | None, current: str | None = None):
    """A picker changed: its model's own samplers, the current one kept if the model has it."""
    model = _walker(name)
    if model is None:
        return gr.update(choices=_sampler_choices(None), value=None)
    return gr.update(choices=_sampler_choices(model), value=current if current in model.samplers else model.samplers[0])


@common.user_errors
def on_both_samplers(model_a, sampler_a, model_b, sampler_b):
    return on_sampler_choices(model_a, sampler_a), on_sampler_choices(model_b, sampler_b)


# ------------------------------------------------------------------ 1. the forward process

def _paths(names) -> list[tuple]:
    """(title, checkpoint or None, model) of each side: a side without a checkpoint shows its family's path."""
    return [(title, name or None, _walker(name) if name else paths.default_path(role))
            for (role, _, title), name in zip(SIDES, names)]


def _forward(picture28, t, seed, names):
    """-> (the 28x28 pictures in FORWARD_IDS' order, the numbers as HTML)."""
    if picture28 is None:
        raise explore.ExploreError("pick a test image or draw on the Draw tab first")
    answers = paths.forward(common.model_input(picture28), t, seed, _paths(names))
    pictures = [np.asarray(picture28, np.uint8), *(a.noisy for a in answers), *(a.seen for a in answers)]
    return pictures, _numbers_html(answers, paths.check_time(t))


def _decibels(value: float) -> str:
    return "+&infin;" if value == float("inf") else "&minus;&infin;" if value == float("-inf") else f"{value:+.1f}"


def _numbers_html(answers, t: float) -> str:
    """The numbers of each path at t; the page wraps them in <div class="ge-diff-numbers"> (the live channel
    rewrites that div's content while t moves)."""
    rows = "".join(
        f"<tr><td>{a.title}{'' if a.name else ' (no checkpoint: the default path)'}</td><td>{a.alpha:.3f}</td>"
        f"<td>{a.sigma:.3f}</td><td>{a.alpha ** 2 + a.sigma ** 2:.3f}</td><td>{a.alpha + a.sigma:.3f}</td>"
        f"<td>{a.snr:.3g}</td><td>{_decibels(a.snr_db)} dB</td></tr>" for a in answers)
    return (f"<p><b>t = {t:.2f}</b>: x<sub>t</sub> = &alpha; x + &sigma; &epsilon;, "
            "the same noise &epsilon; on both paths.</p><table><tr><th>path</th><th>&alpha;</th><th>&sigma;</th>"
            "<th>&alpha;&sup2; + &sigma;&sup2;</th><th>&alpha; + &sigma;</th><th>signal-to-noise &alpha;&sup2;/&sigma;&sup2;"
            f"</th><th>in dB</th></tr>{rows}</table><p>Diffusion keeps &alpha;&sup2; + &sigma;&sup2; = 1 (a curve); the "
            "flow keeps &alpha; + &sigma; = 1 (a straight line from the picture to the noise).</p>")


@common.user_errors
def on_source(source: str, class_index, which, dataset: str, drawing, seed, model_a, model_b):
    """-> (the picture, uint8 (28, 28), for the state; what the live channel needs while t moves)."""
    picture28 = chosen_picture(source, class_index, which, dataset, drawing)
    explore.seeded_generator(seed)
    return picture28, live_state(dataset, picture28, seed, [model_a, model_b])


@common.user_errors
def on_source_page(source: str, class_index, which, dataset: str, drawing, seed, model_a, model_b):
    """The page's source picker: 'my drawing' with nothing drawn goes back to the test image and says so (the
    radio too), instead of an error while the pictures still show the test image."""
    source, why = common.available_source(source, drawing, fallback="test")
    picture28, live = on_source(source, class_index, which, dataset, drawing, seed, model_a, model_b)
    return [source if why else gr.skip(), picture28, live, why]


def live_state(dataset: str, picture28, seed, names) -> str:
    return json.dumps({"dataset": dataset, "picture": np.asarray(picture28, np.uint8).flatten().tolist(),
                       "seed": int(seed), "models": [name or None for name in names]})


@common.user_errors
def on_forward(picture28, t, seed, model_a, model_b):
    """-> (clean, diffusion x_t, flow x_t, what each network sees (None without a checkpoint), the numbers)."""
    pictures, numbers = _forward(picture28, t, seed, [model_a, model_b])
    return (*[common.picture(p) for p in pictures], f"<div class='ge-diff-numbers'>{numbers}</div>")


@common.user_errors
def forward_live(request: dict):
    """The live "noise" route: {"dataset", "picture": 784 grey levels, "seed", "models", "t"} -> ({elem_id: 28x28
    picture or None}, the numbers as HTML)."""
    picture, names = request.get("picture"), request.get("models")
    if not isinstance(picture, list) or len(picture) != 28 * 28 or not isinstance(names, list) or len(names) != 2:
        raise explore.ExploreError("picture must be 784 grey levels and models two names")
    try:
        values = np.asarray(picture, dtype=np.float64)
    except (TypeError, ValueError):
        raise explore.ExploreError("picture must be 784 grey levels from 0 to 255") from None
    if not np.isfinite(values).all() or values.min() < 0 or values.max() > 255:
        raise explore.ExploreError("picture must be 784 grey levels from 0 to 255")
    common.checked_dataset(request.get("dataset"))
    if not all(name is None or isinstance(name, str) for name in names):
        raise explore.ExploreError("models must be checkpoint names")
    pictures, numbers = _forward(values.astype(np.uint8).reshape(28, 28), request.get("t"), request.get("seed"), names)
    return dict(zip(FORWARD_IDS, pictures)), numbers


# ------------------------------------------------------------------ 2. the walk back from noise

def _plans(settings) -> list[WalkPlan]:
    """[(name, steps, sampler)] per side -> a plan for each side with a checkpoint."""
    plans = []
    for (role, _, _), (name, steps, sampler) in zip(SIDES, settings):
        if name:   # the numbers first: a bad number is refused before a checkpoint is loaded
            steps = paths.check_steps(steps, MAX_STEPS[role])
            plans.append(WalkPlan(role, name, _walker(name), steps, sampler or None))
    return plans


def _sides(settings, dataset: str) -> list[WalkPlan]:
    plans = _plans(settings)
    if not plans:
        raise explore.ExploreError(f"no diffusion or flow checkpoint for {dataset} yet: train one on the Train tab "
                                   "(family diffusion or flow), and it appears here")
    return plans


def _walk_outputs(frame: walks.WalkFrame, scale: int = 3) -> tuple[list, list[str]]:
    """A frame -> (pictures in WALK_IDS' order, upscaled by ``scale``, None for a side not walked; each side's
    status line)."""
    by_side = {walk["title"]: (pictures, walk) for pictures, walk in zip(frame.pictures, frame.walks)}
    images, statuses = [], []
    for role, _, _ in SIDES:
        pictures, walk = by_side.get(role, ((None, None), None))
        images += [None if p is None else (common.picture(p, scale) if scale > 1 else p) for p in pictures]
        statuses.append(status_line(walk))
    return images, statuses


def status_line(walk: dict | None) -> str:
    if walk is None:
        return "no checkpoint"
    return (f"step {walk['step']} of {walk['steps']} ({SAMPLER_TITLES.get(walk['sampler'], walk['sampler'])}) · "
            f"t = {walk['t']:.2f} · {walk['passes']} network passes per picture · {walk['compute_ms']:.0f} ms")


@common.user_errors
def on_walk_start(dataset, model_a, steps_a, sampler_a, model_b, steps_b, sampler_b, count, seed, label, previous):
    """Start both walks from the same seed. -> (job id for the page's watcher, x_t and prediction of each side,
    message, job id kept per user). The page then asks the live route for frames (and each side's status line);
    API clients call /diffusion_walk_result."""
    dataset = common.checked_dataset(dataset)
    plans = _sides([(model_a, steps_a, sampler_a), (model_b, steps_b, sampler_b)], dataset)
    job = walk_jobs.add(walks.walk_job(plans, count, seed, label=common.class_label(label)), replaces=previous)
    images, _ = _walk_outputs(job.frame())
    return (job.id, *images,
            f"Walking {job.count} pictures from the same noise (seed {job.seed}) down to t = 0. Left of each pair: "
            "x_t, where the walk is; right: its clean guess, the picture the network sees in x_t at that step.", job.id)


def walk_frame(request: dict) -> dict:
    """The live "walk" route: {"job": id} -> the walks advanced one frame: {"images": {elem_id: 28x28 grid or None},
    "status": {elem_id: line}, "t", "finished", "walks"}."""
    frame = walk_jobs.advance(request.get("job"))
    images, statuses = _walk_outputs(frame, scale=1)
    return {"images": dict(zip(WALK_IDS, images)),
            "status": {f"ge-diff-status-{side}": line for (_, side, _), line in zip(SIDES, statuses)},
            **frame.summary()}


@common.user_errors
def on_walk_result(job_id: str):
    """The finished walks (run to the end if the page was not watching), what they cost, and the same seed at
    1, 2, 5, 10 and 50 steps. -> (x_t and prediction of each side, message, strip, strip legend)."""
    job = walk_jobs.get(job_id)
    frame = job.run_to_end()
    images, _ = _walk_outputs(frame)
    rows = [f"| {title} | {w['name']} | {SAMPLER_TITLES.get(w['sampler'], w['sampler'])} | {w['steps']} | "
            f"{w['passes']} | {w['compute_ms']:.0f} ms | {w['compute_ms'] / max(w['passes'], 1):.1f} ms |"
            for w in frame.walks for role, _, title in SIDES if role == w["title"]]
    table = ("| | checkpoint | sampler | steps | network passes per picture | computing, all "
             f"{job.count} pictures | per pass |\n|---|---|---|---|---|---|---|\n" + "\n".join(rows))
    plans = job.plans()
    strip = paths.steps_strip(plans, job.seed, label=job.label)
    legend = ("The first picture of the same seed after " + ", ".join(map(str, paths.STRIP_STEPS)) + " steps (left "
              "to right); rows top to bottom: " + " / ".join(
                  f"{title} ({SAMPLER_TITLES.get(plan.sampler or '', plan.model.samplers[0].upper())})"
                  for plan in plans for role, _, title in SIDES if role == plan.title)
              + ". With one step a walk can only land on the average of what its noise could become (a blur); more "
              "steps commit to one picture. The flow's paths are straighter, so few steps stray less from where "
              "many steps go (the Learn tab has why).")
    return (*images, table, common.picture(grid(strip, ncols=len(paths.STRIP_STEPS)), 3), legend)


# ------------------------------------------------------------------ 3. guidance

@common.user_errors
def on_grid(dataset, side, model_a, sampler_a, model_b, sampler_b, guidance, seed, steps):
    """One side's class x seed grid under guidance weight w. -> (grid, the classifier's reading of each row)."""
    dataset = common.checked_dataset(dataset)
    chosen = {"a": (model_a, sampler_a), "b": (model_b, sampler_b)}
    if side not in chosen:
        raise explore.ExploreError(f"unknown side {side!r}: use a (diffusion) or b (flow)")
    role = {suffix: role for role, suffix, _ in SIDES}[side]
    name, sampler = chosen[side]
    steps = paths.check_steps(steps, MAX_STEPS[role])
    paths.check_guidance(guidance)
    model = _walker(name)
    if model is None:
        raise explore.ExploreError(NO_CHECKPOINT.format(role=role, dataset=dataset))
    plan = WalkPlan(role, name, model, steps, sampler or None)
    pictures = paths.guidance_grid(plan, guidance, seed)
    shares = paths.row_agreement(pictures, dataset, common.cache, model.class_names)
    legend = (f"**{name}**, w = {float(guidance):g}, {plan.steps} steps: one row per class, one column per seed "
              f"({int(seed)} to {int(seed) + paths.GRID_SEEDS - 1}).")
    if shares is None:
        return common.picture(grid(pictures, ncols=paths.GRID_SEEDS), 2), legend + " (no classifier for this dataset)"
    rows = "\n".join(f"| {asked} | {share:.0%} |" for asked, share in zip(model.class_names, shares))
    return (common.picture(grid(pictures, ncols=paths.GRID_SEEDS), 2),
            f"{legend}\n\n| row asked for | read as asked |\n|---|---|\n{rows}\n| **all rows** | "
            f"**{np.mean(shares):.0%}** |")


# ------------------------------------------------------------------ 4. the same seed through every generator

def _cell_pictures(pictures: np.ndarray) -> str:
    return f"<img alt='samples' src='{common.data_url(common.picture(grid(pictures, ncols=len(pictures)), 2))}'>"


def _frechet_cell(figure: dict | None) -> str:
    if not figure:
        return "not measured yet"
    walk = f", {figure['steps']} {figure['sampler']} steps" if figure.get("steps") else ""
    return f"{figure['frechet']:g} ({figure['samples']:,} samples{walk})"


@common.user_errors
def on_compare(dataset, count, seed, model_a, steps_a, sampler_a, model_b, steps_b, sampler_b):
    """The same seed through every generator there is a checkpoint for. -> an HTML table."""
    dataset = common.checked_dataset(dataset)
    fixed = [(role, title) for role, title in paths.COMPARED_ROLES if role not in MAX_STEPS]
    models, notes = common.models_for(dataset, fixed)
    settings = {}
    titles = dict(paths.COMPARED_ROLES)
    for plan in _plans([(model_a, steps_a, sampler_a), (model_b, steps_b, sampler_b)]):
        models[titles[plan.title]] = (plan.name, plan.model)
        settings[titles[plan.title]] = (plan.steps, plan.sampler)
    figures = paths.frechet_figures()
    rows = paths.every_generator(models, count, seed, walks=settings, figures=figures["figures"])
    body = "".join(f"<tr><td><b>{row.title}</b><br><small>{row.name}</small></td><td>{_cell_pictures(row.pictures)}"
                   f"</td><td>{row.passes:,}</td><td>{row.milliseconds:,.0f} ms</td><td>{_frechet_cell(row.frechet)}"
                   "</td></tr>" for row in rows)
    floor = figures["floors"].get(dataset)
    notes += [(f"no {role} model picked above" if common.cache.default(dataset, role) else
               NO_CHECKPOINT.format(role=role, dataset=dataset)) for role in MAX_STEPS if titles[role] not in models]
    return ("<div class='ge-diff-wide'><table class='ge-diff-compare'><tr><th>generator</th><th>pictures (seed "
            f"{int(seed)})</th><th>network passes per picture</th><th>time for all, measured now</th><th>Frechet "
            f"distance (BENCHMARKS.md)</th></tr>{body}</table></div><p>Diffusion and flow with the steps and samplers "
            "chosen above, unguided; a model that takes a class draws classes 0, 1, 2, ... The Frechet distance is "
            "measured by the bench on the classifier's features (lower is closer to the test set); it compares "
            "within one dataset and one number of samples"
            + (f"; the floor (as many training images) is {_frechet_cell(floor)}" if floor else "") + ".</p>"
            + "".join(f"<p><b>{note}</b></p>" for note in notes))


# ------------------------------------------------------------------ the page

INTRO = ("**Diffusion** (DDPM / DDIM) and **flow matching** make a picture from noise in many small steps of one "
         "network. Forward, a picture is noised along a path from t = 0 (the picture) to t = 1 (pure noise); the "
         "network learns to undo a little of it at every t, so walking back from noise draws a new picture. "
         "Left: the diffusion model; right: the flow. The **Learn** tab has the formulas.")
# The page's own small layout rules: the numbers' table, the comparison table's pictures crisp.
DIFFUSION_CSS = """
.ge-diff-numbers, .ge-diff-wide { overflow-x: auto; }
.ge-diff-numbers table, .ge-diff-compare { border-collapse: collapse; font-size: 0.9em; }
.ge-diff-numbers td, .ge-diff-numbers th, .ge-diff-compare td, .ge-diff-compare th { padding: 2px 8px; text-align: left; }
.ge-diff-compare img { image-rendering: pixelated; min-width: 200px; }
.ge-diff-status { font-size: 0.85em; min-height: 1.3em; }
.ge-diff-caption p { margin: 0 !important; font-size: 0.9em; }
"""


def _picture(caption: str, elem_id: str, *, height: int = 150):
    """A picture with its caption above it, not over it (a label badge hid the top of the small pictures)."""
    with gr.Column(min_width=96):      # three abreast on a 390-pixel phone
        gr.Markdown(caption, elem_classes=["ge-diff-caption"])
        return common.image_output(caption, show_label=False, height=height, width=None, elem_id=elem_id)


def _build_forward():
    gr.Markdown("### 1. Forward: noise a picture to any t")
    with gr.Row():
        with gr.Column(scale=1, min_width=260):
            source, label, which = source_picker(SOURCES, "ge-diff")
            source_note = gr.Markdown(elem_id="ge-diff-source-note")   # why the picker went back to a test image
            seed = gr.Number(0, precision=0, minimum=0, label="Noise seed (the same noise on both paths)",
                             elem_id="ge-diff-noise-seed")
        with gr.Column(scale=2):
            # Right above the pictures it moves (on a phone too, where the columns stack).
            t = gr.Slider(0, 1, value=0.5, step=0.01, label="Noise level t", info="0: the picture; 1: pure noise",
                          elem_id="ge-diff-t")
            captions = ["the picture x", "diffusion: x_t", "flow: x_t", "", "diffusion sees", "flow sees"]
            with gr.Row():
                images = [_picture(caption, elem_id) for caption, elem_id in zip(captions[:3], FORWARD_IDS[:3])]
            with gr.Row():
                with gr.Column(min_width=96):
                    gr.Markdown("**What each network sees in x_t**: the clean picture it answers in one pass (the "
                                "denoising autoencoder's job, at every t).", elem_classes=["ge-diff-caption"])
                images += [_picture(caption, elem_id) for caption, elem_id in zip(captions[4:], FORWARD_IDS[3:])]
            numbers = gr.HTML("<div class='ge-diff-numbers'></div>", elem_id="ge-diff-snr")
    return {"source": source, "source_note": source_note, "label": label, "which": which, "t": t, "seed": seed,
            "images": images,
            "numbers": numbers, "picture": gr.State(None),
            "live": gr.Textbox(elem_id="ge-diff-live", elem_classes=["ge-hidden"], show_label=False, container=False)}


def _build_walk():
    gr.Markdown("### 2. Back from noise, step by step\nBoth walks start from the same noise (the same seed). Each "
                "step is one pass of the network (two with Heun or guidance).")
    with gr.Row():
        count = gr.Slider(1, walks.MAX_PICTURES, value=4, step=1, label="How many", elem_id="ge-diff-count")
        seed = gr.Number(0, precision=0, minimum=0, label="Seed", elem_id="ge-diff-seed")
        label = gr.Dropdown([("any (drawn from the seed)", -1), *common.class_choices("mnist")], value=-1,
                            label="Class", elem_id="ge-diff-walk-class")
        go = gr.Button("Walk from noise", variant="primary", elem_id="ge-diff-go")
    sides = {}
    with gr.Row():
        for role, side, title in SIDES:
            with gr.Column(min_width=300):
                gr.Markdown(f"#### {title}")
                steps = gr.Slider(1, MAX_STEPS[role], value=DEFAULT_STEPS[role], step=1, label="Steps",
                                  elem_id=f"ge-diff-steps-{side}")
                # Every sampler at first, so the API takes any; the page narrows them to the picked model's.
                sampler = gr.Radio(_sampler_choices(None), label="Sampler (none: the model's first)",
                                   elem_id=f"ge-diff-sampler-{side}")
                with gr.Row():
                    xt = _picture("x_t: where it is", f"ge-diff-xt-{side}", height=190)
                    pred = _picture("its clean guess", f"ge-diff-pred-{side}", height=190)
                gr.HTML("", elem_id=f"ge-diff-status-{side}", elem_classes=["ge-diff-status"])
            sides[side] = {"steps": steps, "sampler": sampler, "images": [xt, pred]}
    message = gr.Markdown(elem_id="ge-diff-walk-message")
    strip = common.image_output("Too few steps: 1, 2, 5, 10, 50", height=200, width=None, elem_id="ge-diff-strip")
    legend = gr.Markdown(elem_id="ge-diff-strip-legend")
    hidden = {"elem_classes": ["ge-hidden"], "show_label": False, "container": False}
    return {"count": count, "seed": seed, "label": label, "go": go, "sides": sides, "message": message,
            "strip": strip, "legend": legend, "job": gr.Textbox(elem_id="ge-diff-job", **hidden),
            "done": gr.Textbox(elem_id="ge-diff-done", **hidden), "state": gr.State(None)}


def _build_grid():
    gr.Markdown("### 3. Guidance: classes by rows, seeds by columns\nClassifier-free guidance pushes each step "
                "towards the class by (1 + w) x the network's answer with the class - w x its answer without. "
                "w = 0: varied but sloppy; large w: typical, but alike. A grid is 60 walks, and w > 0 costs two "
                "passes a step: a few seconds on a laptop's CPU (a grid seen before comes back at once).")
    with gr.Row():
        with gr.Column(scale=1, min_width=260):
            side = gr.Radio([("diffusion (left)", "a"), ("flow (right)", "b")], value="b", label="Model",
                            elem_id="ge-diff-grid-side")
            weight = gr.Slider(0, 10, value=0, step=0.5, label="Guidance weight w", elem_id="ge-diff-w")
            with gr.Row():
                seed = gr.Number(0, precision=0, minimum=0, label="First seed", elem_id="ge-diff-grid-seed")
                steps = gr.Number(10, precision=0, minimum=1, maximum=1000, label="Steps", elem_id="ge-diff-grid-steps")
            go = gr.Button("Draw the grid", elem_id="ge-diff-grid-go")
            reading = gr.Markdown(elem_id="ge-diff-grid-read")
        with gr.Column(scale=2):
            picture = common.image_output("Class x seed", height=520, width=None, elem_id="ge-diff-grid")
    return {"side": side, "weight": weight, "seed": seed, "steps": steps, "go": go, "reading": reading,
            "picture": picture}


def _build_compare():
    gr.Markdown("### 4. The same seed through every generator: what each family pays for its pictures")
    with gr.Row():
        count = gr.Slider(1, 12, value=6, step=1, label="Pictures", elem_id="ge-diff-compare-count")
        seed = gr.Number(0, precision=0, minimum=0, label="Seed", elem_id="ge-diff-compare-seed")
        go = gr.Button("Draw with every generator", elem_id="ge-diff-compare-go")
    table = gr.HTML("", elem_id="ge-diff-compare")
    return {"count": count, "seed": seed, "go": go, "table": table}


def build(dataset: gr.Radio, current: gr.State, tab: gr.Tab) -> None:
    gr.Markdown(INTRO)
    names = common.cache.players("mnist", "diffusion")
    _, _, first_note = on_models("mnist")
    note = gr.Markdown(first_note, elem_id="ge-diff-note")
    with gr.Row():
        # Any name is taken (checkpoints trained after the page was built; the handlers check each one).
        pickers = [gr.Dropdown(names, value=common.cache.default("mnist", role), label=f"{title} model ({where})",
                               allow_custom_value=True, elem_id=f"ge-diff-model-{side}")
                   for (role, side, title), where in zip(SIDES, ("left", "right"))]
    forward, walk, grid_panel, compare = _build_forward(), _build_walk(), _build_grid(), _build_compare()
    model_a, model_b = pickers
    samplers = [walk["sides"][side]["sampler"] for _, side, _ in SIDES]
    steps = [walk["sides"][side]["steps"] for _, side, _ in SIDES]

    source_inputs = [forward["source"], forward["label"], forward["which"], dataset, current, forward["seed"], *pickers]
    forward_inputs = [forward["picture"], forward["t"], forward["seed"], *pickers]
    forward_outputs = [*forward["images"], forward["numbers"]]

    def refresh_forward(event):
        return event.then(on_source, source_inputs, [forward["picture"], forward["live"]], api_name=False,
                          show_progress="hidden").then(on_forward, forward_inputs, forward_outputs, api_name=False,
                                                       show_progress="hidden")

    common.api_endpoint(on_source, source_inputs, [forward["picture"], forward["live"]], "diffusion_source")
    common.page_event([forward["source"].input, forward["label"].change, forward["which"].change,
                       forward["seed"].change], on_source_page, source_inputs,
                      [forward["source"], forward["picture"], forward["live"], forward["source_note"]],
                      message=forward["source_note"], show_progress="hidden").then(
        on_forward, forward_inputs, forward_outputs, api_name=False, show_progress="hidden")
    # While t moves, the page paints through the live channel; on release this event sets the components.
    forward["t"].release(on_forward, forward_inputs, forward_outputs, api_name="diffusion_forward",
                         trigger_mode="always_last", show_progress="hidden")
    for picker, sampler in zip(pickers, samplers):
        refresh_forward(picker.change(on_sampler_choices, [picker, sampler], sampler, api_name=False,
                                      show_progress="hidden"))
    def reread_models(event):
        """The pickers, the note and the samplers re-read (checkpoints trained since appear), then the picture."""
        event = event.then(on_models, [dataset, *pickers], [*pickers, note], api_name=False, show_progress="hidden")
        refresh_forward(event.then(on_both_samplers, [model_a, samplers[0], model_b, samplers[1]], samplers,
                                   api_name=False, show_progress="hidden"))

    reread_models(tab.select(None, None, None, api_name=False))

    def switch(dataset_value):
        return (gr.update(choices=common.class_choices(dataset_value), value=0),
                gr.update(choices=[("any (drawn from the seed)", -1), *common.class_choices(dataset_value)], value=-1))

    reread_models(dataset.change(switch, dataset, [forward["label"], walk["label"]], api_name=False))

    walk_settings = [model_a, steps[0], samplers[0], model_b, steps[1], samplers[1]]
    walk_images = [image for _, side, _ in SIDES for image in walk["sides"][side]["images"]]
    walk["go"].click(on_walk_start, [dataset, *walk_settings, walk["count"], walk["seed"], walk["label"], walk["state"]],
                     [walk["job"], *walk_images, walk["message"], walk["state"]], api_name="diffusion_walk",
                     show_progress="hidden").then(None, [walk["job"]], None,
                                                  js="(job) => { window.geLive.walk(job); return []; }")
    walk["done"].change(on_walk_result, walk["done"], [*walk_images, walk["message"], walk["strip"], walk["legend"]],
                        api_name="diffusion_walk_result", show_progress="hidden")

    grid_inputs = [dataset, grid_panel["side"], model_a, samplers[0], model_b, samplers[1], grid_panel["weight"],
                   grid_panel["seed"], grid_panel["steps"]]
    gr.on([grid_panel["go"].click, grid_panel["weight"].release], on_grid, grid_inputs,
          [grid_panel["picture"], grid_panel["reading"]], api_name="diffusion_guidance", trigger_mode="always_last")
    compare["go"].click(on_compare, [dataset, compare["count"], compare["seed"], *walk_settings], compare["table"],
                        api_name="diffusion_compare")


# Runs once when the page loads, after live.py's LIVE_JS: the t slider paints through the live "noise" route, and
# window.geLive.walk(job) watches a walk through the "walk" route (each frame's time kept in window.geDiffFrames).
DIFFUSION_JS = """
() => {
  const live = window.geLive;
  if (!live) return;
  const paint = (data) => {
    for (const [id, src] of Object.entries(data.images || {})) {
      if (src) live.setSrc(document.querySelector('#' + id + ' img'), src);
    }
  };
  const forward = () => {
    const box = document.querySelector('#ge-diff-live textarea, #ge-diff-live input');
    const slider = document.querySelector('#ge-diff-t input[type=range]');
    let state;
    try { state = JSON.parse(box.value); } catch (_) { return; }
    if (!slider) return;
    live.request('noise', { ...state, t: Number(slider.value) }, async (r) => {
      const data = await r.json();
      paint(data);
      const numbers = document.querySelector('#ge-diff-snr .ge-diff-numbers');
      if (numbers && data.html) numbers.innerHTML = data.html;
    });
  };
  document.addEventListener('input', (e) => {
    if (e.target.closest && e.target.closest('#ge-diff-t') && e.target.tagName === 'INPUT') setTimeout(forward, 0);
  }, true);
  window.geDiffFrames = [];
  live.walk = (job) => {
    window.geDiffFrames = [];
    const statuses = ['a', 'b'].map((side) => document.querySelector('#ge-diff-status-' + side));
    const say = (text) => statuses.forEach((el) => { if (el) el.textContent = text; });
    live.watch('walk', job, 'ge-diff-walk', (data) => {
      paint(data);
      for (const [id, text] of Object.entries(data.status || {})) {
        const el = document.querySelector('#' + id);
        if (el) el.textContent = text;
      }
      window.geDiffFrames.push(performance.now());
    }, say, 'ge-diff-done');
  };
}
"""
