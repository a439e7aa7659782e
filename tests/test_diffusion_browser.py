"""The Diffusion tab as a person uses it, in Chromium: slide t, watch a sample form, move the guidance."""
import statistics
import time

from test_browser import browser, image_src, wait_for_new_image  # noqa: F401 - the fixture and helpers
from test_diffusion_tab import walkers  # noqa: F401 - tiny diffusion and flow checkpoints in the app

# Records when t moves and when the flow's noisy picture is repainted, to measure the slider's latency.
LATENCY_JS = """() => {
  window.geT = { inputs: [], paints: [] };
  document.addEventListener('input', (e) => {
    if (e.target.closest && e.target.closest('#ge-diff-t')) window.geT.inputs.push(performance.now());
  }, true);
  new MutationObserver(() => window.geT.paints.push(performance.now()))
    .observe(document.querySelector('#ge-diff-noisy-b img'), { attributes: true, attributeFilter: ['src'] });
}"""


def open_tab(browser, url):  # noqa: F811 - the fixture imported above
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(url)
    page.wait_for_selector("#ge-canvas canvas", timeout=30_000)
    page.get_by_role("tab", name="Diffusion").click()
    page.wait_for_function("document.querySelector('#ge-diff-snr').innerText.includes('t = 0.50')", timeout=30_000)
    page.wait_for_function("document.querySelector('#ge-diff-model-b input').value === 'mnist-flow'", timeout=30_000)
    return page


def drag(page, selector, start, end, steps=8):
    box = page.locator(selector).bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * start, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * end, y, steps=steps)
    return y


def test_slide_t_and_the_pictures_follow_live(browser, walkers):  # noqa: F811
    page = open_tab(browser, walkers)
    before = image_src(page, "ge-diff-noisy-b")
    page.evaluate(LATENCY_JS)
    y = drag(page, "#ge-diff-t input[type=range]", 0.5, 0.9)
    during = wait_for_new_image(page, "ge-diff-noisy-b", before)       # repainted WHILE dragging
    assert during.startswith("data:image/png")
    box = page.locator("#ge-diff-t input[type=range]").bounding_box()
    page.mouse.up()
    # when the mouse stops, the numbers are the final t's (whichever of the live answer and the event lands last)
    shown = float(page.locator("#ge-diff-t input[type=number]").input_value())
    assert shown > 0.75
    page.wait_for_function(f"document.querySelector('#ge-diff-snr').innerText.includes('t = {shown:.2f}')",
                           timeout=15_000)
    time.sleep(1.0)
    assert f"t = {shown:.2f}" in page.locator("#ge-diff-snr").inner_text()
    # one keyboard step at a time: each repainted through the live channel
    page.locator("#ge-diff-t input[type=range]").focus()
    latencies = []
    for _ in range(8):
        count = page.evaluate("window.geT.paints.length")
        page.keyboard.press("ArrowLeft")
        page.wait_for_function(f"window.geT.paints.length > {count}", timeout=10_000)
        latencies.append(page.evaluate("window.geT.paints.at(-1) - window.geT.inputs.at(-1)"))
        time.sleep(0.15)
    print(f"t slider -> picture painted: median {statistics.median(latencies):.0f} ms, max {max(latencies):.0f} ms")
    assert statistics.median(latencies) < 1000 and y and box
    page.close()


def test_watch_a_sample_form_then_move_the_guidance(browser, walkers):  # noqa: F811
    page = open_tab(browser, walkers)
    page.locator("#ge-diff-steps-a input[type=number]").fill("200")
    page.locator("#ge-diff-steps-a input[type=number]").press("Enter")
    page.click("#ge-diff-go")
    page.wait_for_function("window.geDiffFrames && window.geDiffFrames.length >= 3", timeout=60_000)
    first = image_src(page, "ge-diff-xt-a")
    wait_for_new_image(page, "ge-diff-xt-a", first, timeout=20)          # the frames change as it walks
    page.wait_for_function("document.querySelector('#ge-diff-strip img')", timeout=120_000)
    frames = page.evaluate("window.geDiffFrames")
    fps = (len(frames) - 1) / ((frames[-1] - frames[0]) / 1000)
    print(f"reverse process: {len(frames)} frames, {fps:.1f} frames a second")
    assert len(frames) >= 10 and fps > 3
    assert "step 200 of 200" in page.locator("#ge-diff-status-a").inner_text()
    assert "network passes per picture" in page.locator("#ge-diff-walk-message").inner_text()
    # the guidance grid, then w moved: a new grid and a new reading
    page.click("#ge-diff-grid-go")
    page.wait_for_function("document.querySelector('#ge-diff-grid img')", timeout=120_000)
    grid = image_src(page, "ge-diff-grid")
    assert "all rows" in page.locator("#ge-diff-grid-read").inner_text()
    drag(page, "#ge-diff-w input[type=range]", 0.0, 0.6)
    page.mouse.up()
    wait_for_new_image(page, "ge-diff-grid", grid, timeout=120)
    page.wait_for_function("!document.querySelector('#ge-diff-grid-read').innerText.includes('w = 0,')", timeout=30_000)
    assert float(page.locator("#ge-diff-w input[type=number]").input_value()) > 3
    page.close()


def test_a_dataset_without_walkers_says_so_and_still_noises(browser, walkers):  # noqa: F811
    """The test app has diffusion and flow checkpoints for the digits only (until Fashion's are shipped)."""
    page = open_tab(browser, walkers)
    digit = image_src(page, "ge-diff-clean")
    page.locator("#ge-dataset label", has_text="Fashion").click()
    wait_for_new_image(page, "ge-diff-clean", digit)
    page.wait_for_function("document.querySelector('#ge-diff-model-a input').value !== 'mnist-diffusion'", timeout=20_000)
    if not page.locator("#ge-diff-model-a input").input_value():      # no Fashion diffusion checkpoint here
        assert "train one on the Train tab" in page.locator("#ge-diff-note").inner_text()
        page.wait_for_function("document.querySelector('#ge-diff-snr').innerText.includes('the default path')",
                               timeout=20_000)
    page.close()
