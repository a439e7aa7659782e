"""Screenshots of every tab at a desktop, a projector (presenter view) and a phone, to look at.

    python -m genexplorer.devtools.screenshots --url http://127.0.0.1:7860 --out /tmp/genexplorer-shots
    python -m genexplorer.devtools.screenshots --url ... --only phone --tabs draw,noise

Playwright drives Debian's Chromium (never ``playwright install``). Each tab is opened as a person would, from the
tab row (or the row's overflow menu), after a stroke on the Draw canvas so the pictures are not blank. The pictures
are of the viewport only (what a class sees without scrolling); ``--full`` adds the whole page.
"""
from __future__ import annotations

import argparse
import re
import shutil
import time
from pathlib import Path

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
# name -> (viewport, query string, touch): the three screens issue 24 asks for
VIEWS = {
    "desktop": ({"width": 1920, "height": 1080}, "", False),
    "presenter": ({"width": 1280, "height": 720}, "?present=1", False),
    "phone": ({"width": 390, "height": 844}, "", True),
}
# (tab id, the tab's name in the row)
TABS = [("draw", "Draw"), ("noise", "Noise"), ("zoo", "AE zoo"), ("sliders", "Latent sliders"),
        ("map", "Latent map"), ("interpolate", "Interpolate"), ("generate", "Generate"), ("diffusion", "Diffusion"),
        ("sketch", "Sketch"), ("ganlab", "Toy lab"), ("upload", "Upload"), ("complete", "Complete"),
        ("train", "Train"), ("learn", "Learn"), ("class", "Class")]
# what a tab's pictures need before they are worth a picture (the maps take seconds on a busy machine)
READY = {"map": "#ge-map-ae2d .js-plotly-plot", "sliders": "#ge-slider-image img", "noise": "#ge-noise-dae img",
         "ganlab": "#ge-lab-message p, #ge-lab-message span", "zoo": ".ge-pixels img"}
SEVEN = [(0.3, 0.2), (0.7, 0.2), (0.42, 0.82)]   # a 7, as fractions of the canvas


def open_page(browser, url: str, view: str):
    viewport, query, touch = VIEWS[view]
    context = browser.new_context(viewport=viewport, has_touch=touch, is_mobile=touch,
                                  device_scale_factor=1)
    page = context.new_page()
    page.goto(url.rstrip("/") + "/" + query)
    page.wait_for_selector("#ge-canvas canvas", timeout=60_000)
    return page


def draw_seven(page) -> None:
    box = page.locator("#ge-canvas canvas").bounding_box()
    points = [(box["x"] + box["width"] * x, box["y"] + box["height"] * y) for x, y in SEVEN]
    page.mouse.move(*points[0])
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(x, y, steps=4)
    page.mouse.up()


def open_tab(page, name: str) -> None:
    """Click the tab in the row, or in the row's overflow menu when it does not fit."""
    tab = page.get_by_role("tab", name=name, exact=True)
    if tab.count() and tab.first.is_visible():
        tab.first.click()
        return
    page.locator(".overflow-menu > button").first.click()
    page.locator(".overflow-dropdown button", has_text=name).filter(
        has_text=re.compile(f"^{name}$")).first.click()


def shoot(url: str, out: Path, views, tabs, *, full: bool = False, settle: float = 2.5) -> list[Path]:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    written = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for view in views:
            page = open_page(browser, url, view)
            draw_seven(page)
            time.sleep(settle)
            for tab_id, name in tabs:
                open_tab(page, name)
                time.sleep(settle)
                if tab_id in READY:
                    try:
                        page.wait_for_selector(READY[tab_id], timeout=60_000)
                    except Exception:   # noqa: BLE001 - a picture of what is there is still worth taking
                        print(f"{view}-{tab_id}: {READY[tab_id]} did not appear within 60 s")
                    time.sleep(1)
                page.evaluate("window.scrollTo(0, 0)")
                path = out / f"{view}-{tab_id}.png"
                page.screenshot(path=str(path))
                written.append(path)
                if full:
                    path = out / f"{view}-{tab_id}-full.png"
                    page.screenshot(path=str(path), full_page=True)
                    written.append(path)
            page.context.close()
        browser.close()
    return written


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:7860")
    parser.add_argument("--out", default="/tmp/genexplorer-shots")
    parser.add_argument("--only", default=",".join(VIEWS), help="views, comma-separated: " + ", ".join(VIEWS))
    parser.add_argument("--tabs", default="", help="tab ids, comma-separated (default: every tab)")
    parser.add_argument("--full", action="store_true", help="also the whole page, scrolled")
    args = parser.parse_args(argv)
    wanted = set(args.tabs.split(",")) if args.tabs else None
    tabs = [tab for tab in TABS if wanted is None or tab[0] in wanted]
    for path in shoot(args.url, Path(args.out), args.only.split(","), tabs, full=args.full):
        print(path)


if __name__ == "__main__":
    main()
