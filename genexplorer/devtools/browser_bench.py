"""The benchmark in a real browser (Playwright driving Debian's Chromium): a slider's and a stroke's input to the new
picture painted, the PixelCNN's and the diffusion walk's frames, the GAN lab's frame rate, and several pages at once."""
from __future__ import annotations

import contextlib
import statistics
import time

from .measuring import CHROMIUM_ARGS, running_app, summary


WAIT_FOR_NEW_IMAGE = """new Promise((resolve) => {
    const check = () => {
      const i = img();
      if (i && i.src !== before && i.complete && i.naturalWidth) resolve(performance.now() - t0);
      else if (performance.now() - t0 > 5000) resolve(-1);
      else requestAnimationFrame(check);
    };
    check();
  })"""


SLIDER_JS = """
async ([value]) => {
  const img = () => document.querySelector('#ge-slider-image img');
  const before = img() ? img().src : null;
  const input = document.querySelector('#ge-z0 input[type=range]');
  const t0 = performance.now();
  Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set.call(input, String(value));
  input.dispatchEvent(new Event('input', { bubbles: true }));
  return await WAIT_FOR_NEW_IMAGE;
}
"""


STROKE_JS = """
async ([x0, y0, dx = 8]) => {
  const canvas = document.querySelector('#ge-canvas canvas');
  const img = () => document.querySelector('#ge-recon-vae img');
  const before = img() ? img().src : null;
  const r = canvas.getBoundingClientRect();
  const ev = (type, x, y) => canvas.dispatchEvent(new PointerEvent(type,
      { clientX: r.left + x, clientY: r.top + y, pointerId: 1, bubbles: true, isPrimary: true }));
  ev('pointerdown', x0, y0);
  for (let i = 1; i <= 6; i++) ev('pointermove', x0 + dx * i, y0 + 20 * i);
  const t0 = performance.now();
  ev('pointerup', x0 + 6 * dx, y0 + 120);
  return await WAIT_FOR_NEW_IMAGE;
}
"""


@contextlib.contextmanager
def app_in_chromium():
    """`python app.py` on a free port and a headless Chromium page on it, loaded (the Draw canvas is up):
    yields (browser, page, port); everything is stopped afterwards."""
    from playwright.sync_api import sync_playwright

    with running_app() as (url, _process), sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url)
        page.wait_for_selector("#ge-canvas canvas", timeout=60_000)
        yield browser, page, int(url.rsplit(":", 1)[1])
        browser.close()


def browser_speed(steps: int) -> list[tuple[str, dict]]:
    """Input in a real browser (Playwright + Debian's Chromium) to the new picture painted."""
    rows = []
    with app_in_chromium() as (browser, page, port):
        stroke_js = STROKE_JS.replace("WAIT_FOR_NEW_IMAGE", WAIT_FOR_NEW_IMAGE)
        slider_js = SLIDER_JS.replace("WAIT_FOR_NEW_IMAGE", WAIT_FOR_NEW_IMAGE)
        failures = 0
        # Back to back: each stroke starts the moment the last one's picture is painted, while
        # the page still handles that stroke's Gradio event. Paced: 0.3 s between strokes, as a
        # person lifting the pen and putting it down again.
        for label, pause in (("back to back", 0.0), ("0.3 s apart", 0.3)):
            strokes = []
            for i in range(steps + 3):
                if i % 4 == 0:
                    page.click("#ge-canvas .ge-clear")
                    page.wait_for_function(
                        "document.querySelector('#ge-draw-message').innerText.includes('Draw in the black box')",
                        timeout=10_000)
                time.sleep(pause)
                strokes.append(page.evaluate(stroke_js, [40 + 40 * (i % 4), 40 + (i % 3) * 10]))
            rows.append((f"stroke (pointer-up) -> VAE reconstruction painted, strokes {label}",
                         summary([s for s in strokes[3:] if s >= 0])))
            failures += sum(1 for s in strokes if s < 0)
        page.get_by_role("tab", name="Latent sliders").click()
        page.wait_for_selector("#ge-slider-image img", timeout=30_000)
        samples = []
        for i in range(steps + 3):
            samples.append(page.evaluate(slider_js, [round(-2.5 + 5 * ((i * 0.37) % 1), 2)]))
        rows.append(("slider input -> decoded picture painted", summary([s for s in samples[3:] if s >= 0])))
        failures += sum(1 for s in samples if s < 0)
        rows.append(concurrent_pages(browser, port))
        if failures:
            rows.append((f"(updates not seen within 5 s: {failures})", {"n": failures, "median": float("nan"), "p95": float("nan")}))
    return rows


