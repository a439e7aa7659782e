"""What a person does, in a real browser: Playwright driving Debian's Chromium."""
import os
import shutil
import time

import pytest
from PIL import Image, ImageDraw

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if os.environ.get("CI"):
            raise
        pytest.skip("playwright is not installed (pip install -r requirements-dev.txt)")
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing: .ci/run installs it with apt-get install chromium")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, app_url):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(app_url)
    page.wait_for_selector("#ge-canvas canvas", timeout=30_000)
    yield page
    page.close()


def image_src(page, elem_id):
    img = page.locator(f"#{elem_id} img")
    return img.first.get_attribute("src") if img.count() else None


def wait_for_new_image(page, elem_id, old=None, timeout=15.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        src = image_src(page, elem_id)
        if src and src != old:
            return src
        time.sleep(0.1)
    raise AssertionError(f"#{elem_id} showed no new image within {timeout} s")


def stroke(page, selector, points):
    box = page.locator(selector).bounding_box()
    page.mouse.move(box["x"] + points[0][0], box["y"] + points[0][1])
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(box["x"] + x, box["y"] + y, steps=2)
    page.mouse.up()


def test_draw_a_seven_and_see_it_rebuilt(page):
    """The canvas takes ink the moment the page opens; the reconstructions follow."""
    ids = ("ge-seen", "ge-recon-ae", "ge-recon-vae", "ge-recon-cvae", "ge-recon-dae")
    blank = {elem_id: image_src(page, elem_id) for elem_id in ids}
    stroke(page, "#ge-canvas canvas", [(90, 60), (190, 60), (120, 230)])
    for elem_id in ids:
        wait_for_new_image(page, elem_id, blank[elem_id])
    page.wait_for_function("document.querySelector('#ge-draw-message').innerText.includes('nats')")
    # Undo and clear work like any drawing program's
    page.click("#ge-canvas .ge-clear")
    page.wait_for_function("document.querySelector('#ge-draw-message').innerText.includes('Draw in the black box')")


def test_live_pictures_follow_the_dataset_switch(page):
    """While a stroke goes on, the page asks the live channel for the chosen dataset's models."""
    bodies = []
    page.on("request", lambda r: bodies.append(r.post_data_json) if r.url.endswith("/genexplorer/live/draw") else None)
    page.locator("#ge-dataset label", has_text="Fashion").click()
    page.wait_for_function("document.querySelector('#ge-draw-class input').value === 'most likely'")
    time.sleep(0.5)
    blank = image_src(page, "ge-recon-vae")
    stroke(page, "#ge-canvas canvas", [(60, 140), (220, 140)])
    wait_for_new_image(page, "ge-recon-vae", blank)
    assert bodies and bodies[-1]["dataset"] == "fashion" and bodies[-1]["cvae_class"] == -1
    page.wait_for_function("document.querySelector('#ge-draw-message').innerText.includes('classifier reads your drawing')")


def test_drag_a_latent_slider_and_the_picture_changes(page):
    page.get_by_role("tab", name="Latent sliders").click()
    before = wait_for_new_image(page, "ge-slider-image")
    slider = page.locator("#ge-z0 input[type=range]")
    box = slider.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.95, box["y"] + box["height"] / 2, steps=8)
    # redrawn WHILE dragging (the live channel), before the mouse is released
    during = wait_for_new_image(page, "ge-slider-image", before)
    assert during.startswith("blob:")
    page.mouse.up()
    # and when the mouse stops, the picture is the decoding of the sliders' final values
    # (whichever of the live answer and the release event's landed last)
    time.sleep(2.0)
    values = [float(v) for v in page.eval_on_selector_all("[id^=ge-z] input[type=range]", "els => els.map(e => e.value)")]
    shown = page.evaluate("""() => {
        const img = document.querySelector('#ge-slider-image img');
        const c = document.createElement('canvas');
        c.width = img.naturalWidth; c.height = img.naturalHeight;
        const ctx = c.getContext('2d'); ctx.drawImage(img, 0, 0);
        return Array.from(ctx.getImageData(0, 0, c.width, c.height).data).filter((_, i) => i % 4 === 0);
    }""")
    from genexplorer.ui import sliders
    from genexplorer.ui.common import PIXEL_SCALE

    expected = sliders.slide("mnist-vae", None, [0.0] * 16, *values[:16])
    if len(shown) == 28 * 28:   # the live channel's 28x28 answer landed last (the page scales it up)
        expected = expected[::PIXEL_SCALE, ::PIXEL_SCALE]
    assert values[0] > 1.5 and shown == expected.flatten().tolist()
    # a live 28x28 answer fills the same box as the event's upscaled picture, crisp
    width, rendering = page.evaluate("() => { const img = document.querySelector('#ge-slider-image img'); "
                                     "return [img.getBoundingClientRect().width, img.style.imageRendering]; }")
    assert width > 100 and rendering == "pixelated"


