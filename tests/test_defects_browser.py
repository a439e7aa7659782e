"""Issue 24's defects as a person meets them in Chromium: every output follows its inputs (dataset, upload, removed
file), no hang in the mask editor, the picked example lands on the canvas, one clear message per failed action, and
an honest Train tab. Each test failed on the code before its fix. The machine may be loaded: wait for states."""
import time

import numpy as np
from PIL import Image, ImageDraw
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from test_browser import browser, image_src, page, stroke, wait_for_new_image  # noqa: F401 - fixtures and helpers

# Gradio's red "Error" badge over an output whose event failed; visible ones only.
BADGES_JS = """() => [...document.querySelectorAll('[data-testid=status-tracker] .error')]
    .filter(e => e.offsetParent !== null).length"""


def text_of(page, selector):
    return page.locator(selector).inner_text()


def wait_text(page, selector, text, timeout=30_000, present=True):
    """Wait until the element's text does (or, present=False, does not) include ``text``."""
    test = "" if present else "!"
    page.wait_for_function(f"(() => {{ const e = document.querySelector({selector!r}); "
                           f"return e && {test}e.innerText.includes({text!r}); }})()", timeout=timeout)


def switch_dataset(page, label):
    page.locator("#ge-dataset label", has_text=label).click()


def photo(path, points, ink=(25, 25, 35)):
    picture = Image.new("RGB", (600, 600), (228, 224, 215))
    ImageDraw.Draw(picture).line(points, fill=ink, width=40)
    picture.save(path)
    return str(path)


def upload(page, path):
    page.locator("#ge-upload input[type=file]").set_input_files(path)


def uploaded(page):
    """Wait for the upload's answer (the models load on first use: slow on a busy machine)."""
    wait_text(page, "#ge-upload-message", "Cleaned by each model", timeout=90_000)


def remove_upload(page):
    page.locator("#ge-upload button[aria-label='Clear']").first.click()


# ------------------------------------------------------------------ 1. stale pictures


def test_a_dataset_switch_clears_the_pixelcnn_drawing_and_the_sketch_item(page):  # noqa: F811
    page.get_by_role("tab", name="Generate").click()
    page.fill("#ge-gen-pixelcnn-count input[type=number]", "1")
    page.press("#ge-gen-pixelcnn-count input[type=number]", "Enter")
    page.locator("#ge-gen-pixelcnn-pace label", has_text="live").click()
    page.click("#ge-gen-pixelcnn-go")
    wait_text(page, "#ge-gen-pixelcnn-message", "s of computing", timeout=180_000)
    digits = image_src(page, "ge-gen-pixelcnn")
    assert digits
    page.get_by_role("tab", name="Sketch").click()
    page.click("#ge-sketch-item-go")
    wait_text(page, "#ge-sketch-message", "the classifier reads", timeout=60_000)
    assert image_src(page, "ge-sketch-truth")
    switch_dataset(page, "Fashion")
    page.wait_for_function("document.querySelector('#ge-sketch-class input').value === 'T-shirt/top'", timeout=30_000)
    # the digit test item and what the classifier read in it are gone
    page.wait_for_function("!document.querySelector('#ge-sketch-truth img')", timeout=30_000)
    wait_text(page, "#ge-sketch-message", "the classifier reads", present=False)
    page.get_by_role("tab", name="Generate").click()
    page.wait_for_function("!document.querySelector('#ge-gen-pixelcnn img')", timeout=30_000)
    wait_text(page, "#ge-gen-pixelcnn-message", "s of computing", present=False)
    time.sleep(1.0)
    assert image_src(page, "ge-gen-pixelcnn") is None


def test_a_dataset_switch_redraws_the_zoo_the_interpolation_and_the_gan_tour(page):  # noqa: F811
    """Their pickers keep their values across a switch (class 3, endpoints 1 and 7): no change event redraws them."""
    page.get_by_role("tab", name="AE zoo").click()
    zoo = wait_for_new_image(page, "ge-zoo-0-input", timeout=90)
    page.get_by_role("tab", name="Interpolate").click()
    strip = wait_for_new_image(page, "ge-interp-strip", timeout=90)
    tour = wait_for_new_image(page, "ge-tour", timeout=90)
    switch_dataset(page, "Fashion")
    wait_for_new_image(page, "ge-interp-strip", strip, timeout=90)
    wait_for_new_image(page, "ge-tour", tour, timeout=90)
    page.get_by_role("tab", name="AE zoo").click()
    wait_for_new_image(page, "ge-zoo-0-input", zoo, timeout=90)


