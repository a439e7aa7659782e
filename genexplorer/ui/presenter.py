"""The page frame's own look: the presenter view (a toggle, or ?present=1), the phone layout, the glossary's
marks, the links to the Learn notes, and text alternatives for Gradio's pictures. Plain strings, no Gradio:
ui/__init__.py puts them on the page.

Presenter view (body.ge-present): a projector at 1280x720 shows each main tab's pictures at 280 px or more,
in larger type, without the title and Gradio's footer, and the result of each control in view with the control
(the pictures beside or above their controls, a docked picture where a tab's result is far below).
"""
from __future__ import annotations

import json

from .. import glossary

PRESENT_PARAMETER = "present"        # ?present=1 opens the page in presenter view
PRESENTER_PICTURE = 280              # px: a presenter view's pictures are at least this wide and high
# tab id -> its name in the tab row (ui/__init__.py): the page opens a tab, e.g. Learn, from its overflow menu too
TAB_NAMES = {"draw": "Draw", "noise": "Noise", "zoo": "AE zoo", "sliders": "Latent sliders", "map": "Latent map",
             "interpolate": "Interpolate", "generate": "Generate", "diffusion": "Diffusion", "sketch": "Sketch",
             "ganlab": "Toy lab", "upload": "Upload", "complete": "Complete", "train": "Train", "learn": "Learn",
             "class": "Class"}

TOOLS_HTML = """
<div class="ge-tools">
  <button type="button" class="ge-present-toggle" aria-pressed="false"
          title="large pictures and type for a projector, without the page chrome (or open the page with ?present=1)"
  >Presenter view</button>
  <a class="ge-learn-link" href="#" data-learn="" title="the Learn tab's note on what this tab shows">Learn: the note
    on this tab</a>
</div>
"""

# ---- every view: labels above their pictures, words whole, nothing covering anything -------------------------
FIX_CSS = """
#ge-tools { border: none !important; box-shadow: none !important; background: none !important; }
.ge-tools { display: flex; flex-wrap: wrap; gap: 6px 14px; align-items: center; justify-content: flex-end; }
.ge-tools button { padding: 4px 12px; border-radius: 6px; border: 1px solid var(--border-color-primary);
  background: var(--button-secondary-background-fill); color: var(--body-text-color); cursor: pointer; }
.ge-tools button[aria-pressed=true] { background: var(--primary-600); color: #fff; }
.ge-learn-link { color: var(--link-text-color); text-decoration: underline; }
#ge-title h1 { word-break: keep-all; overflow-wrap: normal; hyphens: none; }
#ge-top-controls { gap: 4px; }
/* a picture's label above it, whole, and the download button in the label's row: nothing over the picture */
.ge-pixels { display: flex !important; flex-direction: column !important; flex-wrap: nowrap !important; }
.ge-pixels > label[data-testid=block-label] { position: static !important; flex: none; align-self: flex-start;
  margin: 0 30px 2px 0; max-width: calc(100% - 30px); white-space: normal; line-height: 1.15; box-shadow: none; }
.ge-pixels > label[data-testid=block-label] { display: block !important; width: auto !important; min-width: 0; }
.ge-pixels > label[data-testid=block-label] > span { display: inline-block; vertical-align: -2px; margin-right: 4px; }
.ge-pixels > .image-container { position: static !important; }
.ge-pixels > .image-container, .ge-pixels > div.empty { flex: 1 1 auto; min-height: 0; height: auto !important; }
.ge-pixels .top-panel { top: 1px !important; right: 1px !important; }
.ge-pixels .image-frame, .ge-pixels .image-container > button { height: 100%; width: 100%; display: flex;
  justify-content: center; align-items: center; }
.ge-pixels .image-frame img { width: 100%; height: 100%; object-fit: contain; }
/* tables of numbers: whole words, a row scrolls sideways on a narrow screen instead of splitting "PS/NR" */
.prose table { display: block; overflow-x: auto; max-width: 100%; }
.prose th, .prose td { word-break: normal !important; overflow-wrap: normal !important; hyphens: none; }
.prose th { white-space: nowrap; }
/* the example gallery shows both of its rows */
#ge-examples { height: auto !important; }
#ge-examples .grid-wrap { height: auto !important; max-height: none !important; overflow: visible !important; }
/* a dropdown's chevron beside its text, not over it */
.wrap-inner .secondary-wrap input { text-overflow: ellipsis; padding-right: 30px !important; }
/* the mask editor's label above the editor, its toolbar and canvas below the label (34 px: the editor is that much
   taller than its square canvas, ui/upload.py EDITOR_LABEL_ROW) */
#ge-mask-editor > label[data-testid=block-label], #ge-complete-editor > label[data-testid=block-label] {
  position: static !important; margin-bottom: 4px; }
#ge-mask-editor > .image-container, #ge-complete-editor > .image-container {
  position: relative !important; height: calc(100% - 34px) !important; }
/* grey small print (Gradio's footer, a slider's ends) at 4.5:1 or more */
footer, footer a, footer button, .run-history, .min_value, .max_value { color: #4b5563 !important; }
/* code in the notes: dark on grey (the highlighter's orange and slate were 2:1 to 3.7:1) */
.prose code, .prose code .token { color: #1f2937 !important; }
.prose em { color: inherit !important; }
/* the glossary */
.ge-term { text-decoration: underline dotted; text-underline-offset: 2px; cursor: help; border-radius: 2px; }
.ge-term:focus-visible { outline: 2px solid var(--primary-600); }
#ge-tip { position: fixed; z-index: 1000; max-width: min(360px, 90vw); padding: 8px 10px; border-radius: 8px;
  background: #1f2937; color: #fff; font-size: 14px; line-height: 1.35; box-shadow: 0 4px 16px rgb(0 0 0 / 0.25);
  pointer-events: auto; }
#ge-tip[hidden] { display: none; }
#ge-tip a { color: #c7d2fe; }
"""

