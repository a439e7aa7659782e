"""Class mode in a real browser: one teacher page and three student pages (Playwright contexts, Debian's Chromium).

The students join through the link, draw (one of them on a phone, with touch), and their drawings come to the
teacher's board and map; follow-me moves their tab and a slider; a spotlight shows; a challenge ranks; the export
downloads. Screenshots of the board (1280x720, a projector) and of the phone (390x844) are left in /tmp.
"""
import csv
import io
import json
import os
import tempfile
import time
import zipfile

import pytest

from test_browser import browser, stroke  # noqa: F401 - browser: the fixture, shared

# The app's class store is made when the app launches (conftest's app_url, once per session): point it at a
# folder of its own before anything launches, so tests never fill runs/classes/ (nor its cap of classes at once).
os.environ.setdefault("GENEXPLORER_CLASSES", tempfile.mkdtemp(prefix="genexplorer-classes-"))

BOARD_SHOT = "/tmp/genexplorer-class-board.png"
PHONE_SHOT = "/tmp/genexplorer-class-phone.png"
PHONE_FOLLOW_SHOT = "/tmp/genexplorer-class-phone-follow.png"
TIMINGS = "/tmp/genexplorer-class-timings.json"


def open_page(browser, url, **options):
    context = browser.new_context(**options)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())   # "remove this drawing?", "end the class?"
    page.goto(url)
    page.wait_for_selector("#ge-canvas canvas", timeout=60_000)
    return page


def touch_stroke(page, selector, points):
    """A finger's stroke: real touch events (Chromium makes them pointer events of type touch)."""
    box = page.locator(selector).bounding_box()
    cdp = page.context.new_cdp_session(page)
    at = [{"x": box["x"] + x, "y": box["y"] + y} for x, y in points]
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [at[0]]})
    for point in at[1:]:
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [point]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()


def open_tab(page, name):
    """Click a tab as a person would: in the tab row, or in the "more tabs" menu where a narrow screen keeps it."""
    tab = page.get_by_role("tab", name=name, exact=True)
    if tab.count() and tab.first.is_visible():
        tab.first.click()
        return
    page.click(".tabs button[aria-label='More tabs']")
    page.locator(".tabs .overflow-dropdown button", has_text=name).first.click()


def current_tab(page):
    return page.evaluate("window.geClass.page.currentTab()")


def slider_value(page):
    return page.evaluate("Number(document.querySelector('#ge-z0 input[type=range]')?.value)")


def board_tiles(page):
    """{name as shown: (drawing id or '', reading)} of the board's tiles."""
    return {row[0]: (row[1], row[2]) for row in page.evaluate("""() => Array.from(
        document.querySelectorAll('#ge-class-board .ge-cl-tile')).map(t => [
        t.querySelector('.ge-cl-name').textContent, t.dataset.drawing, t.querySelector('.ge-cl-read').textContent])""")}


TILES = "[...document.querySelectorAll('#ge-class-board .ge-cl-tile')]"
NAME = ".querySelector('.ge-cl-name').textContent"


def on_board(teacher, condition, timeout=20_000):
    """Wait until ``condition`` (JavaScript over ``tiles``, the board's tiles) holds on the teacher's page."""
    teacher.wait_for_function(f"(() => {{ const tiles = {TILES}; return {condition}; }})()", timeout=timeout)


def shows_slider(value):
    return f"Math.abs(Number(document.querySelector('#ge-z0 input[type=range]')?.value) - {value}) < 1e-6"


def follow_times(page, since):
    """-> ms from ``since`` (Date.now()) to the first follow-me state this student's page received after it, and to
    the moment its tab showed the teacher's."""
    return page.evaluate("""(since) => {
        const times = Object.values(window.geClass.seat.times).filter((t) => t.seen >= since);
        return [Math.min(...times.map((t) => t.seen)) - since,
                Math.min(...times.filter((t) => t.tab).map((t) => t.tab)) - since]; }""", since)