def test_upload_a_photo_denoise_and_inpaint_a_painted_hole(page, tmp_path):
    photo = Image.new("RGB", (800, 600), (228, 224, 215))
    ImageDraw.Draw(photo).line([(280, 120), (520, 120), (360, 500)], fill=(25, 25, 35), width=36)
    photo.save(tmp_path / "digit.jpg")
    page.get_by_role("tab", name="Upload").click()
    page.locator("#ge-upload input[type=file]").set_input_files(str(tmp_path / "digit.jpg"))
    for elem_id in ("ge-upload-seen", "ge-upload-dae", "ge-upload-vae"):
        wait_for_new_image(page, elem_id)
    # paint a mask over the lower half in the editor, then inpaint
    editor = page.locator("#ge-mask-editor")
    brush = editor.locator("button[aria-label='Brush']")
    if brush.count():
        brush.first.click()
    canvas = editor.locator("canvas").first
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.1, box["y"] + box["height"] * 0.75)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.9, box["y"] + box["height"] * 0.75, steps=12)
    page.mouse.up()
    page.click("#ge-inpaint-go")
    for elem_id in ("ge-inpaint-input", "ge-inpaint-context", "ge-inpaint-context-l2", "ge-inpaint-vae",
                    "ge-inpaint-ae", "ge-inpaint-pixelcnn", "ge-inpaint-mean"):
        wait_for_new_image(page, elem_id, timeout=30)
    scores = page.locator("#ge-inpaint-scores").inner_text()
    assert "PSNR on the hidden pixels" in scores and "Context encoder, L2 only" in scores


def test_a_pdf_renamed_png_gets_a_clear_message(page, tmp_path):
    fake = tmp_path / "homework.png"
    fake.write_bytes(b"%PDF-1.4\n" + b"0" * 2000)
    page.get_by_role("tab", name="Upload").click()
    page.locator("#ge-upload input[type=file]").set_input_files(str(fake))
    page.wait_for_selector("text=not a picture", timeout=15_000)
    # and the page keeps working
    page.get_by_role("tab", name="Draw").click()
    stroke(page, "#ge-canvas canvas", [(120, 60), (130, 230)])
    wait_for_new_image(page, "ge-recon-vae")