# ---- a phone: the title whole, the pictures above the canvas (small, in one row), so you see them as you draw --
PHONE_CSS = """
@media (max-width: 640px) {
  .row:has(> #ge-title) { flex-direction: column !important; gap: 4px; }
  #ge-title h1 { font-size: 26px; }
  #ge-title p { display: none; }
  #ge-dataset { padding: 4px 8px !important; }
  #ge-dataset .wrap { flex-wrap: nowrap; gap: 6px; }
  #ge-dataset label { padding: 4px 8px !important; font-size: 13px; }
  .tabitem .row:has(#ge-canvas), .tabitem .row:has(#ge-sketch-canvas) { flex-direction: column !important; }
  .tabitem .row:has(#ge-canvas) > .column:has(#ge-seen),
  .tabitem .row:has(#ge-sketch-canvas) > .column:has(#ge-sketch-seen) { display: contents; }
  .row:has(> #ge-seen), .row:has(> #ge-sketch-seen) { order: -1; position: sticky; top: 0; z-index: 5;
    background: var(--body-background-fill); padding: 2px 0 4px; }
  #ge-draw-message, #ge-sketch-message { order: 1; }
  .row:has(> #ge-seen), .row:has(> #ge-sketch-seen) { flex-wrap: nowrap !important; gap: 3px !important; }
  .row:has(> #ge-seen) > .ge-pixels, .row:has(> #ge-sketch-seen) > .ge-pixels {
    min-width: 0 !important; flex: 1 1 0 !important; width: auto !important; height: 96px !important; padding: 0; }
  .row:has(> #ge-seen) > .ge-pixels > label, .row:has(> #ge-sketch-seen) > .ge-pixels > label { font-size: 11px;
    padding: 1px 2px; margin: 0; max-width: 100%; align-self: stretch; text-align: center; justify-content: center; }
  .row:has(> #ge-seen) > .ge-pixels > label > span, .row:has(> #ge-sketch-seen) > .ge-pixels > label > span { display: none; }
  .row:has(> #ge-seen) .top-panel, .row:has(> #ge-sketch-seen) .top-panel { display: none; }
  #ge-examples .grid-container { grid-template-columns: repeat(5, 1fr) !important; }
  .ge-present-toggle { display: none; }           /* a projector's view, not a phone's: room for the tabs */
  .ge-tools { justify-content: flex-start; }
  .ge-pixels { min-width: min(150px, 100%) !important; }
  .ge-pixels > label[data-testid=block-label] { font-size: 13px; }
}
"""

