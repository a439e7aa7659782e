"""A light drawing canvas: a plain <canvas> driven by pointer events.

Gradio's Sketchpad takes ~150 ms per mouse move and ~0.7 s from mouse-up to the
handler on a 2-core machine (see README); this one posts a 112x112 grey copy of the
drawing to the live channel (live.py) every 40 ms while drawing, so the reconstructions
follow the pen, and writes it to a hidden textbox when a stroke ends, which runs the
Gradio event. White ink on black, like MNIST. The payload's format and its codec: genexplorer/canvas_payload.py.
Each pen-up also fires a ``ge-pen-up`` DOM event (detail: the canvas's data id and the payload): the class bar
(classbar.py) shares the drawing from there, without a Python handler of its own.
"""
from __future__ import annotations

SEND_SIZE = 112   # the side of the grey copy the canvas sends (canvas_payload.py's format)


CANVAS_HTML = """
<div class="ge-canvas-wrap">
  <canvas class="ge-canvas" width="280" height="280" aria-label="drawing canvas" tabindex="0"></canvas>
  <div class="ge-canvas-tools">
    <button type="button" class="ge-undo" title="undo the last stroke">Undo</button>
    <button type="button" class="ge-clear" title="clear the canvas">Clear</button>
    <label>Brush <input type="range" class="ge-brush" min="6" max="40" value="18" aria-label="brush size"></label>
  </div>
</div>
"""

# Runs once per page (js_on_load): `element` is this component's DOM node. DATA_ID is the hidden textbox the
# drawing goes to when a stroke ends; LIVE the window.geLive method that paints while it goes on.
_CANVAS_JS = """
const canvas = element.querySelector('canvas.ge-canvas');
const ctx = canvas.getContext('2d', { willReadFrequently: true });
const brush = element.querySelector('.ge-brush');
const small = document.createElement('canvas');
small.width = small.height = %(size)d;
const smallCtx = small.getContext('2d', { willReadFrequently: true });
const history = [];
let drawing = false, last = null, timer = null;

function blank() { ctx.fillStyle = '#000'; ctx.fillRect(0, 0, canvas.width, canvas.height); }
function target() { return document.querySelector('#DATA_ID textarea, #DATA_ID input'); }
function send(final) {
  timer = null;
  smallCtx.imageSmoothingEnabled = true;
  smallCtx.drawImage(canvas, 0, 0, small.width, small.height);
  const rgba = smallCtx.getImageData(0, 0, small.width, small.height).data;
  const grey = new Uint8Array(small.width * small.height);
  let any = 0;
  for (let i = 0; i < grey.length; i++) { grey[i] = rgba[4 * i]; any |= grey[i]; }
  let bin = '';
  for (let i = 0; i < grey.length; i++) bin += String.fromCharCode(grey[i]);
  const text = any ? JSON.stringify({ w: small.width, h: small.height, data: btoa(bin) }) : '';
  // At the end of a stroke the Gradio event follows the live pictures rather than racing
  // them for the same two cores.
  if (!window.geLive) { if (final) commit(text); return text; }
  window.geLive.LIVE(text, final ? () => commit(text) : null);
  return text;
}
function commit(text) {
  const box = target();
  if (!box) return;
  const proto = box.tagName === 'TEXTAREA' ? HTMLTextAreaElement.prototype : HTMLInputElement.prototype;
  Object.getOwnPropertyDescriptor(proto, 'value').set.call(box, text);
  box.dispatchEvent(new Event('input', { bubbles: true }));
}
function schedule() { if (!timer) timer = setTimeout(() => send(false), 40); }
function point(e) {
  const r = canvas.getBoundingClientRect();
  return [(e.clientX - r.left) * canvas.width / r.width, (e.clientY - r.top) * canvas.height / r.height];
}
function stroke(a, b) {
  ctx.strokeStyle = '#fff'; ctx.fillStyle = '#fff';
  ctx.lineWidth = Number(brush.value); ctx.lineCap = 'round'; ctx.lineJoin = 'round';
  ctx.beginPath(); ctx.moveTo(a[0], a[1]); ctx.lineTo(b[0], b[1]); ctx.stroke();
}
canvas.addEventListener('pointerdown', (e) => {
  e.preventDefault();
  history.push(ctx.getImageData(0, 0, canvas.width, canvas.height));
  if (history.length > 30) history.shift();
  drawing = true; last = point(e);
  try { canvas.setPointerCapture(e.pointerId); } catch (_) { /* synthetic events have no capture */ }
  stroke(last, last); schedule();
});
canvas.addEventListener('pointermove', (e) => {
  if (!drawing) return;
  const p = point(e); stroke(last, p); last = p; schedule();
});
function end(e) {
  if (!drawing) return;
  drawing = false;
  if (timer) { clearTimeout(timer); }
  const text = send(true);
  // Pen-up: the finished drawing's payload for whoever listens (the class bar shares it: classbar.py).
  element.dispatchEvent(new CustomEvent('ge-pen-up', { bubbles: true, detail: { canvas: 'DATA_ID', payload: text } }));
}
canvas.addEventListener('pointerup', end);
canvas.addEventListener('pointercancel', end);
element.querySelector('.ge-clear').addEventListener('click', () => { history.push(ctx.getImageData(0, 0, canvas.width, canvas.height)); blank(); send(true); });
element.querySelector('.ge-undo').addEventListener('click', () => { if (history.length) { ctx.putImageData(history.pop(), 0, 0); send(true); } });
// A picked example goes onto the Draw canvas (window.geShowOnCanvas(url)), as a stroke would: undo brings back what
// was there, the next stroke goes on the example, and the drawing is sent, so every output shows what the canvas does.
if ('LIVE' === 'draw') window.geShowOnCanvas = (url) => {
  const img = new Image();
  img.onload = () => {
    history.push(ctx.getImageData(0, 0, canvas.width, canvas.height));
    blank(); ctx.imageSmoothingEnabled = true; ctx.drawImage(img, 28, 28, 224, 224); send(true);
  };
  img.src = url;
};
blank();
""" % {"size": SEND_SIZE}


def canvas_js(data_id: str = "ge-canvas-data", live: str = "draw", brush: int = 18) -> str:
    """The canvas's script for one instance: where its drawing goes, which live painter it calls, its brush."""
    return (_CANVAS_JS.replace("DATA_ID", data_id).replace("LIVE", live)
            + f"\nelement.querySelector('.ge-brush').value = {int(brush)};")


CANVAS_JS = canvas_js()

CANVAS_CSS = """
.ge-canvas-wrap { display: flex; flex-direction: column; gap: 6px; align-items: flex-start; }
.ge-canvas { width: 280px; height: 280px; background: #000; border-radius: 6px; touch-action: none; cursor: crosshair; }
.ge-canvas-tools { display: flex; gap: 8px; align-items: center; }
.ge-canvas-tools button { padding: 2px 12px; border-radius: 4px; border: 1px solid var(--border-color-primary); background: var(--button-secondary-background-fill); }
"""