def drag_first_slider(page, fraction):
    box = page.locator("#ge-z0 input[type=range]").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * fraction, box["y"] + box["height"] / 2, steps=4)
    page.mouse.up()
    return slider_value(page)


def start_class(teacher):
    open_tab(teacher, "Class")
    teacher.click("#ge-class-board .ge-cl-go")
    teacher.wait_for_function("document.querySelector('#ge-class-board .ge-cl-link').textContent.includes('?class=')",
                              timeout=20_000)
    return teacher.locator("#ge-class-board .ge-cl-link").text_content()


def teacher_with_following_student(browser, url, name):
    """A teacher's page with a class started and follow me on, and one student's page joined as ``name``."""
    teacher = open_page(browser, url, viewport={"width": 1280, "height": 720})
    student = open_page(browser, start_class(teacher), viewport={"width": 1280, "height": 800})
    join(student, name)
    teacher.check("#ge-class-board .ge-cl-follow input")
    return teacher, student


def join(page, name):
    page.wait_for_selector("#ge-class-bar .ge-cb-name", timeout=20_000)
    page.fill("#ge-class-bar .ge-cb-name", name)
    page.click("#ge-class-bar .ge-cb-join-go")
    page.wait_for_selector("#ge-class-bar .ge-cb-you:not([hidden])", timeout=20_000)


