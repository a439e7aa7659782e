"""Benchmarks: how fast the explorer answers, measured, not assumed.

    python -m genexplorer.bench            # everything, writes BENCHMARKS.md
    python -m genexplorer.bench --quick    # a small version (CI runs it so it never rots)

Speed: the handlers, start-up and a real browser. Quality (devtools/quality.py): the
shipped models on the held-out test sets, read by the shipped classifiers, against PCA and
the pytorch/examples VAE trained in the same run; and training speed.

Speed figures are medians and 95th percentiles over repeated runs on this machine; the
machine is shared and noisy, so rerun before trusting a small difference.
"""
from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np

from .browser_bench import (browser_speed, ganlab_browser_speed, pixelcnn_browser_speed, toy_walkers_browser_speed,
                            walk_browser_speed)
from .measuring import (ROOT, browser_table, free_port, machine, measured, running_app, start_app,  # noqa: F401
                        summary, table, timed, wait_ready)


# ------------------------------------------------------------ handlers

def model_speed(repeats: int) -> list[list[str]]:
    """Per shipped checkpoint, in-process on one thread: encode one image, decode one code,
    and a whole slider step as its handler does it (check the code, decode, the upscaled PNG the page gets).
    Rows: [checkpoint, encode median / p95, decode median / p95, slider step median / p95]."""
    import torch

    torch.set_num_threads(1)  # as app.py runs them
    from .. import explore
    from ..data import load_dataset
    from ..images import PIXEL_SCALE, png_bytes, upscale
    from ..models import GAN_KINDS

    cache = explore.ModelCache()
    rng = np.random.default_rng(0)
    rows = []
    for name in cache.names():
        model = cache.get(name)
        images, labels = load_dataset(model.dataset, "test")
        x = torch.from_numpy(images[:1]).float().div(255).unsqueeze(1)
        y = torch.tensor(labels[:1]) if model.conditional else None
        label = int(labels[0]) if model.conditional else None
        z = torch.zeros(1, model.latent_dim)
        with torch.inference_mode():
            encode = timed(lambda: model.encode(x, y), repeats) if model.kind not in GAN_KINDS else None
            decode = timed(lambda: model.decode(z, y), repeats)
        step = timed(lambda: png_bytes(upscale(explore.decode_image(
            model, explore.check_latent(model, rng.uniform(-2, 2, model.latent_dim).tolist()), label), PIXEL_SCALE)),
            repeats)
        cell = lambda stats: "no encoder" if stats is None else f"{stats['median']:.2f} / {stats['p95']:.2f}"  # noqa: E731
        rows.append([name, cell(encode), cell(decode), cell(step)])
    return rows


def model_table(rows: list[list[str]]) -> str:
    lines = ["| checkpoint | encode one image (ms, median / p95) | decode one code (ms) | slider step: decode + PNG (ms) |",
             "|---|---|---|---|"]
    return "\n".join(lines + [f"| {' | '.join(row)} |" for row in rows])


def drawing_payload() -> str:
    """A drawn 7 as the canvas sends it."""
    from PIL import Image, ImageDraw

    from ..canvas_payload import encode_payload

    canvas = Image.new("L", (112, 112), 0)
    ImageDraw.Draw(canvas).line([(30, 20), (80, 20), (45, 95)], fill=255, width=8)
    return encode_payload(np.asarray(canvas))


def event_ms(http, url: str, name: str, data: list, session: str) -> float:
    """One Gradio event through the queue's HTTP API -> its handler's own time in ms, as Gradio timed the call
    (the ``duration`` of its completion message: the HTTP, the queue and the outputs' processing are not in it)."""
    http.post(f"{url}/gradio_api/call/{name}", json={"data": data, "session_hash": session}).raise_for_status()
    with http.stream("GET", f"{url}/gradio_api/queue/data", params={"session_hash": session}) as stream:
        for line in stream.iter_lines():
            message = json.loads(line[5:]) if line.startswith("data:") else {}
            if message.get("msg") == "process_completed":
                if not message.get("success"):
                    raise RuntimeError(f"/{name} failed: {message.get('output')}")
                return 1000 * message["output"]["duration"]
    raise RuntimeError(f"/{name}: no result in its stream")


