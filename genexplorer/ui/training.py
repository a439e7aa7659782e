"""Training tab: launch, watch, cancel and reuse training runs. The runs are separate
processes managed by genexplorer.jobs; this module only shows their state."""
from __future__ import annotations

import html
import os
import time
from pathlib import Path

import gradio as gr
import numpy as np
import plotly.graph_objects as go
from PIL import Image

from .. import data, jobs
from ..models import ALIASES, FAMILIES, family as family_of_kind
from ..train_form import OPTION_NAMES, form_settings
from . import common
from .upload import refusal, size_guard

# The family picker: every registered family (the context encoder listed by its command-line name).
_TYPED = {kind: alias for alias, kind in ALIASES.items()}
FAMILY_CHOICES = [(f"{f.title} ({_TYPED.get(kind, kind)})", _TYPED.get(kind, kind)) for kind, f in FAMILIES.items()]
LR_SCHEDULE_CHOICES = [("constant", "constant"), ("cosine: falls to 0 by the last step", "cosine")]
AUGMENT_CHOICES = [("no", "none"), ("geometry: shift, turn, scale", "geometry"),
                   ("handwriting: also slant, stroke width, blur", "handwriting")]

_manager: jobs.JobManager | None = None


def manager() -> jobs.JobManager:
    """The one job manager of this app process (shared by every browser session)."""
    global _manager
    if _manager is None:
        _manager = jobs.JobManager(os.environ.get("GENEXPLORER_RUNS") or None)
    return _manager


def gpu_count() -> int:
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def fashion_installed() -> bool:
    try:
        data.fashion_folder("train")
    except data.DatasetError:
        return False
    return True


def dataset_choices() -> list[tuple[str, str]]:
    full = fashion_installed()
    return [("digits (4,500 shipped MNIST)", "mnist"),
            ("fashion (60,000 Fashion-MNIST)" if full else
             "fashion: NOT INSTALLED (sudo apt-get install dataset-fashion-mnist)", "fashion"),
            ("my .zip (IDX files or one folder of images per class)", "zip")]


def run_choices() -> list[tuple[str, str]]:
    # No state in the label: it would go stale while the picker is open; the progress line says it.
    return [(f"{job.name} · {time.strftime('%H:%M', time.localtime(job.created))}", job.id)
            for job in manager().jobs()]


@common.user_errors
def on_start(name, family, dataset, zip_file, epochs, batch_size, lr, seed, device, overwrite, processes=1,
             lr_schedule="constant", augment="none", ema=None, font_digits=False, *option_values):
    """Queue a run; -> (runs dropdown update, message). After the run's own settings come the values of the
    family options' controls, in OPTION_NAMES order (the other families' controls are ignored)."""
    if dataset == "fashion":
        data.fashion_folder("train")   # not installed: say how to install it now, not when the run fails
    if dataset == "zip" and not zip_file:
        raise jobs.JobError("upload a .zip of IDX files or of one folder of images per class first")
    settings = {"model": family, "dataset": dataset, "epochs": _int(epochs, "epochs"),
                "batch_size": _int(batch_size, "batch size"), "lr": float(lr) if lr else None,
                "seed": _int(seed, "seed"), "device": device or "auto"}
    if augment not in (None, "", "none"):
        settings["augment"] = augment
    if lr_schedule not in (None, "", "constant"):
        settings["lr_schedule"] = lr_schedule
    if family_of_kind(family).averaged and ema not in (None, "", 0):
        settings["ema"] = _number(ema, "EMA decay", 0, 0.99999)
    if font_digits:
        settings["font_digits"] = True
    settings.update(form_settings(family, dict(zip(OPTION_NAMES, option_values))))
    try:
        if dataset == "zip":
            settings["dataset"] = str(manager().unpack_upload(zip_file))
        job = manager().submit((name or "").strip(), settings, overwrite=bool(overwrite),
                               processes=_int(processes if processes is not None else 1, "processes"))
    except BaseException:
        if dataset == "zip" and settings["dataset"] != "zip":
            manager().discard_upload(settings["dataset"])   # a refused run leaves no unpacked upload behind
        raise
    job = manager().get(job.id)
    waiting = "" if job.state == "running" else " It waits until the run before it on this device ends."
    where = f"{job.processes} processes (torchrun) from {job.device}" if job.processes > 1 else job.device
    return gr.update(choices=run_choices(), value=job.id), f"Queued **{job.name}** on {where}.{waiting}"