def test_a_class_in_the_browser(browser, app_url, tmp_path):
    timings = {}
    teacher = open_page(browser, app_url, viewport={"width": 1280, "height": 720}, accept_downloads=True)
    link = start_class(teacher)
    code = link.rsplit("=", 1)[1]
    assert link == f"{app_url}/?class={code}"
    assert teacher.get_attribute("#ge-class-board .ge-cl-qr", "src").startswith("data:image/svg+xml")
    # the page was opened as 127.0.0.1: the tab says students cannot reach it, and how to fix it
    assert "--host 0.0.0.0" in teacher.locator("#ge-class-board .ge-cl-warn").text_content()
    # a page that is not the class's shows no class bar
    assert not teacher.locator("#ge-class-bar").is_visible()

    students = [open_page(browser, link, viewport={"width": 1280, "height": 800}),
                open_page(browser, link, viewport={"width": 1280, "height": 800}),
                open_page(browser, link, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                          device_scale_factor=2)]
    ada, bob, phone = students
    join(ada, "Ada")
    join(bob, "<b>Bob</b>")
    join(phone, "")   # no nickname: "student N"
    assert phone.locator("#ge-class-bar .ge-cb-you").text_content() == "you are student 3"
    for page in students:   # each its own browser (a context): each asks for the class state as a long poll
        page.wait_for_function("window.geClass.seat.longPoll.held === true", timeout=10_000)
    assert "lift the pen" in phone.locator("#ge-class-bar .ge-cb-in").text_content()

    # Each draws; each pen-up goes to the board and the map.
    seven = [(90, 60), (190, 60), (120, 230)]
    one = [(140, 50), (150, 240)]
    stroke(ada, "#ge-canvas canvas", seven)
    on_board(teacher, f"tiles.some((t) => t{NAME} === 'Ada' && t.dataset.drawing)")
    # each page's own clock (one machine): Ada's pen-up, the moment her tile showed the drawing
    shown = teacher.evaluate(f"Number({TILES}.find((t) => t{NAME} === 'Ada').dataset.shown)")
    timings["pen-up to board (s)"] = round((shown - ada.evaluate("window.geClass.seat.penUp")) / 1000, 2)
    stroke(bob, "#ge-canvas canvas", one)
    touch_stroke(phone, "#ge-canvas canvas", [(150, 40 + 12 * i) for i in range(18)])
    on_board(teacher, "tiles.length === 3 && tiles.every((t) => t.dataset.drawing)")
    tiles = board_tiles(teacher)
    assert set(tiles) == {"Ada", "<b>Bob</b>", "student 3"}, "names are shown as typed, never as HTML"
    assert tiles["Ada"][1].startswith("reads 7") and tiles["<b>Bob</b>"][1].startswith("reads 1")
    assert "sent: read as 7" in ada.locator("#ge-class-bar .ge-cb-status").text_content()
    teacher.wait_for_function("""() => {
        const plot = document.querySelector('#ge-class-map .js-plotly-plot');
        const trace = plot && plot.data && plot.data.find(t => t.name === 'the class');
        return trace && trace.x.length === 3; }""", timeout=30_000)

    # Follow me: every student's page goes to the teacher's tab and slider.
    teacher.check("#ge-class-board .ge-cl-follow input")
    clicked = teacher.evaluate("Date.now()")
    open_tab(teacher, "Latent sliders")
    for page in students:
        page.wait_for_function("window.geClass.page.currentTab() === 'sliders'", timeout=20_000)
    # each page's own clock (one machine): when the new state arrived, when the page showed it
    seen, shown = zip(*(follow_times(page, clicked) for page in students))
    timings["follow-me tab: click to state received, each student (s)"] = [round(t / 1000, 2) for t in seen]
    timings["follow-me tab: click to tab shown, each student (s)"] = [round(t / 1000, 2) for t in shown]
    teacher.wait_for_function("window.geClass.page.sliderState()", timeout=20_000)
    wanted = drag_first_slider(teacher, 0.9)
    moved = time.time()
    for page in students:
        page.wait_for_function(shows_slider(wanted), timeout=20_000)
    timings["follow-me slider, last of 3 students (s)"] = round(time.time() - moved, 2)
    assert wanted > 1.5
    phone.locator("#ge-z0").scroll_into_view_if_needed()
    time.sleep(1.0)
    phone.screenshot(path=PHONE_FOLLOW_SHOT)

    # A student who steps away stops following, until they press "follow the teacher".
    open_tab(bob, "Draw")
    assert bob.get_attribute("#ge-class-bar .ge-cb-follow", "aria-pressed") == "false"
    wanted = drag_first_slider(teacher, 0.15)
    ada.wait_for_function(shows_slider(wanted), timeout=20_000)
    assert current_tab(bob) == "draw"
    bob.click("#ge-class-bar .ge-cb-follow")
    bob.wait_for_function(f"window.geClass.page.currentTab() === 'sliders' && {shows_slider(wanted)}",
                          timeout=20_000)

    # Spotlight: the teacher clicks Ada's drawing; it shows big on the board and in every student's bar.
    open_tab(teacher, "Class")
    teacher.locator("#ge-class-board .ge-cl-tile", has_text="Ada").locator(".ge-cl-pic").click()
    teacher.wait_for_selector("#ge-class-board .ge-cl-spot:not([hidden])", timeout=10_000)
    assert "Ada" in teacher.locator("#ge-class-board .ge-cl-spot-text").text_content()
    for page in students:
        page.wait_for_selector("#ge-class-bar .ge-cb-spot:not([hidden])", timeout=10_000)
    assert "Ada's drawing, read as 7" in phone.locator("#ge-class-bar .ge-cb-spot-text").text_content()
    teacher.click("#ge-class-board .ge-cl-rebuild")      # each model's reconstruction, on demand
    teacher.wait_for_selector("#ge-class-board .ge-cl-rebuilt figure", timeout=20_000)
    assert teacher.locator("#ge-class-board .ge-cl-rebuilt figcaption").all_text_contents() == [
        "AE", "VAE", "CVAE", "Denoising AE"]

    # A challenge ranks the class; each student sees their own score.
    teacher.select_option("#ge-class-board .ge-cl-kind", "read_as")
    teacher.select_option("#ge-class-board .ge-cl-target", "7")
    teacher.click("#ge-class-board .ge-cl-set")
    for page in students:
        page.wait_for_selector("#ge-class-bar .ge-cb-challenge:not([hidden])", timeout=10_000)
        open_tab(page, "Draw")
    stroke(ada, "#ge-canvas canvas", seven)
    stroke(bob, "#ge-canvas canvas", one)
    teacher.wait_for_function("document.querySelectorAll('#ge-class-board .ge-cl-ranking li .ge-cl-rank-score')"
                              ".length === 2", timeout=20_000)
    ranking = teacher.locator("#ge-class-board .ge-cl-ranking li").all_text_contents()
    assert ranking[0].startswith("Ada") and ranking[1].startswith("<b>Bob</b>"), ranking
    ada.wait_for_function("document.querySelector('#ge-class-bar .ge-cb-score').textContent.includes('#1 of 2')",
                          timeout=10_000)
    assert "Draw something the classifier reads as 7" in ada.locator("#ge-class-bar .ge-cb-prompt").text_content()
    phone.evaluate("window.scrollTo(0, 0)")
    phone.screenshot(path=PHONE_SHOT)
    time.sleep(3.5)   # the map's next redraw, with every drawing
    teacher.screenshot(path=BOARD_SHOT)

    # Moderation: the phone's drawing is removed from the board.
    teacher.locator("#ge-class-board .ge-cl-tile", has_text="student 3").locator(".ge-cl-remove").click()
    on_board(teacher, f"tiles.some((t) => t{NAME} === 'student 3' && !t.dataset.drawing)")
    assert board_tiles(teacher)["student 3"] == ("", "no drawing yet")

    # A reload keeps the teacher's control and the students' seats.
    teacher.reload()
    teacher.wait_for_selector("#ge-canvas canvas", timeout=60_000)
    open_tab(teacher, "Class")
    teacher.wait_for_function(f"document.querySelector('#ge-class-board .ge-cl-code').textContent === '{code}'",
                              timeout=20_000)
    on_board(teacher, "tiles.length === 3")
    ada.reload()
    ada.wait_for_selector("#ge-class-bar .ge-cb-you:not([hidden])", timeout=60_000)
    assert ada.locator("#ge-class-bar .ge-cb-you").text_content() == "you are Ada"

    # Export: the zip, the CSV and the board, fetched with the teacher's token and saved by the browser.
    downloads = {}
    for what in ("zip", "csv", "board"):
        with teacher.expect_download(timeout=30_000) as download:
            teacher.click(f"#ge-class-board .ge-cl-export[data-what={what}]")
        downloads[what] = tmp_path / download.value.suggested_filename
        download.value.save_as(downloads[what])
    assert downloads["zip"].name == f"class-{code}.zip"
    with zipfile.ZipFile(downloads["zip"]) as archive:
        names = archive.namelist()
        rows = list(csv.DictReader(io.StringIO(archive.read("drawings.csv").decode("utf-8-sig"))))
        assert archive.read("board.png")[:4] == b"\x89PNG"
    drawn = [name for name in names if name.startswith("drawings/")]
    assert len(drawn) == len(rows) == 4, "Ada's and Bob's two drawings each; the phone's was removed"
    assert {row["student"] for row in rows} == {"Ada", "<b>Bob</b>"}
    assert downloads["csv"].read_bytes() == archive_csv(downloads["zip"])
    assert downloads["board"].read_bytes()[:4] == b"\x89PNG"

    # The end: the students' bars say so.
    teacher.click("#ge-class-board .ge-cl-end")
    for page in students:
        page.wait_for_function("document.querySelector('#ge-class-bar .ge-cb-status').textContent"
                               ".includes('the class has ended')", timeout=20_000)
    with open(TIMINGS, "w") as out:
        json.dump(timings, out, indent=1)
    assert all(max(seconds) < 10 if isinstance(seconds, list) else seconds < 10 for seconds in timings.values()), timings
    for page in (teacher, *students):
        page.context.close()