def live_ms(http, url: str, route: str, body: dict) -> float:
    """One request to a live route -> the app's own time for it in ms (its Server-Timing: the batch it joined)."""
    from .classroom import server_timing_ms

    response = http.post(f"{url}/genexplorer/live/{route}", json=body)
    response.raise_for_status()
    ms = server_timing_ms(response)
    if ms is None:
        raise RuntimeError(f"/genexplorer/live/{route} answered without its Server-Timing")
    return ms


HANDLER_TITLE = "Handler time (the running app's own time per request, one thread)"


def handler_speed(url: str, repeats: int) -> list[tuple[str, dict]]:
    """The tabs' heavier handlers in the running app at ``url`` (one thread per request, as it serves a page),
    each request alone: the handler's own time as the app measured it, without the HTTP around it."""
    import httpx

    payload = drawing_payload()
    fewer = max(10, repeats // 4)
    session = f"bench-{os.getpid()}"      # one open page
    with httpx.Client(timeout=120) as http:
        return [
            ("drawing -> 4 reconstructions + classifier readings (draw handler)",
             measured(lambda: event_ms(http, url, "draw", [payload, "mnist", -1], session), fewer)),
            ("drawing -> 4 reconstructions, pictures only (live channel)",
             measured(lambda: live_ms(http, url, "draw", {"payload": payload, "dataset": "mnist", "cvae_class": -1}),
                      fewer)),
            ("interpolate 1 -> 7, 8 steps (pixels, AE, VAE, GAN tour)",
             measured(lambda: event_ms(http, url, "interpolate", ["1", 0, "7", 0, 8, "mnist"], session), fewer)),
        ]


# ------------------------------------------------------------ through the running app

def api_speed(url: str, calls: int, clients: tuple[int, ...] = (1, 10)) -> list[tuple[str, dict]]:
    """The slider, draw and interpolate endpoints through gradio_client against the running app at ``url``,
    as an API user sees them: each client a separate session, `clients` of them at once, each
    making ``calls`` calls per endpoint. Latency per call, client included."""
    import threading

    from gradio_client import Client

    payload = drawing_payload()
    endpoints = {
        "/slide": lambda i: ("mnist-vae", None, *[round(0.1 * ((i + k) % 7) - 0.3, 2) for k in range(16)]),
        "/draw": lambda i: (payload, "mnist", -1),
        "/interpolate": lambda i: ("1", i % 3, "7", 0, 8, "mnist"),
    }
    rows = []
    for count in clients:
        sessions = [Client(url, analytics_enabled=False, verbose=False) for _ in range(count)]
        for endpoint, arguments in endpoints.items():
            samples: list[float] = []
            errors: list[BaseException] = []

            def user(client, samples=samples, errors=errors, endpoint=endpoint, arguments=arguments):
                for i in range(calls):
                    start = time.perf_counter()
                    try:
                        client.predict(*arguments(i), api_name=endpoint)
                    except Exception as exc:  # noqa: BLE001 - counted and reported, not fatal
                        errors.append(exc)
                        continue
                    samples.append((time.perf_counter() - start) * 1000)

            sessions[0].predict(*arguments(0), api_name=endpoint)  # warm up
            threads = [threading.Thread(target=user, args=(client,)) for client in sessions]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            label = f"{endpoint}, {count} client{'s' if count > 1 else ''} at once"
            if errors:
                label += f" ({len(errors)} errors: {type(errors[0]).__name__})"
            rows.append((label, summary(samples) if samples else {"n": 0, "median": float("nan"), "p95": float("nan")}))
    return rows


# ------------------------------------------------------------ start-up


STARTUP_BEGIN, STARTUP_END = "<!-- startup: begin -->", "<!-- startup: end -->"
PAGE_ROW, READY_ROW = "`python app.py` -> the page (first 200 on /)", "`python app.py` -> first successful request"


def page_answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def startup_speed(runs: int) -> list[tuple[str, dict]]:
    """`python app.py` to its page (GET / answered 200), and on to its first successful request (wait_ready:
    the page's config and the live routes), in ms; one row each."""
    page, ready = [], []
    for _ in range(runs):
        port = free_port()
        start = time.perf_counter()
        process = start_app(port)
        try:
            while not page_answers(port):
                if process.poll() is not None or time.perf_counter() - start > 120:
                    raise RuntimeError("the app did not start")
                time.sleep(0.02)
            page.append((time.perf_counter() - start) * 1000)
            wait_ready(port)
            ready.append((time.perf_counter() - start) * 1000)
        finally:
            process.terminate()
            process.wait(30)
    return [(PAGE_ROW, summary(page)), (READY_ROW, summary(ready))]


def startup_section(runs: int, *, command: str | None = None) -> str:
    """The Start-up section between its markers; ``command``: the one that measured it alone (--only startup)."""
    head = ""
    if command:
        from .classbench import load_note

        head = f"Command: `{command}`  \nDate: {datetime.date.today()}  \nMachine: {machine()}; {load_note()}\n\n"
    return f"{STARTUP_BEGIN}\n## Start-up\n\n{head}{table(startup_speed(runs))}\n{STARTUP_END}"


# ------------------------------------------------------------ browser

# Resolves with the ms from t0 until img() shows a new, loaded picture (-1 after 5 s).


GANLAB_BEGIN, GANLAB_END = "<!-- ganlab: begin -->", "<!-- ganlab: end -->"
# The image-GAN runs whose per-epoch logs the section reads (bash tools/train_shipped.sh gan-dynamics writes them).
GAN_DYNAMICS_RUNS = {"DCGAN (mnist, 20 epochs)": "runs/gan-dynamics/mnist-gan-log",
                     "WGAN, weight clipping (mnist, 20 epochs)": "runs/gan-dynamics/mnist-wgan-log",
                     "WGAN-GP (mnist, 20 epochs)": "runs/gan-dynamics/mnist-wgan-gp-log"}


def ganlab_section(*, quick: bool, browser: bool) -> str:
    import torch

    from . import gandynamics

    torch.set_num_threads(1)   # as app.py runs the toys
    command = "python -m genexplorer.bench --only ganlab" + (" --quick" if quick else "") + ("" if browser else " --no-browser")
    parts = [f"## GAN lab and GAN training dynamics\n\nCommand: `{command}`  \nDate: {datetime.date.today()}  \n"
             f"Machine: {machine()}"]
    tables = [gandynamics.lesson_table(100 if quick else 1000, log=lambda m: print(m, flush=True)),
              gandynamics.speed_table(50 if quick else 300, 10 if quick else 50),
              gandynamics.correlation_table({title: ROOT / folder for title, folder in GAN_DYNAMICS_RUNS.items()}),
              gandynamics.conditional_table(200 if quick else 2000)]
    tables[2].notes.insert(0, "The runs: `bash tools/train_shipped.sh gan-dynamics` (one thread each, seed 0, the "
                               "papers' optimisers and learning rates), then this command.")
    parts += [f"### {t.title}\n\n{t.markdown()}" for t in tables]
    if browser:
        print("browser...", flush=True)
        rows = ganlab_browser_speed(3 if quick else 10)
        parts.append(browser_table(rows, "seconds", "worst second"))
    return GANLAB_BEGIN + "\n" + "\n\n".join(parts) + "\n" + GANLAB_END


# ------------------------------------------------------------ report


QUALITY_INTRO = """The reader is the project's own small CNN classifier of each dataset (`checkpoints/<dataset>-classifier`,
`bash tools/train_shipped.sh classifiers`): its accuracy on reconstructions and completed images, the classes it
sees in samples, and its 128 penultimate-layer features for the Frechet distance (FID's formula on our classifier's
features, so comparable only within this file). The floor is training images against test images: what a perfect
generator would score with as many images. Nats are per image: Bernoulli cross-entropy of the grey pixels summed over
the 784 pixels, plus the KL term; the importance-weighted NLL (Burda et al. 2016) is a tighter bound than the -ELBO.
`mnist` is the shipped 4,500/500 digit split, `fashion` Fashion-MNIST (60,000/10,000). Baselines trained in the run on
the same training images: PCA with as many components as the AE has latent dimensions, and the pytorch/examples VAE
recipe (MLP 784-400-20, BCE, Adam 1e-3, batch 128, 10 epochs). A conditional model is given the true class to
reconstruct and each class in turn to sample. The mean-image inpainting baseline uses the mean test image, as the app does."""


QUALITY_BEGIN, QUALITY_END = "<!-- quality: begin -->", "<!-- quality: end -->"


def quality_section(*, quick: bool, alone: bool = False) -> str:
    """quality_sections between markers, so `--only quality` can replace them after a retrain; alone: with the
    command and date of that run (the speed sections above it come from another one)."""
    head = (f"Command: `python -m genexplorer.bench --only quality{' --quick' if quick else ''}`  \n"
            f"Date: {datetime.date.today()}  \nMachine: {machine()}\n\n") if alone else ""
    sections = quality_sections(quick=quick)
    sections[0] = sections[0].replace("\n\n", "\n\n" + head, 1)
    return f"{QUALITY_BEGIN}\n" + "\n\n".join(sections) + f"\n{QUALITY_END}"


def quality_sections(*, quick: bool) -> list[str]:
    """The quality tables (devtools/quality.py) and the training-speed ones, as markdown sections."""
    import torch

    from . import quality

    torch.set_num_threads(1)
    tables = quality.run(quality.QUICK if quick else quality.FULL, log=lambda message: print(message, flush=True))
    training = [t for t in tables if t.title.startswith("Training")]
    out = ["## Quality, on the held-out test sets\n\n" + QUALITY_INTRO]
    out += [f"### {t.title}\n\n{t.markdown()}" for t in tables if t not in training]
    out.append("## Training speed\n\nOne thread each, as the shipped checkpoints were trained; times are training "
               "only (the test evaluations between epochs are not counted).")
    out += [f"### {t.title}\n\n{t.markdown()}" for t in training]
    return out


PIXELCNN_BEGIN, PIXELCNN_END = "<!-- pixelcnn: begin -->", "<!-- pixelcnn: end -->"


def pixelcnn_section(*, quick: bool, browser: bool) -> str:
    import torch

    from . import quality

    torch.set_num_threads(1)
    budget = quality.QUICK if quick else quality.FULL
    command = "python -m genexplorer.bench --only pixelcnn" + (" --quick" if quick else "") + ("" if browser else " --no-browser")
    parts = [f"## PixelCNN (autoregressive)\n\nCommand: `{command}`  \nDate: {datetime.date.today()}  \n"
             f"Machine: {machine()}\n\nThe PixelCNN's exact nats are its Bernoulli reading of the grey values, the "
             "VAE decoder's cross-entropy, so they sit beside the VAE's bounds; a PixelCNN that draws grey levels (a "
             "mixture of logistics over 256 levels, PixelCNN++) also gives their own -log p(x), a different model of "
             "the pixels. Samples at temperature 1, beside the shipped GAN's. A completion is one sample per test "
             "image; the classifier reads the completed picture."]
    parts += [f"### {t.title}\n\n{t.markdown()}" for t in
              quality.run_autoregressive(budget, log=lambda message: print(message, flush=True))]
    if browser:
        print("browser...", flush=True)
        rows = pixelcnn_browser_speed(2 if quick else 5)
        parts.append(browser_table(rows, "runs", "worst run"))
    return PIXELCNN_BEGIN + "\n" + "\n\n".join(parts) + "\n" + PIXELCNN_END


CLASSROOM_BEGIN, CLASSROOM_END = "<!-- classroom: begin -->", "<!-- classroom: end -->"
# The last size again: the same students, sessions already open, so its memory shows whether the app leaks.
CLASSROOM_SIZES, CLASSROOM_QUICK_SIZES = (1, 10, 30, 60, 120, 120), (1, 3, 3)
CLASSROOM_WITH_LABS = {False: (30, 8), True: (3, 1)}     # (students drawing and dragging, students playing the GAN lab)


def lab_rate(result: dict, seconds: float) -> str:
    """Frames a second each GAN lab player got, answered right, in a classroom result."""
    frames = result["kinds"].get("GAN lab frame")
    if not frames or not result.get("labs"):
        return "no"
    return f"{(frames['answers'] - frames['wrong']) / seconds / result['labs']:.1f}"


def classroom_section(*, quick: bool) -> str:
    """Browser-like classroom traffic (devtools/classroom.py) against `python app.py`, class by class."""
    from .. import precision
    from . import classroom

    sizes, seconds = (CLASSROOM_QUICK_SIZES, 4.0) if quick else (CLASSROOM_SIZES, 40.0)
    results = []
    with running_app() as (url, process):
        traffic = classroom.make_traffic()
        asyncio.run(classroom.expected_answers(url, traffic))
        for students in sizes:
            print(f"classroom: {students} students for {seconds:.0f} s...", flush=True)
            results.append(classroom.run_class(url, process.pid, students, seconds, traffic))
            if len(results) > 1 and results[-2]["students"] == students and not results[-2]["labs"]:
                results[-1]["again"] = True
        students, labs = CLASSROOM_WITH_LABS[quick]
        print(f"classroom: {students} students and {labs} GAN labs playing for {seconds:.0f} s...", flush=True)
        results.append(classroom.run_class(url, process.pid, students, seconds, traffic, labs=labs))
    command = "python -m genexplorer.bench --classroom" + (" --quick" if quick else "")
    cross_talk = sum(r["cross_talk"] for r in results)
    return (f"{CLASSROOM_BEGIN}\n## A class at once (browser-like traffic)\n\nCommand: `{command}`  \n"
            f"Date: {datetime.date.today()}  \nMachine: {machine()}\n\n"
            f"Each student alternately draws a stroke ({classroom.STROKE_POINTS} live-draw posts 60 ms apart, one in "
            f"flight, then the Gradio draw event) and drags a slider ({classroom.DRAG_STEPS} live-slide posts, one in "
            "flight, then the Gradio slide event), pausing 1-3 s between gestures; the events go through the queue's "
            "HTTP API, each student in one session as an open page is. Live previews in "
            f"{'bfloat16 (this CPU has it natively)' if precision.live_bfloat16() else 'float32'} (precision.py). "
            "The app's CPU and memory include its child process for the live drawings (batching.ChildProcess); the "
            "largest class runs twice, the second time with every session already open, so its memory shows a leak. "
            f"{seconds:.0f} s per class size; the students run on the same 2 cores as the app. Every answer "
            "is checked against the answer to the same request sent alone: "
            f"**{cross_talk} answers belonged to another student**. The app's own time is the live route's work "
            "(Server-Timing): for the draw and slide routes, the micro-batch the request was answered in; the rest "
            "of p50 is waiting. The last class adds students with the GAN lab playing (frames back to back, at most "
            f"20 a second, {classroom.LAB_SPEED} generator steps each): toy training shares one CPU slot however many "
            f"play, so it must not take the draw and slide answers' core; they got "
            f"{lab_rate(results[-1], seconds)} frames a second each.\n\n"
            + classroom.report(results) + f"\n{CLASSROOM_END}")


ZOO_BEGIN, ZOO_END = "<!-- zoo: begin -->", "<!-- zoo: end -->"


def zoo_section(*, quick: bool) -> str:
    import torch

    from .zoo_table import zoo_table

    torch.set_num_threads(1)
    command = "python -m genexplorer.bench --only zoo" + (" --quick" if quick else "")
    table = zoo_table(200 if quick else 2000)
    return (f"{ZOO_BEGIN}\n## The autoencoder zoo\n\nCommand: `{command}`  \nDate: {datetime.date.today()}  \n"
            f"Machine: {machine()}\n\n### {table.title}\n\n{table.markdown()}\n{ZOO_END}")


IMAGE_TO_IMAGE_BEGIN, IMAGE_TO_IMAGE_END = "<!-- image-to-image: begin -->", "<!-- image-to-image: end -->"


def image_to_image_section(*, quick: bool) -> str:
    import torch

    from . import imagetoimage

    torch.set_num_threads(1)
    command = "python -m genexplorer.bench --only image-to-image" + (" --quick" if quick else "")
    inpainting = (imagetoimage.inpainting_table(30, rim_images=500, rim_steps=500) if quick
                  else imagetoimage.inpainting_table(500))
    tables = [inpainting, imagetoimage.translation_table(100 if quick else 2000)]
    body = "\n\n".join(f"### {t.title}\n\n{t.markdown()}" for t in tables)
    return (f"{IMAGE_TO_IMAGE_BEGIN}\n## Image to image: inpainting and sketch to picture\n\nCommand: `{command}`  \n"
            f"Date: {datetime.date.today()}  \nMachine: {machine()}\n\n{body}\n{IMAGE_TO_IMAGE_END}")


def only_section(args, begin: str, end: str, section: str) -> int:
    """Write one section into --out in place of its last version (or at the end), keeping the rest."""
    out = Path(args.out)
    text = out.read_text() if out.exists() else "# genexplorer benchmarks\n"
    if begin in text and end in text:
        before, rest = text.split(begin, 1)
        text = before + section + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    out.write_text(text)
    print(section)
    return 0


DIFFUSION_BROWSER_BEGIN, DIFFUSION_BROWSER_END = "<!-- diffusion-browser: begin -->", "<!-- diffusion-browser: end -->"


def diffusion_browser_section(*, quick: bool) -> str:
    """The diffusion and flow families in Chromium: the Diffusion tab's walk from noise on each dataset and the toy
    lab's diffusion and flow panels playing."""
    from ..toy import FEW_STEPS_LESSON

    command = "python -m genexplorer.bench --only diffusion-browser" + (" --quick" if quick else "")
    rows = [row for dataset in ("mnist", "fashion") for row in walk_browser_speed(2 if quick else 5, dataset)]
    rows += toy_walkers_browser_speed(3 if quick else 10, (FEW_STEPS_LESSON, "a ring of 8: does each learner cover "
                                                           "every mode?"))
    return (f"{DIFFUSION_BROWSER_BEGIN}\n## Diffusion and flow in a real browser\n\nCommand: `{command}`  \n"
            f"Date: {datetime.date.today()}  \nMachine: {machine()}\n\nHeadless Chromium on `python app.py` with the "
            "shipped checkpoints, the app and the browser on the same cores.\n\n"
            f"{browser_table(rows, 'runs', 'worst run')}\n{DIFFUSION_BROWSER_END}")


def diffusion_only(args) -> int:
    """--only diffusion: its section, of the shipped walkers or --models', --samples a row, --dataset's alone;
    --only diffusion-browser: the same families in Chromium."""
    from . import iterative_bench

    if args.only == "diffusion-browser":
        return only_section(args, DIFFUSION_BROWSER_BEGIN, DIFFUSION_BROWSER_END,
                            diffusion_browser_section(quick=args.quick))
    datasets = (args.dataset,) if args.dataset else iterative_bench.DATASETS
    if args.dataset:        # one dataset: its block alone, the other's kept (when the section has them)
        out = Path(args.out)
        block = iterative_bench.dataset_block(args.dataset, quick=args.quick, root=args.models,
                                              samples_per_row=args.samples, datasets=datasets)
        text = iterative_bench.replace_block(out.read_text(), args.dataset, block) \
            if block and out.exists() else None
        if text is not None:
            out.write_text(text)
            print(block)
            return 0
        return only_section(args, iterative_bench.BEGIN, iterative_bench.END,
                            iterative_bench.section_head() + (block or "No diffusion or flow model found.") +
                            f"\n{iterative_bench.END}")
    return only_section(args, iterative_bench.BEGIN, iterative_bench.END, iterative_bench.section(
        quick=args.quick, root=args.models, samples_per_row=args.samples, datasets=datasets))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m genexplorer.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small version, well under two minutes")
    parser.add_argument("--out", default=str(ROOT / "BENCHMARKS.md"))
    parser.add_argument("--no-browser", action="store_true", help="skip the real-browser measurements")
    parser.add_argument("--no-quality", action="store_true", help="skip the quality and training measurements")
    parser.add_argument("--only", choices=["quality", "pixelcnn", "ganlab", "zoo", "image-to-image", "diffusion",
                                           "diffusion-browser", "class", "class-memory", "startup"],
                        help="measure only this family and replace its section of --out, keeping the rest")
    parser.add_argument("--classroom", action="store_true",
                        help="only the classroom load (1 to 120 students at once) into its section of --out")
    parser.add_argument("--models", help="with --only diffusion: measure the checkpoints in this folder (a training "
                        "run's output) instead of the shipped ones")
    parser.add_argument("--samples", type=int, help="with --only diffusion: samples a row (and pictures with a hole, "
                        "at most 1,000) instead of 10,000: the GAN's row gets as many")
    parser.add_argument("--dataset", choices=["mnist", "fashion"], help="with --only diffusion: this dataset alone")
    args = parser.parse_args(argv)
    if args.only in ("diffusion", "diffusion-browser"):
        if args.samples is not None and not 100 <= args.samples <= 10_000:
            parser.error("--samples must be from 100 to 10000")
        return diffusion_only(args)
    if args.only == "pixelcnn":
        return only_section(args, PIXELCNN_BEGIN, PIXELCNN_END,
                            pixelcnn_section(quick=args.quick, browser=not args.no_browser))
    if args.only == "quality":
        return only_section(args, QUALITY_BEGIN, QUALITY_END, quality_section(quick=args.quick, alone=True))
    if args.only == "zoo":
        return only_section(args, ZOO_BEGIN, ZOO_END, zoo_section(quick=args.quick))
    if args.only == "image-to-image":
        return only_section(args, IMAGE_TO_IMAGE_BEGIN, IMAGE_TO_IMAGE_END, image_to_image_section(quick=args.quick))
    if args.only in ("class", "class-memory"):   # class mode at scale (devtools/classbench.py)
        from . import classbench

        if args.only == "class":
            return only_section(args, classbench.CLASS_BEGIN, classbench.CLASS_END,
                                classbench.class_section(quick=args.quick, browser=not args.no_browser))
        return only_section(args, classbench.MEMORY_BEGIN, classbench.MEMORY_END,
                            classbench.memory_section(quick=args.quick))
    if args.only == "startup":
        runs = 1 if args.quick else 7
        command = "python -m genexplorer.bench --only startup" + (" --quick" if args.quick else "")
        return only_section(args, STARTUP_BEGIN, STARTUP_END, startup_section(runs, command=command))
    if args.only == "ganlab":
        return only_section(args, GANLAB_BEGIN, GANLAB_END, ganlab_section(quick=args.quick, browser=not args.no_browser))
    if args.classroom:
        return only_section(args, CLASSROOM_BEGIN, CLASSROOM_END, classroom_section(quick=args.quick))
    command = "python -m genexplorer.bench" + " ".join(
        [""] + [flag for flag, on in (("--quick", args.quick), ("--no-browser", args.no_browser),
                                      ("--no-quality", args.no_quality)) if on])
    repeats, startups, steps, calls = (30, 1, 10, 1) if args.quick else (300, 5, 60, 30)
    sections = []
    print("handlers...", flush=True)
    sections.append("## Per model (in-process, one thread)\n\n" + model_table(model_speed(repeats)))
    with running_app() as (url, _process):
        sections.append(f"## {HANDLER_TITLE}\n\n" + table(handler_speed(url, repeats)))
        print("API...", flush=True)
        sections.append("## Through the running app (gradio_client, each client its own session)\n\n"
                        + table(api_speed(url, calls)))
    print("start-up...", flush=True)
    sections.append(startup_section(startups))
    if not args.no_browser:
        print("browser...", flush=True)
        sections.append("## In a real browser (headless Chromium, software rendering)\n\n" + table(browser_speed(steps)))
    if not args.no_quality:
        sections.append(quality_section(quick=args.quick))
        print("pixelcnn...", flush=True)
        sections.append(pixelcnn_section(quick=args.quick, browser=not args.no_browser))
        print("AE zoo...", flush=True)
        sections.append(zoo_section(quick=args.quick))
        print("GAN lab...", flush=True)
        sections.append(ganlab_section(quick=args.quick, browser=not args.no_browser))
        print("image to image...", flush=True)
        sections.append(image_to_image_section(quick=args.quick))
    report = (f"# genexplorer benchmarks\n\nCommand: `{command}`  \nDate: {datetime.date.today()}  \n"
              f"Machine: {machine()}\n\n" + "\n\n".join(sections) + "\n")
    Path(args.out).write_text(report)
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