def on_family(kind: str):
    """The chosen family's controls shown with its defaults, limits and help; the others hidden; the EMA box only
    for a family whose weights it can average."""
    chosen = {info.name: info for info in family_of_kind(kind).option_info()}
    updates = []
    for name in OPTION_NAMES:
        info = chosen.get(name)
        if info is None:
            updates.append(gr.update(visible=False))
            continue
        update = {"visible": True, "label": f"{name.replace('_', ' ')}: {info.help}", "value": _shown(info)}
        if info.choices is not None:
            update["choices"] = list(info.choices)
        updates.append(gr.update(**update))
    return [gr.update(visible=family_of_kind(kind).averaged is not None), *updates]


def _control(name: str, first_family: str):
    """One control for an option name, shown as ``first_family`` (the picker's first value) describes it, hidden if
    it has no such option (on_family relabels and shows it for the families that have it)."""
    own = {i.name: i for i in family_of_kind(first_family).option_info()}
    info = own.get(name) or next(i for f in FAMILIES.values() for i in f.option_info() if i.name == name)
    label, elem_id = f"{name.replace('_', ' ')}: {info.help}", f"ge-train-{name.replace('_', '-')}"
    shown = name in own
    if info.type is bool:
        return gr.Checkbox(info.default, label=label, visible=shown, elem_id=elem_id)
    if info.choices is not None:
        return gr.Dropdown(list(info.choices), value=info.default, label=label, visible=shown, elem_id=elem_id)
    # A number is typed in a text box: one box serves several families with other limits and defaults, and an
    # empty box must stay empty ("the family's default"; Gradio's Number shows and sends 0 for none), so
    # train_form reads the text and TrainSettings checks each family's own limits and says which.
    return gr.Textbox(_shown(info), label=label, placeholder="empty: the family's default", visible=shown,
                      elem_id=elem_id, max_lines=1)


def _shown(info):
    """What a control shows for an option's default: the value, or an empty box for "the family's own"."""
    if info.type in (int, float) and info.choices is None:
        return "" if info.default is None else f"{info.default:g}" if info.type is float else str(info.default)
    return info.default


def _number(value, what: str, low: float, high: float) -> float:
    try:
        number = float(value if value is not None else 0)
    except (TypeError, ValueError):
        raise jobs.JobError(f"{what} must be a number") from None
    if not low <= number <= high:      # NaN fails both comparisons
        raise jobs.JobError(f"{what} must be between {low:g} and {high:g}, got {value!r}")
    return number


def _int(value, what: str) -> int:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise jobs.JobError(f"{what} must be a whole number") from None
    if number != number or number in (float("inf"), float("-inf")) or number != int(number):
        raise jobs.JobError(f"{what} must be a whole number, got {value!r}")
    return int(number)


@common.user_errors
def on_cancel(job_id):
    if not job_id:
        raise jobs.JobError("pick a run to cancel")
    finished = len(manager().status(job_id).get("epochs") or [])
    job = manager().cancel(job_id)
    if job.state == "cancelled":
        return f"**{job.name}** was cancelled before it started: nothing was saved."
    kept = f"keeps its last finished epoch ({finished})" if finished else "no epoch has finished, so nothing is saved"
    return f"Cancelling **{job.name}**: it stops at the next step; it {kept}."