def archive_csv(zip_path):
    with zipfile.ZipFile(zip_path) as archive:
        return archive.read("drawings.csv")


def test_the_pages_keep_trying_while_the_app_does_not_answer(browser, app_url):
    """The app restarting looks like requests that fail, then like a 404 without the class API's message (its page is
    served a moment before its class routes are added; devtools/classkill.py found it): the bar says it is
    reconnecting and keeps asking, the student keeps their seat and the teacher their class; once the app answers
    again the note goes and follow-me goes on."""
    teacher = open_page(browser, app_url, viewport={"width": 1280, "height": 720})
    link = start_class(teacher)
    student = open_page(browser, link, viewport={"width": 1280, "height": 800})
    join(student, "Cy")
    teacher.check("#ge-class-board .ge-cl-follow input")
    starting = {"status": 404, "content_type": "application/json", "body": '{"detail": "Not Found"}'}
    student.route("**/genexplorer/class/**", lambda route: route.fulfill(**starting))
    teacher.route("**/genexplorer/class/board**", lambda route: route.fulfill(**starting))
    student.wait_for_function("document.querySelector('#ge-class-bar .ge-cb-status').textContent === "
                              "'reconnecting...'", timeout=10_000)
    teacher.wait_for_function("document.querySelector('#ge-class-board .ge-cl-status').textContent === "
                              "'reconnecting...'", timeout=10_000)
    open_tab(teacher, "Noise")          # pushed while the student cannot hear it
    time.sleep(1.0)
    student.unroute("**/genexplorer/class/**")
    student.wait_for_function("window.geClass.page.currentTab() === 'noise'", timeout=15_000)
    assert student.locator("#ge-class-bar .ge-cb-status").text_content() == ""
    assert student.locator("#ge-class-bar .ge-cb-you").is_visible(), "the student kept their seat"
    teacher.unroute("**/genexplorer/class/board**")
    open_tab(teacher, "Class")
    teacher.wait_for_function("document.querySelector('#ge-class-board .ge-cl-status').textContent === ''",
                              timeout=15_000)
    assert teacher.locator("#ge-class-board .ge-cl-live").is_visible(), "the teacher kept their class"
    for page in (teacher, student):
        page.context.close()