def test_a_new_upload_or_a_removed_file_clears_the_last_pictures_inpainting(page, tmp_path):  # noqa: F811
    page.get_by_role("tab", name="Upload").click()
    upload(page, photo(tmp_path / "seven.png", [(150, 120), (450, 120), (250, 500)]))
    uploaded(page)
    page.locator("#ge-mask-choice label", has_text="centre").click()
    page.click("#ge-inpaint-go")
    wait_text(page, "#ge-inpaint-scores", "PSNR on the hidden pixels", timeout=120_000)
    assert image_src(page, "ge-inpaint-vae")
    remove_upload(page)
    # the file is gone: so is everything made from it
    page.wait_for_function("!document.querySelector('#ge-inpaint-vae img')", timeout=30_000)
    for elem_id in ("ge-upload-seen", "ge-upload-dae", "ge-upload-vae", "ge-inpaint-input", "ge-inpaint-mean"):
        assert image_src(page, elem_id) is None, elem_id
    assert "PSNR" not in text_of(page, "#ge-inpaint-scores")
    # again, and this time a new picture replaces the old one
    upload(page, photo(tmp_path / "seven.png", [(150, 120), (450, 120), (250, 500)]))
    uploaded(page)
    page.click("#ge-inpaint-go")
    wait_text(page, "#ge-inpaint-scores", "PSNR on the hidden pixels", timeout=120_000)
    seen = image_src(page, "ge-upload-seen")
    remove_upload(page)
    page.wait_for_function("!document.querySelector('#ge-upload-seen img')", timeout=30_000)
    upload(page, photo(tmp_path / "one.png", [(300, 80), (300, 520)]))
    wait_for_new_image(page, "ge-upload-seen", seen, timeout=60)
    page.wait_for_function("!document.querySelector('#ge-inpaint-vae img')", timeout=30_000)
    assert "PSNR" not in text_of(page, "#ge-inpaint-scores")


# ------------------------------------------------------------------ 2. the hang


def test_paint_remove_the_file_and_upload_another_the_editor_shows_it(page, tmp_path):  # noqa: F811
    page.get_by_role("tab", name="Upload").click()
    upload(page, photo(tmp_path / "seven.png", [(150, 120), (450, 120), (250, 500)]))
    uploaded(page)
    editor = page.locator("#ge-mask-editor")
    brush = editor.locator("button[aria-label='Brush']")
    if brush.count():
        brush.first.click()
    box = editor.locator("canvas").first.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.2, box["y"] + box["height"] * 0.7)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.8, box["y"] + box["height"] * 0.7, steps=10)
    page.mouse.up()
    time.sleep(1.0)
    seen = image_src(page, "ge-upload-seen")
    remove_upload(page)
    time.sleep(2.0)
    upload(page, photo(tmp_path / "one.png", [(300, 80), (300, 520)]))
    wait_for_new_image(page, "ge-upload-seen", seen, timeout=90)
    # the editor is not left waiting ("queue: 1/1 | 10.5s", then "processing | 35.8s" and on for minutes, blank,
    # until Inpaint was pressed; its wait began a few seconds after the new picture): it settles and shows the picture
    # (within 3 minutes: on a loaded machine, another file's tests beside it in a second worker, the queue ahead
    # of it can take a while; the hang never ended by itself)
    time.sleep(12.0)
    page.wait_for_function("""() => {
        const tracker = document.querySelector('#ge-mask-editor [data-testid=status-tracker]');
        return !tracker || !/queue|processing|\\d+(\\.\\d)?s/.test(tracker.innerText);
    }""", timeout=180_000)
    page.screenshot(path="/tmp/genexplorer-defects-editor.png")


# ------------------------------------------------------------------ 3. the picked example on the canvas

CANVAS_GREY_JS = """() => {
    const c = document.querySelector('#ge-canvas canvas');
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    return Array.from(d).filter((_, i) => i % 4 === 0);
}"""