# ---- the presenter view ------------------------------------------------------------------------------------------
PRESENTER_CSS = """
body.ge-present { --ge-pic: %(pic)dpx; }
body.ge-present .gradio-container { font-size: 18px; --text-md: 18px; --text-lg: 20px; --text-sm: 16px;
  --block-label-text-size: 16px; --block-title-text-size: 16px; --checkbox-label-text-size: 16px;
  --prose-text-size: 18px; --input-text-size: 17px; --button-large-text-size: 18px; --section-header-text-size: 18px;
  max-width: none !important; padding-top: 4px !important; overflow-x: clip; }
body.ge-present footer, body.ge-present #ge-title { display: none !important; }
body.ge-present .row:has(> #ge-title) { position: absolute; top: 4px; right: 12px; z-index: 30; width: auto;
  flex-wrap: nowrap !important; align-items: center; gap: 8px; padding: 0 !important; margin: 0 !important; }
body.ge-present #ge-top-controls .block, body.ge-present #ge-top-controls fieldset { padding: 0 !important; margin: 0 !important; }
body.ge-present .row:has(> #ge-title) > * { min-width: 0 !important; flex: none !important; }
body.ge-present #ge-top-controls { flex-direction: row !important; flex-wrap: nowrap !important; align-items: center; gap: 8px; }
body.ge-present .tab-wrapper { margin-right: 620px; }
body.ge-present .ge-learn-link { display: none; }
body.ge-present #ge-dataset { padding: 0 !important; border: none; background: none; box-shadow: none; }
body.ge-present #ge-dataset > span[data-testid=block-info] { display: none; }
body.ge-present #ge-dataset .wrap { flex-wrap: nowrap; gap: 6px; }
body.ge-present #ge-dataset label { padding: 4px 10px !important; white-space: nowrap; }
body.ge-present #ge-top-controls > *, body.ge-present #ge-top-controls .form { flex: none !important; width: auto !important;
  min-width: 0 !important; border: none; background: none; box-shadow: none; }
body.ge-present .ge-pixels { min-width: var(--ge-pic) !important; width: var(--ge-pic) !important;
  height: calc(var(--ge-pic) + 26px) !important; flex: none !important; }
body.ge-present .ge-pixels.ge-wide { width: auto !important; flex: 1 1 auto !important; }
body.ge-present .row:has(> .ge-pixels) { flex-wrap: wrap !important; gap: 10px; }
/* Draw and Sketch: the canvas beside three pictures a row */
body.ge-present .ge-canvas { width: var(--ge-pic); height: var(--ge-pic); }
body.ge-present .row:has(#ge-canvas) > .column:first-child, body.ge-present .row:has(#ge-sketch-canvas) > .column:first-child {
  flex: none !important; min-width: 300px !important; width: 300px; }
/* sliders: each column scrolls in its own box, and the decoded picture stays at the top of its column */
body.ge-present .row:has(#ge-slider-image) > .column { max-height: calc(100vh - 64px); overflow-y: auto;
  overflow-x: hidden; flex-wrap: nowrap !important; }
body.ge-present .column:has(> #ge-slider-image) > #ge-slider-image { order: -2; position: sticky; top: 0; z-index: 3;
  background: var(--body-background-fill); }
body.ge-present .column:has(> #ge-slider-image) > #ge-slider-info { order: -1; }
/* the latent map: the decoded point docked at the right of the screen, beside the two maps */
body.ge-present .tabitem:has(#ge-map-decoded) { padding-right: 312px; }
body.ge-present .row:has(> #ge-map-decoded) { position: fixed; right: 8px; top: 60px; width: 300px; z-index: 20;
  flex-direction: column !important; background: var(--block-background-fill); border: 1px solid var(--border-color-primary);
  border-radius: 10px; padding: 6px; box-shadow: 0 4px 16px rgb(0 0 0 / 0.12); }
body.ge-present #ge-map-info { max-height: 200px; overflow: auto; }
/* Noise: the controls beside the pictures, three a row */
body.ge-present .row:has(#ge-noise-clean) > .column:first-child { flex: none !important; width: 330px; min-width: 330px !important; }
/* Generate: a grid as tall as its pictures (no empty bands above and below), right under its Sample button */
body.ge-present :is(#ge-gen-vae, #ge-gen-gan, #ge-gen-cvae, #ge-gen-cgan, #ge-gen-pixelcnn) {
  height: auto !important; width: auto !important; flex: 1 1 auto !important; min-width: 0 !important; }
body.ge-present :is(#ge-gen-vae, #ge-gen-gan, #ge-gen-cvae, #ge-gen-cgan, #ge-gen-pixelcnn) :is(.image-frame, .image-container > button) {
  height: auto; }
body.ge-present :is(#ge-gen-vae, #ge-gen-gan, #ge-gen-cvae, #ge-gen-cgan, #ge-gen-pixelcnn) .image-frame img {
  height: auto; max-height: 64vh; }
/* the toy lab: Reset at the top of its controls, next to the lesson, the canvases beside them */
.column:has(> #ge-lab-reset) > #ge-lab-intro-short { order: -3; }
.column:has(> #ge-lab-reset) > #ge-lab-reset { order: -2; }
.column:has(> #ge-lab-reset) > #ge-lab-message { order: -1; }
body.ge-present .row:has(#ge-lab) > .column:first-child { align-self: flex-start; max-height: calc(100vh - 64px);
  overflow-y: auto; overflow-x: hidden; flex-wrap: nowrap !important; }
body.ge-present .row:has(#ge-lab) > .column:first-child > * { flex-shrink: 0; }
body.ge-present .ge-lab-panel { min-width: var(--ge-pic); }
body.ge-present .ge-lab-panel.ge-lab-wide { max-width: none; }
body.ge-present .ge-lab-wide canvas { height: clamp(150px, calc(100vh - 545px), 300px) !important; }   /* drawn at these pixels (fitCurves in ganlab_assets.py) */
/* Gradio repeats each unscoped rule under .gradio-container (4 classes): the default is said with :not, not overruled */
body:not(.ge-present) .ge-lab-intro-short, body.ge-present .ge-lab-intro { display: none; }
body.ge-present .ge-lab-title { font-size: 14px !important; white-space: nowrap; }
/* the lab's rows keep their height while it plays (Pause is wider than Play; a note grows to three lines): the
   curves' strip below stays within 720 px */
body.ge-present .ge-lab-buttons { flex-wrap: nowrap !important; gap: 6px !important; }
body.ge-present .ge-lab-buttons button { padding: 4px 10px !important; }
body.ge-present .ge-lab-play { min-width: 4.8em; }
body.ge-present .ge-lab-buttons input[type=range] { width: 80px !important; }
body.ge-present .ge-lab-note { font-size: 13px !important; min-height: 3.9em !important; }
body.ge-present .ge-lab-status { font-size: 14px !important; }
""" % {"pic": PRESENTER_PICTURE}