def progress_html(job: jobs.Job, status: dict) -> str:
    progress = status.get("progress") or {}
    epochs = progress.get("epochs") or job.settings.get("epochs") or 1
    steps = progress.get("steps_per_epoch") or 1
    done = (progress.get("epoch", 1) - 1 + progress.get("step", 0) / steps) / epochs if progress else 0.0
    if job.state == "done":
        done = 1.0
    colour = {"failed": "#d62728", "cancelled": "#7f7f7f", "done": "#2ca02c"}.get(job.state, "#4f6df5")
    detail = ""
    if progress and job.state == "running":
        detail = (f"epoch {progress['epoch']}/{epochs}, step {progress['step']}/{steps} · "
                  f"{progress.get('images_per_s', 0):.0f} images/s · {int(progress.get('eta_s', 0) // 60)} min "
                  f"{int(progress.get('eta_s', 0) % 60)} s left")
    elif job.state == "queued":
        detail = "waiting for its device"
    message = html.escape(job.message or status.get("message", ""))
    return (f"<div id='ge-train-progress' data-state='{job.state}' data-fraction='{done:.4f}'>"
            f"<b>{html.escape(job.name)}</b>: {job.state} {html.escape(detail)}"
            f"<div style='background:#e5e7eb;border-radius:6px;height:14px;margin:6px 0'>"
            f"<div style='width:{100 * min(done, 1):.1f}%;background:{colour};height:14px;border-radius:6px'></div></div>"
            f"<span>{message}</span></div>")


def curve_figure(job: jobs.Job, status: dict):
    curve = status.get("curve") or []
    if not curve:
        return None
    try:
        groups = family_of_kind(job.settings.get("model")).curves()
    except ValueError:
        groups = (("loss",),)
    # GAN families: the Frechet distance of 1,000 samples per epoch, beside the losses, shows
    # which loss tracks the pictures (the WGAN critic's) and which does not (DCGAN's).
    frechet = [e for e in status.get("epochs") or [] if "test_frechet" in e]
    titles = [" and ".join(g) for g in groups] + (["Frechet distance of 1,000 samples (lower is better)"] if frechet else [])
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=len(titles), subplot_titles=titles)
    x = [point["epoch"] for point in curve]
    for column, keys in enumerate(groups, start=1):
        for key in keys:
            if key in curve[-1]:
                fig.add_trace(go.Scatter(x=x, y=[point.get(key) for point in curve], mode="lines", name=key),
                              row=1, col=column)
    if frechet:
        fig.add_trace(go.Scatter(x=[e["epoch"] for e in frechet], y=[e["test_frechet"] for e in frechet],
                                 mode="lines+markers", name="Frechet distance"), row=1, col=len(titles))
    fig.update_xaxes(title_text="epoch")
    fig.update_layout(height=320, margin={"l": 40, "r": 10, "t": 40, "b": 40})
    return fig


def runs_table() -> str:
    rows = []
    for job in manager().jobs()[:20]:
        status = manager().status(job.id)
        final = (status.get("epochs") or [{}])[-1]
        metric = ", ".join(f"{k} {v:.3g}" for k, v in final.items()
                           if k in ("test_psnr", "test_neg_elbo_nats", "train_d_loss", "train_g_loss"))
        s = job.settings
        rows.append(f"| {job.name} | {job.state} | {s.get('model')} | {Path(str(s.get('dataset'))).name} | "
                    f"{s.get('latent_dim') or ''} | {s.get('epochs')} | {job.device} | {metric} |")
    return ("| run | state | model | data | latent | epochs | device | last metrics |\n|---|---|---|---|---|---|---|---|\n"
            + "\n".join(rows)) if rows else "No runs yet."


def _samples_picture(job_id):
    """The latest sample grid as pixels, not a path: Gradio serves only files under the working
    directory or the temp folder, and runs/ may be anywhere (GENEXPLORER_RUNS)."""
    path = manager().latest_samples(job_id)
    if path is None:
        return None
    try:
        with Image.open(path) as picture:
            return np.asarray(picture.convert("RGB"))
    except (OSError, ValueError):
        return None   # being written right now: the next tick shows it