def test_follow_me_brings_the_gan_lab_lesson_and_its_play_button(browser, app_url):
    lesson = "a ring of 8: mode collapse?"
    teacher, student = teacher_with_following_student(browser, app_url, "Dee")
    open_tab(teacher, "Toy lab")
    teacher.wait_for_function("window.geLab && window.geLab.toy", timeout=30_000)
    teacher.locator("#ge-lab-lesson input").click()
    teacher.get_by_role("option", name=lesson).click()
    teacher.wait_for_function("window.geLab.toy && document.querySelector('#ge-lab-message').textContent"
                              ".includes('ring')", timeout=30_000)
    teacher.locator(".ge-lab-play").click()
    student.wait_for_function(f"window.geClass.page.currentTab() === 'ganlab' && window.geLab && window.geLab.playing"
                              f" && document.querySelector('#ge-lab-lesson input').value === {json.dumps(lesson)}",
                              timeout=30_000)
    teacher.locator(".ge-lab-play").click()   # pause
    student.wait_for_function("window.geLab.playing === false", timeout=15_000)
    for page in (teacher, student):
        page.context.close()


def test_two_class_pages_in_one_browser_share_its_connections(browser, app_url):
    """A long poll holds one of a browser's six connections to the app: of two class pages in one browser only one
    holds a long poll, the other polls; follow me reaches both."""
    teacher = open_page(browser, app_url, viewport={"width": 1280, "height": 720})
    link = start_class(teacher)
    first = open_page(browser, link, viewport={"width": 1280, "height": 800})
    second = first.context.new_page()
    second.goto(link)
    second.wait_for_selector("#ge-canvas canvas", timeout=60_000)
    join(first, "Eve")
    join(second, "Fay")
    time.sleep(1.0)
    held = [page.evaluate("window.geClass.seat.longPoll.held") for page in (first, second)]
    assert sorted(held) == [False, True], held
    teacher.check("#ge-class-board .ge-cl-follow input")
    open_tab(teacher, "Latent sliders")
    for page in (first, second):
        page.wait_for_function("window.geClass.page.currentTab() === 'sliders'", timeout=20_000)
    for page in (teacher, first):
        page.context.close()