CSS = FIX_CSS + PHONE_CSS + PRESENTER_CSS

# Runs once when the page loads (ui/__init__.py's HEAD_JS).
PAGE_JS = r"""
() => {
  const GLOSSARY = %(glossary)s;
  GLOSSARY.names = %(names)s;
  const PARAMETER = '%(parameter)s';
  const TERMS = GLOSSARY.terms.map((t) => ({ ...t, re: new RegExp('(?<![\\w-])(?:' + t.pattern + ')(?!\\w)') }));
  const byName = Object.fromEntries(GLOSSARY.terms.map((t) => [t.term, t]));
  // where the glossary marks words: rendered markdown, HTML outputs, the toy lab's notes, Gradio's labels
  const SCOPES = '.prose, .ge-lab-status, .ge-lab-note, .ge-term-scope, [data-testid=block-info], label[data-testid=block-label]';

  function isPresent() { return document.body.classList.contains('ge-present'); }
  function setPresent(on) {
    document.body.classList.toggle('ge-present', on);
    syncToggle();
    const url = new URL(location.href);
    if (on) url.searchParams.set(PARAMETER, '1'); else url.searchParams.delete(PARAMETER);
    history.replaceState(history.state, '', url);
    window.dispatchEvent(new Event('resize'));         // plotly figures and the lab's canvases re-fit
  }
  function syncToggle() {
    for (const b of document.querySelectorAll('.ge-present-toggle')) {
      b.setAttribute('aria-pressed', String(isPresent()));
    }
  }
  window.geSetPresent = setPresent;

  function selectedTab() {
    const b = document.querySelector('[role=tablist] button[role=tab][aria-selected=true]');
    return b ? b.dataset.tabId : null;
  }
  function openTab(id) {
    const inRow = document.querySelector(`[role=tablist] button[role=tab][data-tab-id="${id}"]`);
    if (inRow) { inRow.click(); return; }
    const name = GLOSSARY.names[id];
    const hidden = [...document.querySelectorAll('.overflow-dropdown button')].find((b) => b.textContent.trim() === name);
    if (hidden) hidden.click();
  }
  // Learn: open the tab, then scroll to the note whose heading starts with `note`
  function openLearn(note) {
    openTab('learn');
    let tries = 0;
    const find = () => {
      const heading = [...document.querySelectorAll('#ge-learn-notes h3, .ge-learn-notes h3')]
        .find((h) => h.textContent.trim().startsWith(note));
      if (heading) { heading.scrollIntoView({ block: 'start' }); heading.setAttribute('tabindex', '-1'); heading.focus({ preventScroll: true }); }
      else if (tries++ < 40) setTimeout(find, 100);
    };
    setTimeout(find, 50);
  }
  window.geOpenLearn = openLearn;
  function syncLearnLink() {
    const tab = selectedTab();
    const note = tab ? GLOSSARY.tabs[tab] : null;
    for (const a of document.querySelectorAll('.ge-learn-link')) {
      a.hidden = !note;
      if (note && a.dataset.learn !== note) { a.dataset.learn = note; a.textContent = 'Learn: ' + note; }
    }
  }

  // ---- glossary: mark the first use of each term in each text block ----
  const tip = document.createElement('div');
  tip.id = 'ge-tip'; tip.setAttribute('role', 'tooltip'); tip.hidden = true;
  document.body.appendChild(tip);
  let tipFor = null;
  function showTip(mark) {
    const term = byName[mark.dataset.term];
    if (!term) return;
    tip.innerHTML = '';
    const b = document.createElement('b'); b.textContent = term.term + ': ';
    const more = document.createElement('a'); more.href = '#'; more.dataset.learn = term.note; more.textContent = 'more in Learn';
    tip.append(b, document.createTextNode(term.meaning + ' '), more);
    tip.hidden = false;
    const r = mark.getBoundingClientRect();
    const w = tip.offsetWidth, h = tip.offsetHeight;
    tip.style.left = Math.max(4, Math.min(innerWidth - w - 4, r.left)) + 'px';
    tip.style.top = (r.bottom + h + 6 < innerHeight ? r.bottom + 6 : Math.max(4, r.top - h - 6)) + 'px';
    mark.setAttribute('aria-describedby', 'ge-tip');
    tipFor = mark;
  }
  function hideTip() {
    tip.hidden = true;
    if (tipFor) tipFor.removeAttribute('aria-describedby');
    tipFor = null;
  }
  function markText(root) {
    const seen = new Set([...root.querySelectorAll('.ge-term')].map((m) => m.dataset.term));
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, {
      acceptNode: (n) => (n.parentElement.closest('.ge-term, script, style, code, .katex, textarea, button')
        ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT),
    });
    const nodes = [];
    while (walker.nextNode()) nodes.push(walker.currentNode);
    for (let node of nodes) {
      for (const t of TERMS) {
        if (seen.has(t.term)) continue;
        const m = t.re.exec(node.data);
        if (!m) continue;
        seen.add(t.term);
        const rest = node.splitText(m.index);
        const after = rest.splitText(m[0].length);
        const mark = document.createElement('abbr');
        mark.className = 'ge-term'; mark.tabIndex = 0; mark.dataset.term = t.term;
        mark.textContent = rest.data;
        rest.replaceWith(mark);
        node = after;
      }
    }
  }

  // ---- text alternatives: every picture and every button gets a name ----
  function blockLabel(el) {
    const block = el.closest('.block');
    const label = block && block.querySelector('label[data-testid=block-label], [data-testid=block-info]');
    return label ? label.textContent.trim() : '';
  }
  function name(el) {
    if (el.tagName === 'IMG' && !el.getAttribute('alt')) {
      const caption = el.closest('.thumbnail-item, .gallery-item, button')?.querySelector('.caption-label, .caption');
      const text = caption ? 'test example: ' + caption.textContent.trim() : blockLabel(el);
      el.setAttribute('alt', text ? 'picture: ' + text : 'picture');
    }
    if (el.tagName === 'BUTTON' && !el.getAttribute('aria-label') && !el.textContent.trim()) {
      const img = el.querySelector('img');
      const text = el.title || (img && img.getAttribute('alt')) || blockLabel(el);
      el.setAttribute('aria-label', text ? (img ? text : text + ' button') : 'button');
    }
  }

  // Gradio's empty picture boxes carry an aria-label on a plain div: as a picture placeholder it has a role
  // (an upload area holds buttons: a group, not a picture); a box that scrolls can be reached by the keyboard
  const FOCUSABLE = 'a[href], button, input, select, textarea, [tabindex]';
  function roles() {
    for (const el of document.querySelectorAll('div[aria-label]:not([role])')) {
      el.setAttribute('role', el.querySelector(FOCUSABLE) ? 'group' : 'img');
    }
    for (const el of document.querySelectorAll('.tabitem .block, .tabitem .prose table')) {
      if ((el.scrollHeight > el.clientHeight + 1 || el.scrollWidth > el.clientWidth + 1) && !el.hasAttribute('tabindex')
          && /auto|scroll/.test(getComputedStyle(el).overflow) && !el.querySelector(FOCUSABLE)) {
        el.setAttribute('tabindex', '0');
      }
    }
  }

  let queued = false;
  function pass() {
    queued = false;
    syncToggle();
    syncLearnLink();
    for (const el of document.querySelectorAll('img:not([alt]), img[alt=""], button:not([aria-label])')) name(el);
    roles();
    for (const scope of document.querySelectorAll(SCOPES)) {
      if (scope.dataset.geMarked === scope.textContent) continue;
      markText(scope);
      scope.dataset.geMarked = scope.textContent;
    }
  }
  new MutationObserver(() => { if (!queued) { queued = true; requestAnimationFrame(pass); } })
    .observe(document.body, { childList: true, subtree: true, characterData: true });

  document.addEventListener('click', (e) => {
    const toggle = e.target.closest('.ge-present-toggle');
    if (toggle) { setPresent(!isPresent()); return; }
    const learn = e.target.closest('[data-learn]');
    if (learn && learn.dataset.learn) { e.preventDefault(); hideTip(); openLearn(learn.dataset.learn); return; }
    const mark = e.target.closest('.ge-term');
    if (mark) {          // a tap (or a click): show the meaning; keep the tap from reaching a label's input
      e.preventDefault(); e.stopPropagation();
      showTip(mark);
      return;
    }
    if (!e.target.closest('#ge-tip')) hideTip();
  }, true);
  document.addEventListener('mouseover', (e) => {
    const mark = e.target.closest && e.target.closest('.ge-term');
    if (mark && tipFor !== mark) showTip(mark);
    else if (!mark && tipFor && !e.target.closest('#ge-tip')) hideTip();
  });
  document.addEventListener('focusin', (e) => { if (e.target.classList && e.target.classList.contains('ge-term')) showTip(e.target); });
  document.addEventListener('focusout', (e) => { if (e.target === tipFor) hideTip(); });
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') hideTip();
    if ((e.key === 'Enter' || e.key === ' ') && e.target.classList && e.target.classList.contains('ge-term')) {
      e.preventDefault(); showTip(e.target);
    }
  });
  addEventListener('scroll', hideTip, { passive: true });

  setPresent(new URLSearchParams(location.search).get(PARAMETER) === '1');
  pass();
}
""" % {"glossary": glossary.as_json(), "parameter": PRESENT_PARAMETER, "names": json.dumps(TAB_NAMES)}