PIXELCNN_JS = """
async (pace) => {
  const img = () => document.querySelector('#ge-gen-pixelcnn img');
  const status = document.querySelector('#ge-gen-pixelcnn-status');
  status.dataset.position = '';
  let last = img() ? img().src : null;
  const frames = [];
  const start = performance.now();
  document.querySelector('#ge-gen-pixelcnn-go').click();
  return await new Promise((resolve) => {
    const tick = () => {
      const now = img() ? img().src : null;
      if (now && now !== last && now.startsWith('data:')) { frames.push(performance.now() - start); last = now; }
      if (status.dataset.position === '784' || performance.now() - start > 120000) resolve(frames);
      else setTimeout(tick, 2);
    };
    tick();
  });
}
"""


def frame_rate_rows(what: str, last: str, runs: list[tuple[list[float], float]]) -> list[tuple[str, dict]]:
    """Two rows from animation runs, each (the times its frames were painted, the click's time), in ms: frames
    painted per second (first to last frame; worst run: the fewest) and the click to the last frame (worst run:
    the slowest). Runs with under two frames say nothing of a rate; the first of the rest warmed the model up."""
    kept = [(frames, clicked) for frames, clicked in runs if len(frames) >= 2][1:]
    fps = [(len(frames) - 1) / ((frames[-1] - frames[0]) / 1000) for frames, _ in kept]
    totals = [frames[-1] - clicked for frames, clicked in kept]
    frames_seen = statistics.median(len(frames) for frames, _ in kept)
    return [(f"{what}: frames painted per second ({frames_seen:.0f} frames a run; worst run: the fewest per second)",
             {"n": len(fps), "median": statistics.median(fps), "p95": min(fps)}),
            (f"{what}: click -> {last} painted (ms; worst run: the slowest)",
             {"n": len(totals), "median": statistics.median(totals), "p95": max(totals)})]


def pixelcnn_browser_speed(runs: int) -> list[tuple[str, dict]]:
    """The Generate tab's PixelCNN animation in Chromium: 16 samples drawn live, frames painted per second
    (between the first and the last frame) and the click to the last pixel painted."""
    measured = []
    with app_in_chromium() as (_, page, _port):
        page.get_by_role("tab", name="Generate").click()
        page.wait_for_selector("#ge-gen-pixelcnn-go", timeout=30_000)
        for _ in range(runs + 1):
            frames = page.evaluate(PIXELCNN_JS)     # frame times from the click
            page.wait_for_function("document.querySelector('#ge-gen-pixelcnn-message').innerText.includes('784 passes')",
                                   timeout=60_000)
            measured.append((frames, 0.0))
    return frame_rate_rows("PixelCNN, 16 samples drawn live", "last pixel", measured)


WALK_DONE_JS = """(previous) => {
  const box = document.querySelector('#ge-diff-done textarea, #ge-diff-done input');
  return box && box.value && box.value !== previous;
}"""


def walk_browser_speed(runs: int, dataset: str = "mnist") -> list[tuple[str, dict]]:
    """The Diffusion tab's walk back from noise in Chromium, both shipped walkers side by side at the tab's default
    steps (4 pictures each): frames painted per second (first to last frame) and the click to the last frame."""
    from .screenshots import open_tab

    measured = []
    with app_in_chromium() as (_, page, _port):
        if dataset != "mnist":
            page.locator("#ge-dataset label", has_text="Fashion").click()
        open_tab(page, "Diffusion")
        page.wait_for_selector("#ge-diff-go", timeout=30_000)
        done = ""
        for _ in range(runs + 1):
            clicked = page.evaluate("performance.now()")
            page.click("#ge-diff-go")
            page.wait_for_function(WALK_DONE_JS, arg=done, timeout=120_000)
            done = page.evaluate("document.querySelector('#ge-diff-done textarea, #ge-diff-done input').value")
            measured.append((page.evaluate("window.geDiffFrames"), clicked))
    return frame_rate_rows(f"{dataset}: the walk from noise, both walkers at the tab's default steps, 4 pictures each",
                           "last frame", measured)