def test_the_worst_uploads_in_a_real_browser_get_clear_messages(page, tmp_path):
    """From genexplorer.torture's catalogue: a 9000x9000 picture, a truncated PNG, an
    executable renamed .png; then a zip bomb as training data."""
    from genexplorer.devtools import torture

    page.get_by_role("tab", name="Upload").click()
    for name, message in (("huge.png", "megapixels"), ("truncated.png", "damaged"), ("tool.png", "not a picture")):
        clear = page.locator("#ge-upload button[aria-label='Clear']")
        if clear.count():
            clear.first.click()   # the file box holds the last file until cleared
        page.locator("#ge-upload input[type=file]").set_input_files(str(torture.build_file(tmp_path, name)))
        page.wait_for_selector(f"text={message}", timeout=20_000)
    page.get_by_role("tab", name="Train").click()
    page.locator("#ge-train-dataset input").click()
    page.get_by_role("option", name="my .zip").click()
    page.locator("#ge-train-zip input[type=file]").set_input_files(str(torture.build_file(tmp_path, "bomb.zip")))
    page.wait_for_selector("#ge-train-zip a, #ge-train-zip .file-preview", timeout=20_000)
    page.fill("#ge-train-name input, #ge-train-name textarea", "mnist-bombed")
    page.click("#ge-train-start")
    page.wait_for_selector("text=/would unpack to .* MB; the limit is/", timeout=20_000)
    # and the page keeps working
    page.get_by_role("tab", name="Draw").click()
    stroke(page, "#ge-canvas canvas", [(120, 60), (130, 230)])
    wait_for_new_image(page, "ge-recon-vae")


def test_start_a_tiny_run_watch_it_and_cancel_it(page):
    page.get_by_role("tab", name="Train").click()
    page.fill("#ge-train-name input, #ge-train-name textarea", "mnist-browserrun")
    page.fill("#ge-train-epochs input", "50")
    page.click("#ge-train-start")
    page.wait_for_selector("#ge-train-progress[data-state='running']", timeout=30_000)
    # the bar moves and the loss curve appears
    page.wait_for_function(
        "Number(document.querySelector('#ge-train-progress')?.dataset.fraction || 0) > 0", timeout=90_000)
    page.wait_for_selector("#ge-train-curves .js-plotly-plot", timeout=30_000)
    page.click("#ge-train-cancel")
    page.wait_for_selector("#ge-train-progress[data-state='cancelled']", timeout=30_000)


def test_click_a_point_on_the_latent_map_and_it_is_decoded(page):
    page.get_by_role("tab", name="Latent map").click()
    page.wait_for_selector("#ge-map-vae2d .js-plotly-plot", timeout=30_000)
    time.sleep(1.0)  # the click bridge hooks new plots every 0.5 s
    box = page.locator("#ge-map-vae2d .nsewdrag").first.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)
    page.wait_for_function("document.querySelector('#ge-map-info').innerText.includes('decoded at z')", timeout=15_000)
    wait_for_new_image(page, "ge-map-decoded")


def test_learn_tab_renders_the_formulas_offline(page):
    page.get_by_role("tab", name="Learn").click()
    page.wait_for_selector("#ge-learn .katex", timeout=15_000)
    assert page.locator("#ge-learn .katex").count() > 10


def test_watch_a_pixelcnn_sample_fill_in_row_by_row(page):
    page.get_by_role("tab", name="Generate").click()
    page.locator("#ge-gen-pixelcnn-pace").get_by_text("row by row").click()
    page.click("#ge-gen-pixelcnn-go")
    seen = []
    deadline = time.time() + 60
    while time.time() < deadline:
        position = page.locator("#ge-gen-pixelcnn-status").get_attribute("data-position")
        if position is not None and (not seen or int(position) != seen[-1]):
            seen.append(int(position))
        if seen and seen[-1] == 784:
            break
        time.sleep(0.02)
    # the picture filled in while we watched: many frames, in raster order, to the last pixel
    assert len(seen) >= 10 and seen == sorted(seen) and seen[-1] == 784, seen
    page.wait_for_function("document.querySelector('#ge-gen-pixelcnn-message').innerText.includes('784 passes')",
                           timeout=30_000)


def test_complete_the_bottom_half_of_a_test_digit(page):
    page.get_by_role("tab", name="Complete").click()
    time.sleep(1.0)
    page.click("#ge-complete-go")
    page.wait_for_function("document.querySelector('#ge-complete-message').innerText.includes('completions in')",
                           timeout=60_000)
    assert page.locator("#ge-complete-message table tr").count() >= 6   # header, original, 4 completions, VAE
    assert image_src(page, "ge-complete-vae")