def test_the_board_map_event_through_the_api(client, app_url):
    """The Class tab's one Gradio event: the teacher's class on the VAE-2d's map, each drawing a star."""
    import httpx
    from gradio_client.exceptions import AppError

    from genexplorer.canvas_payload import encode_payload
    from test_classmode import drawn_seven

    api = f"{app_url}/genexplorer/class/"
    started = httpx.post(api + "start", json={}).json()
    code, token = started["code"], started["teacher_token"]
    student = httpx.post(api + "join", json={"code": code, "name": "Flo"}).json()["student_token"]
    drawn = httpx.post(api + "drawing", json={"student_token": student, "payload": encode_payload(drawn_seven())},
                       timeout=60).json()
    answer = client.predict(json.dumps({"code": code, "token": token}), api_name="/class_map")
    figure = json.loads(answer["plot"])
    stars = [trace for trace in figure["data"] if trace["name"] == "the class"]
    assert len(stars) == 1 and stars[0]["customdata"] == [drawn["id"]]
    assert stars[0]["x"] == [pytest.approx(drawn["map"][0])] and stars[0]["text"] == ["Flo: reads 7"]
    assert len(figure["data"]) == 11, "the test set's ten classes under the stars"
    for ask, message in (("{not json", "malformed"), (json.dumps({"code": code, "token": "guess"}), "only the teacher"),
                         (json.dumps({"code": "ACDEFG", "token": token}), "there is no class ACDEFG")):
        with pytest.raises(AppError, match=message):
            client.predict(ask, api_name="/class_map")
    httpx.post(api + "end", json={"code": code}, headers={"X-Teacher-Token": token})


def test_follow_me_brings_the_whole_code_its_class_and_the_seed(browser, app_url):
    """A 100-number cGAN code shows 16 sliders: follow me brings the other 84 numbers (after 'Randomise the rest'),
    the class and the seed to the student's page, through the Latent sliders' follow event."""
    teacher, student = teacher_with_following_student(browser, app_url, "Eve")
    open_tab(teacher, "Latent sliders")
    teacher.locator("#ge-slider-model input").click()
    teacher.get_by_role("option", name="mnist-cgan", exact=True).click()
    shows = "(() => { const s = window.geClass.page.sliderState(); return s && s.model === 'mnist-cgan' && %s; })()"
    teacher.wait_for_function(shows % "s.latent.length === 100", timeout=60_000)
    teacher.fill("#ge-slider-seed input", "5")
    teacher.click("#ge-slider-rest")
    teacher.wait_for_function(shows % "s.latent.slice(16).some((v) => v !== 0)", timeout=60_000)
    teacher.locator("#ge-slider-class input").click()
    teacher.get_by_role("option", name="3", exact=True).click()
    teacher.wait_for_function(shows % "s.label === 3", timeout=60_000)
    code = teacher.evaluate("window.geClass.page.sliderState().latent")
    student.wait_for_function(
        (shows % "s.label === 3 && s.latent.length === 100 && s.latent.slice(16).every((v, i) => "
                 "Math.abs(v - %s[16 + i]) < 2e-3) && document.querySelector('#ge-slider-seed input').value === '5'")
        % json.dumps(code), timeout=60_000)
    assert student.evaluate("window.geClass.page.currentTab()") == "sliders"
    assert student.locator("#ge-slider-class input").input_value() == "3"
    for page in (teacher, student):
        page.context.close()