def on_view(job_id):
    """-> (progress, curves, samples, log, runs table, timer update, message). Called by the timer; once the run
    has ended the message says how, replacing "Queued ..."."""
    if not job_id:
        return ("<div id='ge-train-progress' data-state='none'>No run selected.</div>", None, None, "", runs_table(),
                gr.update(), gr.update())
    try:
        job = manager().get(job_id)
    except jobs.JobError as exc:
        return (f"<div id='ge-train-progress' data-state='none'>{html.escape(str(exc))}</div>", None, None, "",
                runs_table(), gr.update(), gr.update())
    status = manager().status(job_id)
    return (progress_html(job, status), curve_figure(job, status), _samples_picture(job_id),
            manager().log_tail(job_id, lines=8), runs_table(), gr.update(active=job.state in ("queued", "running")),
            run_message(job, status) if job.state in jobs.FINAL_STATES else gr.update())


def run_message(job: jobs.Job, status: dict) -> str:
    """What the line under Start says of a run in its state now."""
    if job.state == "queued":
        return f"**{job.name}** is queued: it waits until the run before it on its device ends."
    if job.state == "running":
        return f"**{job.name}** is stopping at its next step." if job.message == jobs.CANCELLING else \
            f"**{job.name}** is running on {job.device}."
    why = status.get("message") or job.message
    return {"done": f"**{job.name}** is done: its checkpoint is in every model picker.",
            "failed": f"**{job.name}** failed: {why}",
            "cancelled": f"**{job.name}** was cancelled: {why}"}[job.state]


def on_page_view(job_id, shown: str | None):
    """The page's view of a run (the timer, a start, opening the tab): on_view, and the line under Start follows the
    run's state while it speaks of this run ("Queued x" becomes "x is running", then "x is done"); a message about
    something else (a refused start) stays until the next action."""
    *view, _ = on_view(job_id)
    try:
        job = manager().get(job_id) if job_id else None
    except jobs.JobError:
        job = None
    if job is None or (shown and f"**{job.name}**" not in shown):
        return [*view, gr.update()]
    return [*view, run_message(job, manager().status(job_id))]