def test_a_picked_example_lands_on_the_canvas(page):  # noqa: F811
    from genexplorer import explore

    stroke(page, "#ge-canvas canvas", [(90, 60), (190, 60), (120, 230)])         # a 7
    wait_text(page, "#ge-draw-message", "classifier reads your drawing", timeout=90_000)   # 30 s ran out under -n 2
    index = 4                                                                    # the first "2"
    example = explore.examples("mnist", per_class=2)[index][0].astype(float)
    page.locator("#ge-examples img").nth(index).click()
    deadline = time.time() + 30
    while True:
        grey = np.array(page.evaluate(CANVAS_GREY_JS), float).reshape(280, 280)
        # the canvas, 8x8 blocks of its middle 224 px -> 28x28, against the example
        shown = grey[28:252, 28:252].reshape(28, 8, 28, 8).mean(axis=(1, 3))
        match = np.corrcoef(shown.ravel(), example.ravel())[0, 1]
        if match > 0.9 or time.time() > deadline:
            break
        time.sleep(0.3)
    assert match > 0.9, f"the canvas does not show the example (correlation {match:.2f})"
    assert grey[60, 100:180].max() < 128 or example[4, 9:19].max() > 100      # the 7's bar is gone
    # the next stroke goes on the example: the pictures follow the example plus the stroke
    before = image_src(page, "ge-seen")
    stroke(page, "#ge-canvas canvas", [(40, 250), (240, 250)])
    wait_for_new_image(page, "ge-seen", before, timeout=30)
    grey = np.array(page.evaluate(CANVAS_GREY_JS), float).reshape(280, 280)
    shown = grey[28:252, 28:252].reshape(28, 8, 28, 8).mean(axis=(1, 3))
    assert np.corrcoef(shown[:26].ravel(), example[:26].ravel())[0, 1] > 0.8


# ------------------------------------------------------------------ 4. one clear message per failed action


def test_a_failed_upload_says_so_once_beside_the_file(page, tmp_path):  # noqa: F811
    fake = tmp_path / "homework.png"
    fake.write_bytes(b"%PDF-1.4\n" + b"0" * 2000)
    page.get_by_role("tab", name="Upload").click()
    upload(page, str(fake))
    wait_text(page, "#ge-upload-message", "not a picture")
    time.sleep(1.5)
    assert page.evaluate(BADGES_JS) == 0
    assert page.locator(".toast-body").count() == 0
    # a file over the size cap: the same place says so, with the cap
    remove_upload(page)
    big = tmp_path / "scan.png"
    big.write_bytes(b"\x89PNG\r\n\x1a\n" + np.random.default_rng(0).bytes(21 * 1024 * 1024))
    upload(page, str(big))
    wait_text(page, "#ge-upload-message", "20 MB")
    time.sleep(1.5)
    assert page.evaluate(BADGES_JS) == 0


def test_a_file_over_the_cap_says_so_beside_the_noise_tabs_file_box(page, tmp_path):  # noqa: F811
    """The Noise tab's file box has the Upload tab's size guard: the message, no toast, no badge."""
    page.get_by_role("tab", name="Noise").click()
    page.wait_for_selector("#ge-noise-upload input[type=file]", state="attached", timeout=30_000)
    big = tmp_path / "scan.png"
    big.write_bytes(b"\x89PNG\r\n\x1a\n" + np.random.default_rng(0).bytes(21 * 1024 * 1024))
    page.locator("#ge-noise-upload input[type=file]").set_input_files(str(big))
    wait_text(page, "#ge-noise-note", "the limit is 20 MB")
    time.sleep(1.5)
    assert page.evaluate(BADGES_JS) == 0
    assert page.locator(".toast-body").count() == 0


def test_impossible_slider_starts_are_not_offered(page):  # noqa: F811
    page.get_by_role("tab", name="Latent sliders").click()
    wait_for_new_image(page, "ge-slider-image", timeout=60)
    page.locator("#ge-slider-model input").click()
    page.get_by_role("option", name="mnist-cgan").click()
    wait_text(page, "#ge-slider-start", "no encoder")
    assert page.locator("#ge-slider-start label", has_text="my drawing").count() == 0
    # a model with an encoder offers it again
    page.locator("#ge-slider-model input").click()
    page.get_by_role("option", name="mnist-vae", exact=True).click()
    page.locator("#ge-slider-start label", has_text="my drawing").wait_for(timeout=30_000)
    assert page.evaluate(BADGES_JS) == 0