def play_lesson(page, lesson: str) -> None:
    """Pick a toy lab lesson, wait for its fresh start and press Play."""
    page.locator("#ge-lab-lesson input").click()
    page.get_by_role("option", name=lesson).click()
    page.wait_for_function("() => window.geLab && window.geLab.frame && window.geLab.frame.step === 0", timeout=30_000)
    page.locator(".ge-lab-play").click()


def ganlab_browser_speed(seconds: float, lessons=("a Gaussian, non-saturating loss", "a ring of 8: mode collapse?",
                                                   "two moons, WGAN-GP")) -> list[tuple[str, dict]]:
    """The GAN lab playing in Chromium: frames painted per second over ``seconds`` of play, per lesson
    (each second of play counted as one run), and the generator steps those frames trained."""
    rows = []
    with app_in_chromium() as (_, page, _port):
        page.get_by_role("tab", name="Toy lab").click()
        for lesson in lessons:
            play_lesson(page, lesson)
            per_second, steps = [], []
            for _ in range(int(seconds)):
                frames, step = page.evaluate("[window.geLab.frames, window.geLab.frame.step]")
                time.sleep(1.0)
                frames2, step2 = page.evaluate("[window.geLab.frames, window.geLab.frame.step]")
                per_second.append(frames2 - frames)
                steps.append(step2 - step)
            page.locator(".ge-lab-play").click()
            rows.append((f"GAN lab, '{lesson}' playing at speed 5: frames painted per second (worst: the slowest "
                         f"second; {statistics.median(steps):.0f} generator steps a second)",
                         {"n": len(per_second), "median": statistics.median(per_second), "p95": min(per_second)}))
    return rows


def toy_walkers_browser_speed(seconds: float, lessons: tuple[str, ...]) -> list[tuple[str, dict]]:
    """The toy lab playing in Chromium with its three learners side by side: frames the diffusion and the flow
    panels painted per second over ``seconds`` of play (each second one run), per lesson."""
    from .screenshots import open_tab

    rows = []
    with app_in_chromium() as (_, page, _port):
        open_tab(page, "Toy lab")
        for lesson in lessons:
            play_lesson(page, lesson)
            per_second = {"diffusion": [], "flow": []}
            for _ in range(int(seconds)):
                before = page.evaluate("({...window.geLab.painted})")
                time.sleep(1.0)
                after = page.evaluate("({...window.geLab.painted})")
                for kind, counts in per_second.items():
                    counts.append(after[kind] - before[kind])
            page.locator(".ge-lab-play").click()
            rows += [(f"toy lab, '{lesson}' playing (GAN, diffusion and flow training): the {kind} panel's frames "
                      "painted per second (worst: the slowest second)",
                      {"n": len(counts), "median": statistics.median(counts), "p95": min(counts)})
                     for kind, counts in per_second.items()]
    return rows


def concurrent_pages(browser, port: int, sessions: int = 10) -> tuple[str, dict]:
    """Ten browser sessions at once, each drawing its own stroke: each must get back its own
    reconstruction. Returns the time from the strokes to the last session served."""
    contexts = [browser.new_context(viewport={"width": 1200, "height": 900}) for _ in range(sessions)]
    try:
        pages = [context.new_page() for context in contexts]
        for page in pages:
            page.goto(f"http://127.0.0.1:{port}")
        for page in pages:
            page.wait_for_selector("#ge-canvas canvas", timeout=60_000)
        start = time.perf_counter()
        for index, page in enumerate(pages):
            # a stroke at a different slant in each session, so each result is different
            page.evaluate(STROKE_JS.replace("WAIT_FOR_NEW_IMAGE", "Promise.resolve(0)"), [60, 40, 3 * index - 12])
        seen = []
        for page in pages:
            page.wait_for_function("document.querySelector('#ge-draw-message').innerText.includes('nats')", timeout=60_000)
            seen.append(page.locator("#ge-seen img").get_attribute("src"))
        elapsed = (time.perf_counter() - start) * 1000
        own = len(set(seen)) == sessions
        label = f"{sessions} sessions at once: all served{' each with its own result' if own else ' BUT RESULTS MIXED UP'}"
        return label, {"n": sessions, "median": elapsed, "p95": elapsed}
    finally:
        for context in contexts:
            context.close()