def build(tab: gr.Tab) -> None:
    gr.Markdown("Train a model from here and watch it learn. Runs go on in a separate process (and survive closing "
                "this tab); when one ends, its checkpoint appears in every model picker of the app. The form shows the "
                "chosen family's own options.")
    with gr.Row():
        with gr.Column(scale=1, min_width=300):
            name = gr.Textbox(label="Name (becomes the checkpoint's name)", value="mnist-myvae2d", elem_id="ge-train-name")
            family = gr.Dropdown(FAMILY_CHOICES, value="vae", label="Model family", elem_id="ge-train-family")
            dataset = gr.Dropdown(dataset_choices(), value="mnist", label="Data", elem_id="ge-train-dataset")
            zip_file = gr.File(file_types=[".zip"], type="filepath", label="Your data (.zip)", height=90,
                               visible=False, elem_id="ge-train-zip")
            # Start and Cancel near the top: they stay in view however many options the family below has.
            with gr.Row():
                start = gr.Button("Start", variant="primary", elem_id="ge-train-start")
                cancel = gr.Button("Cancel run", variant="stop", elem_id="ge-train-cancel")
            message = gr.Markdown(elem_id="ge-train-message")
            zip_refused = size_guard("ge-train-zip")
            with gr.Row():
                epochs = gr.Number(10, precision=0, minimum=1, maximum=jobs.MAX_EPOCHS, label="Epochs",
                                   elem_id="ge-train-epochs")
                batch_size = gr.Number(128, precision=0, minimum=1, maximum=4096, label="Batch size",
                                       elem_id="ge-train-batch")
            with gr.Row():
                lr = gr.Number(0, minimum=0, maximum=1, label="Learning rate (0: the family's)", elem_id="ge-train-lr")
                seed = gr.Number(0, precision=0, minimum=0, label="Seed", elem_id="ge-train-seed")
            with gr.Group():
                options = [_control(option_name, "vae") for option_name in OPTION_NAMES]
            with gr.Accordion("More run settings: schedule, variation, averaging, device", open=False):
                lr_schedule = gr.Dropdown(LR_SCHEDULE_CHOICES, value="constant", label="Learning rate over the run",
                                          elem_id="ge-train-lr-schedule")
                augment = gr.Dropdown(AUGMENT_CHOICES, value="none", label="Vary the training pictures",
                                      elem_id="ge-train-augment")
                ema = gr.Number(0, minimum=0, maximum=0.99999, label="Keep the weights averaged over the steps "
                                "(EMA decay, e.g. 0.999; 0: the last weights)", elem_id="ge-train-ema", visible=False)
                font_digits = gr.Checkbox(False, label="Digits: add the 5,519 font digits (1s with a flag, 7s with "
                                          "a bar)", elem_id="ge-train-font-digits")
                device = gr.Dropdown(jobs.available_devices(), value="auto", label="Device", elem_id="ge-train-device")
                gpus = gpu_count()
                # Data-parallel training (torchrun, DistributedDataParallel) pays with more than one GPU.
                processes = gr.Number(1, precision=0, minimum=1, maximum=max(gpus, 1), visible=gpus > 1,
                                      label="Processes (one per GPU, torchrun)", elem_id="ge-train-processes")
                overwrite = gr.Checkbox(False, label="overwrite a checkpoint of the same name",
                                        elem_id="ge-train-overwrite")
        with gr.Column(scale=2):
            # Custom values: a run started since this page was built (or by another app process sharing the
            # runs folder) can be watched by its id; jobs.get() checks the id's form before any path is made.
            run = gr.Dropdown(run_choices(), label="Run", allow_custom_value=True, elem_id="ge-train-run")
            progress = gr.HTML(elem_id="ge-train-status")
            curves = gr.Plot(label="Loss curves", elem_id="ge-train-curves")
            samples = gr.Image(label="Samples and reconstructions, refreshed every epoch", type="numpy", format="png",
                               interactive=False, height=320, elem_id="ge-train-samples")
            log = gr.Textbox(label="Log", lines=8, max_lines=8, interactive=False, elem_id="ge-train-log")
    runs = gr.Markdown(elem_id="ge-train-runs")
    timer = gr.Timer(1.0, active=False)

    view_outputs = [progress, curves, samples, log, runs, timer, message]
    dataset.change(lambda d: (gr.update(visible=d == "zip"), gr.update(visible=d == "mnist")), dataset,
                   [zip_file, font_digits], api_name=False)
    family.change(on_family, family, [ema, *options], api_name=False)
    # A refused start or cancel says why under the buttons, once (no "Error" over the outputs); the API still raises.
    start_inputs = [name, family, dataset, zip_file, epochs, batch_size, lr, seed, device, overwrite, processes,
                    lr_schedule, augment, ema, font_digits, *options]
    common.page_event(start.click, on_start, start_inputs, [run, message], message=message, api_name="train_start").then(
        on_page_view, [run, message], view_outputs, api_name=False, show_progress="hidden")
    common.page_event(cancel.click, on_cancel, [run], [message], message=message, api_name="train_cancel")
    zip_refused.change(lambda text: refusal(text) if text else gr.skip(), zip_refused, message, api_name=False,
                       show_progress="hidden")
    run.change(on_view, run, view_outputs, api_name="train_status", show_progress="hidden")
    timer.tick(on_page_view, [run, message], view_outputs, api_name=False, show_progress="hidden")

    def first_view(current):
        choices = run_choices()
        value = current if current in [c[1] for c in choices] else (choices[0][1] if choices else None)
        return gr.update(choices=choices, value=value)

    tab.select(first_view, run, run, api_name=False).then(on_page_view, [run, message], view_outputs, api_name=False)