def test_my_drawing_with_nothing_drawn_stays_on_the_test_example(page):  # noqa: F811
    page.get_by_role("tab", name="AE zoo").click()
    wait_for_new_image(page, "ge-zoo-0-input", timeout=60)
    page.locator("#ge-zoo-source label", has_text="my drawing").click()
    wait_text(page, "#ge-zoo-note", "Nothing is drawn yet")
    checked = page.locator("#ge-zoo-source input:checked").evaluate("e => e.closest('label').innerText")
    assert "test example" in checked
    time.sleep(1.0)
    assert page.evaluate(BADGES_JS) == 0
    page.get_by_role("tab", name="Complete").click()
    page.locator("#ge-complete-source label", has_text="my drawing").click()
    wait_text(page, "#ge-complete-note", "Nothing is drawn yet")
    checked = page.locator("#ge-complete-source input:checked").evaluate("e => e.closest('label').innerText")
    assert "test image" in checked
    assert page.evaluate(BADGES_JS) == 0
    # the Noise tab's button keeps the picture it shows and says why beside it
    page.get_by_role("tab", name="Noise").click()
    clean = wait_for_new_image(page, "ge-noise-clean", timeout=90)
    page.click("#ge-noise-use-drawing")
    wait_text(page, "#ge-noise-note", "Nothing is drawn yet")
    time.sleep(1.0)
    assert image_src(page, "ge-noise-clean") == clean


def test_a_refused_run_says_why_under_start_without_error_badges(page):  # noqa: F811
    page.get_by_role("tab", name="Train").click()
    page.fill("#ge-train-name input, #ge-train-name textarea", "")
    page.click("#ge-train-start")
    wait_text(page, "#ge-train-message", "name")
    time.sleep(1.0)
    assert page.evaluate(BADGES_JS) == 0


# ------------------------------------------------------------------ 5. the Train tab's state


def test_a_finished_run_says_done_everywhere(page):  # noqa: F811
    page.get_by_role("tab", name="Train").click()
    page.fill("#ge-train-name input, #ge-train-name textarea", "mnist-browserpca")
    page.locator("#ge-train-family input").click()
    page.get_by_role("option", name="pca", exact=False).first.click()
    page.click("#ge-train-start")
    # done or failed: a failed run says why at once, instead of the test waiting out its time
    try:
        page.wait_for_selector("#ge-train-progress[data-state='done'], #ge-train-progress[data-state='failed']",
                               timeout=240_000)
    except PlaywrightTimeout:
        pass   # the assertion below reports what the page showed instead
    shown = (page.locator("#ge-train-progress").get_attribute("data-state"), text_of(page, "#ge-train-status"),
             text_of(page, "#ge-train-message"))
    assert shown[0] == "done", shown
    wait_text(page, "#ge-train-message", "Queued", present=False, timeout=15_000)
    assert "done" in text_of(page, "#ge-train-message")
    assert "running" not in page.locator("#ge-train-run input").input_value()
    assert "running" not in text_of(page, "#ge-train-status")


def test_a_run_cancelled_in_its_first_epoch_says_nothing_was_saved(page):  # noqa: F811
    page.get_by_role("tab", name="Train").click()
    page.fill("#ge-train-name input, #ge-train-name textarea", "mnist-browserstop")
    page.fill("#ge-train-epochs input", "50")
    page.click("#ge-train-start")
    page.wait_for_selector("#ge-train-progress[data-state='running']", timeout=120_000)
    page.click("#ge-train-cancel")
    page.wait_for_function("/Cancelling|cancelled before/.test(document.querySelector('#ge-train-message').innerText)",
                           timeout=30_000)
    assert "keeps its last finished epoch" not in text_of(page, "#ge-train-message")
    page.wait_for_selector("#ge-train-progress[data-state='cancelled']", timeout=300_000)
    shown = text_of(page, "#ge-train-status") + text_of(page, "#ge-train-message")
    assert "epoch 0" not in shown and "nothing was saved" in shown