def lab_step(page) -> int:
    return int(page.locator(".ge-lab-status").get_attribute("data-step") or -1)


def test_gan_lab_plays_steps_pauses_and_trains_on_painted_points(page):
    page.get_by_role("tab", name="Toy lab").click()
    page.wait_for_function("() => document.querySelector('.ge-lab-status').dataset.step === '0'", timeout=20_000)
    page.locator(".ge-lab-gstep").click()                     # one generator step
    page.wait_for_function("() => document.querySelector('.ge-lab-status').dataset.step === '1'", timeout=10_000)
    page.locator(".ge-lab-dstep").click()                     # one discriminator step: the G step count stays
    time.sleep(0.5)
    assert lab_step(page) == 1
    frames, start_w1 = page.evaluate("[window.geLab.frames, window.geLab.frame.w1]")
    page.locator(".ge-lab-play").click()
    time.sleep(3)
    played = page.evaluate("window.geLab.frames")
    assert played - frames >= 15, f"only {played - frames} frames in 3 s"   # the lecture figure, live (>= 5 a second here)
    # the generator moves onto the data: by steps, not seconds (a loaded machine trains fewer steps in 3 s; a
    # full run beside two trainings failed here: W1 2.19 -> 1.28 after 3 s)
    try:
        page.wait_for_function("(start) => window.geLab.frame.w1 < 0.5 * start", arg=start_w1, timeout=30_000)
    except Exception:   # noqa: BLE001 - say what it reached
        raise AssertionError(f"W1 {start_w1} -> {page.evaluate('window.geLab.frame.w1')} after 30 s of play: the "
                             "generator should move onto the data") from None
    page.locator(".ge-lab-play").click()                      # pause: the step count stops moving
    time.sleep(0.5)
    paused = lab_step(page)
    time.sleep(1)
    assert lab_step(page) == paused > 1
    assert "W1" in page.locator(".ge-lab-status").text_content()
    # Your own data: paint a stroke on the plane, Reset, and the toy trains on it.
    page.locator("#ge-lab-data label", has_text="your own").click()
    expect_message(page, "#ge-lab-message", "Paint some points")
    stroke(page, "canvas.ge-lab-main", [(80 + 10 * i, 200 - 5 * i) for i in range(20)])
    page.locator("#ge-lab-reset").click()
    page.wait_for_function("() => document.querySelector('.ge-lab-status').dataset.step === '0'", timeout=20_000)
    page.locator(".ge-lab-play").click()
    time.sleep(1.5)
    assert lab_step(page) > 5
    assert page.evaluate("window.geLab.frame.data") == "drawn_2d"
    assert len(page.evaluate("window.geLab.points")) >= 15


def expect_message(page, selector, text, timeout=15.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if text in page.locator(selector).text_content():
            return
        time.sleep(0.1)
    raise AssertionError(f"{selector} never said {text!r}: {page.locator(selector).text_content()!r}")


def test_draw_an_outline_and_pix2pix_paints_a_picture_as_you_draw(page):
    page.get_by_role("tab", name="Sketch").click()
    page.wait_for_selector("#ge-sketch-canvas canvas", timeout=10_000)
    before = {elem_id: image_src(page, elem_id) for elem_id in ("ge-sketch-seen", "ge-sketch-pix2pix", "ge-sketch-pix2pix-l1")}
    # an upright shape, like a digit 0 or a bag: four thin strokes
    stroke(page, "#ge-sketch-canvas canvas", [(90, 60), (190, 60), (190, 220), (90, 220), (90, 60)])
    for elem_id, old in before.items():
        wait_for_new_image(page, elem_id, old, timeout=20)
    expect_message(page, "#ge-sketch-message", "the classifier reads")
    page.click("#ge-sketch-item-go")
    wait_for_new_image(page, "ge-sketch-truth", timeout=20)
