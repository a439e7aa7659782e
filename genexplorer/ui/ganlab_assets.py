"""The toy lab's page: its HTML, CSS and JavaScript (the Python side is ui/ganlab.py).

The page asks the live route /genexplorer/live/lab for one frame at a time (the GAN's, with the diffusion's and the
flow's inside it) and draws it on its own canvases: the GAN's game, the two walks from noise to data, and the curves."""
from __future__ import annotations

import json

from ..toy import PRESET_SAMPLING_STEPS, SAMPLING_STEPS

# The sampling steps the slider offers: fine where few steps change everything, coarse above.
STEP_CHOICES = (1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 60, 80, 100)

LAB_HTML = f"""
<div class="ge-lab">
  <div class="ge-lab-buttons">
    <button class="ge-lab-play lg secondary">Play</button>
    <button class="ge-lab-dstep lg secondary" title="one discriminator (critic) step of the GAN">1 D step</button>
    <button class="ge-lab-gstep lg secondary" title="one generator step of the GAN">1 G step</button>
    <label title="training steps per frame: the GAN's generator steps; the diffusion and the flow take 4 times as many">
      speed <input class="ge-lab-speed" type="range" min="1" max="50" value="5">
      <span class="ge-lab-speed-value">5</span> G steps a frame</label>
    <label title="how many steps the diffusion and the flow take from noise to data (network passes per sample)">
      sampling steps <input class="ge-lab-steps" type="range" min="0" max="{len(STEP_CHOICES) - 1}"
      value="{STEP_CHOICES.index(SAMPLING_STEPS)}"> <span class="ge-lab-steps-value">{SAMPLING_STEPS}</span></label>
    <button class="ge-lab-clear lg secondary" title="remove the painted points">Clear points</button>
  </div>
  <div class="ge-lab-views">
    <div class="ge-lab-panel"><div class="ge-lab-title">GAN</div>
      <canvas class="ge-lab-main" width="340" height="340"></canvas></div>
    <div class="ge-lab-panel"><div class="ge-lab-title">diffusion (DDPM's model, DDIM steps)</div>
      <canvas class="ge-lab-walk" data-kind="diffusion" width="340" height="340"></canvas>
      <div class="ge-lab-note" data-kind="diffusion"></div></div>
    <div class="ge-lab-panel"><div class="ge-lab-title">flow matching (Euler steps)</div>
      <canvas class="ge-lab-walk" data-kind="flow" width="340" height="340"></canvas>
      <div class="ge-lab-note" data-kind="flow"></div></div>
  </div>
  <div class="ge-lab-status">Press Reset (or pick a lesson) to start.</div>
  <div class="ge-lab-views">
    <div class="ge-lab-panel ge-lab-wide"><canvas class="ge-lab-curves" width="460" height="300"></canvas></div>
    <div class="ge-lab-panel ge-lab-wide"><canvas class="ge-lab-walk-curves" width="460" height="300"></canvas></div>
  </div>
</div>
"""

LAB_CSS = """
.ge-lab-buttons { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; margin-bottom: 6px; }
.ge-lab-buttons button { padding: 4px 14px; border-radius: 6px; border: 1px solid #bbb; background: #f4f4f8; cursor: pointer; }
.ge-lab-buttons input[type=range] { vertical-align: middle; width: 90px; }
.ge-lab-views { display: flex; gap: 10px; flex-wrap: wrap; margin-bottom: 6px; }
.ge-lab-panel { flex: 1 1 0; min-width: 240px; max-width: 420px; }
.ge-lab-panel.ge-lab-wide { min-width: 300px; max-width: 560px; }
.ge-lab-title { font-weight: 600; font-size: 14px; margin: 0 0 2px 2px; }
.ge-lab-views canvas { border: 1px solid #ccc; border-radius: 6px; background: #fff; max-width: 100%; touch-action: none; }
.ge-lab-panel canvas { width: 100%; height: auto; display: block; }
.ge-lab-note { font-family: monospace; font-size: 12px; min-height: 2.6em; margin-top: 2px; }
.ge-lab-status { font-family: monospace; font-size: 13px; margin: 2px 0 8px; min-height: 2.6em; }
"""

# Runs once per page (js_on_load): `element` is this component's DOM node. window.geLab.start(id) begins
# watching a toy; frames are asked for one at a time, at most 20 a second, none while the tab or page is hidden.
LAB_JS = r"""
const main = element.querySelector('canvas.ge-lab-main');
const curves = element.querySelector('canvas.ge-lab-curves');
const walkCurves = element.querySelector('canvas.ge-lab-walk-curves');
const status = element.querySelector('.ge-lab-status');
const playButton = element.querySelector('.ge-lab-play');
const speedInput = element.querySelector('.ge-lab-speed');
const stepsInput = element.querySelector('.ge-lab-steps');
const routeUrl = new URL('genexplorer/live/lab', window.location.href.split('?')[0].replace(/[^/]*$/, ''));
const GREEN = [40, 150, 70], PURPLE = [130, 60, 170];
const STEP_CHOICES = __STEP_CHOICES__, LESSON_STEPS = __LESSON_STEPS__, DEFAULT_STEPS = __DEFAULT_STEPS__;
const WALKERS = {};
for (const kind of ['diffusion', 'flow']) {
  WALKERS[kind] = { canvas: element.querySelector(`canvas.ge-lab-walk[data-kind=${kind}]`),
                    note: element.querySelector(`.ge-lab-note[data-kind=${kind}]`), bounds: null,
                    colour: kind === 'diffusion' ? [30, 100, 210] : [225, 110, 20] };
}
const lab = window.geLab = {
  toy: null, playing: false, pending: null, frame: null, bounds: null, points: [], frames: 0, busy: false,
  painted: { diffusion: 0, flow: 0 },        // frames each walk panel has drawn (the browser tests count them)
  start(id) {
    for (const w of Object.values(WALKERS)) w.bounds = null;
    if (!id) { this.toy = null; this.frame = null; this.setPlaying(false); drawPlane(null); clearWalkers(); return; }
    this.toy = id; this.frame = null; this.bounds = null; this.pending = 'look'; this.frames = 0;
    if (!this.busy) this.loop();
  },
  setPlaying(on) { this.playing = on; playButton.textContent = on ? 'Pause' : 'Play'; if (on && !this.busy) this.loop(); },
  steps() { return STEP_CHOICES[Number(stepsInput.value)]; },
  setSteps(n) {   // the slider's stop nearest n
    let best = 0;
    STEP_CHOICES.forEach((v, i) => { if (Math.abs(v - n) < Math.abs(STEP_CHOICES[best] - n)) best = i; });
    stepsInput.value = best; showSteps();
  },
  lesson(name) { this.setSteps(LESSON_STEPS[name] || DEFAULT_STEPS); },
  look() { if (this.toy && !this.playing) { this.pending = 'look'; if (!this.busy) this.loop(); } },
  visible() { return !document.hidden && main.offsetParent !== null; },
  async loop() {
    if (!this.toy) return;
    const action = this.pending || (this.playing ? 'play' : null);
    if (!action) return;                       // paused: nothing to ask; Play or a step starts again
    if (!this.visible()) { setTimeout(() => this.loop(), 300); return; }
    this.busy = true; this.pending = null;
    const toy = this.toy, started = performance.now();
    try {
      const r = await fetch(routeUrl, { method: 'POST', headers: { 'content-type': 'application/json' },
                                        body: JSON.stringify({ toy, action, speed: Number(speedInput.value), steps: this.steps() }) });
      const data = await r.json(), answered = performance.now();
      if (!r.ok) { status.textContent = data.error || 'stopped'; this.setPlaying(false); this.busy = false; return; }
      if (toy === this.toy) {
        this.frame = data; this.frames += 1;
        draw(data); status.dataset.step = data.step;
        this.timing = { answer: answered - started, draw: performance.now() - answered };
        describe(data, performance.now() - started);
        if (data.diverged) this.setPlaying(false);
      }
    } catch (_) { status.textContent = 'the server did not answer'; this.setPlaying(false); this.busy = false; return; }
    this.busy = false;
    setTimeout(() => this.loop(), Math.max(0, 50 - (performance.now() - started)));
  },
};
const showSteps = () => { element.querySelector('.ge-lab-steps-value').textContent = lab.steps(); };
playButton.addEventListener('click', () => lab.setPlaying(!lab.playing));
element.querySelector('.ge-lab-dstep').addEventListener('click', () => { lab.setPlaying(false); lab.pending = 'd_step'; if (!lab.busy) lab.loop(); });
element.querySelector('.ge-lab-gstep').addEventListener('click', () => { lab.setPlaying(false); lab.pending = 'g_step'; if (!lab.busy) lab.loop(); });
speedInput.addEventListener('input', () => { element.querySelector('.ge-lab-speed-value').textContent = speedInput.value; });
stepsInput.addEventListener('input', () => { showSteps(); lab.look(); });   // paused: the walks again, at the new count
document.addEventListener('visibilitychange', () => { if (!document.hidden && lab.playing && !lab.busy) lab.loop(); });

// ---- painting your own 2-D data: the plane shows [-4, 4]^2 until a toy's frame sets its own bounds
const dataChoice = () => { const c = document.querySelector('#ge-lab-data input:checked'); return c ? c.value : ''; };
const pointsBox = () => document.querySelector('#ge-lab-points textarea, #ge-lab-points input');
function storePoints() {
  const box = pointsBox(); if (!box) return;
  const proto = box.tagName === 'TEXTAREA' ? HTMLTextAreaElement.prototype : HTMLInputElement.prototype;
  Object.getOwnPropertyDescriptor(proto, 'value').set.call(box, JSON.stringify(lab.points.map(p => p.map(v => Math.round(v * 1000) / 1000))));
  box.dispatchEvent(new Event('input', { bubbles: true }));
}
let painting = false;
function paintAt(e) {
  const rect = main.getBoundingClientRect();
  const px = (e.clientX - rect.left) * main.width / rect.width, py = (e.clientY - rect.top) * main.height / rect.height;
  const b = paintBounds(), [x, y] = [b.x0 + px / main.width * (b.x1 - b.x0), b.y1 - py / main.height * (b.y1 - b.y0)];
  if (Math.abs(x) > 9.9 || Math.abs(y) > 9.9 || lab.points.length >= 2000) return;
  lab.points.push([x, y]);
  drawPlane(null);
}
const paintBounds = () => (lab.frame && lab.frame.dim === 2 && lab.bounds) ? lab.bounds : { x0: -4, x1: 4, y0: -4, y1: 4 };
main.addEventListener('pointerdown', (e) => { if (dataChoice() !== 'drawn_2d') return; painting = true; main.setPointerCapture(e.pointerId); lab.frame = null; paintAt(e); });
main.addEventListener('pointermove', (e) => { if (painting) paintAt(e); });
main.addEventListener('pointerup', () => { if (painting) { painting = false; storePoints(); } });
element.querySelector('.ge-lab-clear').addEventListener('click', () => { lab.points = []; storePoints(); if (dataChoice() === 'drawn_2d') { lab.frame = null; drawPlane(null); } });
document.addEventListener('change', (e) => {
  if (e.target.closest && e.target.closest('#ge-lab-data') && dataChoice() === 'drawn_2d' && !lab.playing) { lab.frame = null; drawPlane(null); clearWalkers(); }
}, true);

// ---- drawing
const ctx = main.getContext('2d'), cctx = curves.getContext('2d');
const rgb = (c, a = 1) => `rgba(${c[0]},${c[1]},${c[2]},${a})`;
// The curves fit the box they are shown in: in the presenter view a short, wide strip below the game (so the game
// and its curves are both in view at 1280x720), drawn at the strip's own pixels so that its words keep their size.
const CURVE_PIXELS = new Map([curves, walkCurves].map((c) => [c, [c.width, c.height]]));   // the HTML's own size
function fitCurves() {
  const present = document.body.classList.contains('ge-present');
  for (const [c, own] of CURVE_PIXELS) {
    const [w, h] = present ? [Math.round(c.clientWidth), Math.round(c.clientHeight)] : own;
    if (w > 0 && h > 0 && (c.width !== w || c.height !== h)) { c.width = w; c.height = h; }
  }
}
window.addEventListener('resize', () => { fitCurves(); if (lab.frame) { drawCurves(lab.frame); drawWalkCurves(lab.frame); } });
function draw(f) {
  fitCurves();
  if (f.dim === 1) drawLine(f); else drawPlane(f);
  drawCurves(f);
  for (const [kind, w] of Object.entries(WALKERS)) {
    if (f.walkers && f.walkers[kind]) { drawWalker(w, f.walkers[kind], f); lab.painted[kind] += 1; }
  }
  drawWalkCurves(f);
}
function extent(values) { let lo = Infinity, hi = -Infinity; for (const v of values) { if (v < lo) lo = v; if (v > hi) hi = v; } return [lo, hi]; }

function drawLine(f) {
  const W = main.width, H = main.height, top = 20, base = Math.round(H * 0.68);
  ctx.clearRect(0, 0, W, H);
  const x0 = f.grid[0], x1 = f.grid[f.grid.length - 1];
  const X = (x) => 20 + (x - x0) / (x1 - x0) * (W - 40);
  const densityTop = Math.max(...f.real_density, ...f.fake_density, 0.05);
  const Y = (v) => base - v / densityTop * (base - top) * 0.9;
  // D(x) in [0, 1]; a WGAN critic's score rescaled to its range on the grid
  let [dlo, dhi] = f.loss.startsWith('wgan') ? extent(f.d_on_grid) : [0, 1];
  if (dhi - dlo < 1e-6) dhi = dlo + 1e-6;
  const YD = (v) => base - (v - dlo) / (dhi - dlo) * (base - top) * 0.9;
  ctx.strokeStyle = '#ddd'; ctx.beginPath(); ctx.moveTo(20, YD(0.5 * (dlo + dhi))); ctx.lineTo(W - 20, YD(0.5 * (dlo + dhi))); ctx.stroke();
  densityCurve(ctx, f.grid, f.real_density, X, Y, '#111', [2, 4]);
  densityCurve(ctx, f.grid, f.fake_density, X, Y, rgb(GREEN), []);
  densityCurve(ctx, f.grid, f.d_on_grid, X, YD, 'rgb(40,90,220)', [8, 5], 2);
  // the x axis, the z axis below it, and lines from each z to G(z)
  const xAxis = base + 10, zAxis = H - 22;
  ctx.strokeStyle = '#444'; ctx.beginPath(); ctx.moveTo(20, xAxis); ctx.lineTo(W - 20, xAxis); ctx.moveTo(20, zAxis); ctx.lineTo(W - 20, zAxis); ctx.stroke();
  ctx.fillStyle = '#444'; ctx.font = '12px sans-serif';
  ctx.fillText('x', W - 14, xAxis + 4); ctx.fillText('z', W - 14, zAxis + 4);
  for (let t = Math.ceil(x0); t <= x1; t++) { ctx.fillText(String(t), X(t) - 3, xAxis + 14); }
  if (f.z) {
    const Z = (z) => 20 + (z + 2.5) / 5 * (W - 40);
    ctx.strokeStyle = rgb(GREEN, 0.6);
    f.z.forEach((z, i) => { ctx.beginPath(); ctx.moveTo(Z(z), zAxis); ctx.lineTo(X(Math.min(x1, Math.max(x0, f.g_of_z[i]))), xAxis); ctx.stroke(); });
  }
  ctx.fillStyle = '#111'; ctx.fillText(f.loss.startsWith('wgan') ? 'critic C(x), rescaled (blue)' : 'D(x) (blue), 1/2 grey', 24, 14);
}

function densityCurve(g, grid, ys, X, Y, style, dash, width = 2.5) {
  g.strokeStyle = style; g.setLineDash(dash); g.lineWidth = width; g.beginPath();
  grid.forEach((x, i) => { const p = [X(x), Y(ys[i])]; i ? g.lineTo(...p) : g.moveTo(...p); }); g.stroke(); g.setLineDash([]); g.lineWidth = 1;
}

function easeBounds(old, points) {
  // The square box of the points: it grows at once when points leave it and shrinks back slowly,
  // so the picture neither jumps nor stays zoomed out after an early excursion.
  let [x0, x1] = extent(points.map(p => p[0])), [y0, y1] = extent(points.map(p => p[1]));
  const cx = (x0 + x1) / 2, cy = (y0 + y1) / 2, half = Math.max(x1 - x0, y1 - y0) / 2 + 0.4;
  const b = { x0: cx - half, x1: cx + half, y0: cy - half, y1: cy + half };
  if (!old) return b;
  const ease = (was, target, grows) => grows ? target : was + 0.08 * (target - was);
  return { x0: ease(old.x0, b.x0, b.x0 < old.x0), x1: ease(old.x1, b.x1, b.x1 > old.x1),
           y0: ease(old.y0, b.y0, b.y0 < old.y0), y1: ease(old.y1, b.y1, b.y1 > old.y1) };
}

function drawPlane(f) {
  const W = main.width, H = main.height;
  ctx.clearRect(0, 0, W, H);
  if (f) lab.bounds = easeBounds(lab.bounds, f.real.concat(f.fake));
  const b = paintBounds();
  const X = (x) => (x - b.x0) / (b.x1 - b.x0) * W, Y = (y) => H - (y - b.y0) / (b.y1 - b.y0) * H;
  if (f) {
    // D's heat map: purple where it says fake, green where it says real (a WGAN critic's score, rescaled)
    const n = f.plane_x.length, m = f.plane_y.length, values = f.d_on_plane.flat();
    let [lo, hi] = f.loss.startsWith('wgan') ? extent(values) : [0, 1];
    if (hi - lo < 1e-6) hi = lo + 1e-6;
    const small = document.createElement('canvas'); small.width = n; small.height = m;
    const sctx = small.getContext('2d'), img = sctx.createImageData(n, m);
    for (let j = 0; j < m; j++) for (let i = 0; i < n; i++) {
      const t = (f.d_on_plane[j][i] - lo) / (hi - lo), k = 4 * ((m - 1 - j) * n + i);
      for (let c = 0; c < 3; c++) img.data[k + c] = 255 - (255 - (t * GREEN[c] + (1 - t) * PURPLE[c])) * 0.45;
      img.data[k + 3] = 255;
    }
    sctx.putImageData(img, 0, 0);
    ctx.imageSmoothingEnabled = true;
    const dx = (f.plane_x[n - 1] - f.plane_x[0]) / (n - 1), dy = (f.plane_y[m - 1] - f.plane_y[0]) / (m - 1);
    ctx.drawImage(small, X(f.plane_x[0] - dx / 2), Y(f.plane_y[m - 1] + dy / 2),
                  X(f.plane_x[n - 1] + dx / 2) - X(f.plane_x[0] - dx / 2), Y(f.plane_y[0] - dy / 2) - Y(f.plane_y[m - 1] + dy / 2));
    if (f.z_grid_image) {    // the generator's warped grid
      ctx.strokeStyle = 'rgba(90,90,90,0.45)';
      const g = f.z_grid_image;
      for (let r = 0; r < g.length; r++) { ctx.beginPath(); g[r].forEach((p, c) => c ? ctx.lineTo(X(p[0]), Y(p[1])) : ctx.moveTo(X(p[0]), Y(p[1]))); ctx.stroke(); }
      for (let c = 0; c < g[0].length; c++) { ctx.beginPath(); g.forEach((row, r) => r ? ctx.lineTo(X(row[c][0]), Y(row[c][1])) : ctx.moveTo(X(row[c][0]), Y(row[c][1]))); ctx.stroke(); }
    }
    f.fake.forEach(p => dot(ctx, X(p[0]), Y(p[1]), rgb(PURPLE, 0.7), 2.2));
    f.real.forEach(p => dot(ctx, X(p[0]), Y(p[1]), rgb(GREEN, 0.85), 2.2));   // on top: the target stays visible under the fakes
    // arrows: minus G's loss gradient at fake points, the longest drawn 1/10 of the view
    const longest = Math.max(1e-12, ...f.arrows.map(a => Math.hypot(a[0], a[1])));
    const scale = 0.1 * (b.x1 - b.x0) / longest;
    ctx.strokeStyle = 'rgba(20,20,20,0.8)';
    f.arrows_from.forEach((p, i) => {
      const q = [p[0] + f.arrows[i][0] * scale, p[1] + f.arrows[i][1] * scale];
      ctx.beginPath(); ctx.moveTo(X(p[0]), Y(p[1])); ctx.lineTo(X(q[0]), Y(q[1])); ctx.stroke();
      const angle = Math.atan2(Y(q[1]) - Y(p[1]), X(q[0]) - X(p[0]));
      ctx.beginPath(); ctx.moveTo(X(q[0]), Y(q[1]));
      ctx.lineTo(X(q[0]) - 5 * Math.cos(angle - 0.5), Y(q[1]) - 5 * Math.sin(angle - 0.5));
      ctx.moveTo(X(q[0]), Y(q[1])); ctx.lineTo(X(q[0]) - 5 * Math.cos(angle + 0.5), Y(q[1]) - 5 * Math.sin(angle + 0.5)); ctx.stroke();
    });
  } else {
    ctx.fillStyle = '#888'; ctx.font = '13px sans-serif';
    ctx.fillText(dataChoice() === 'drawn_2d' ? `paint points here (${lab.points.length} so far), then press Reset` : '', 12, 18);
  }
  if (!f || f.data === 'drawn_2d') {
    ctx.fillStyle = 'rgba(0,0,0,0.55)';
    lab.points.forEach(p => { ctx.beginPath(); ctx.arc(X(p[0]), Y(p[1]), 1.6, 0, 2 * Math.PI); ctx.fill(); });
  }
}
function dot(g, x, y, colour, size) { g.fillStyle = colour; g.beginPath(); g.arc(x, y, size, 0, 2 * Math.PI); g.fill(); }

// ---- the diffusion's and the flow's walks: 2-D, the plane with each walk from its noise (grey ring) to its
// sample (filled); 1-D, the densities above and below them the walks against t, noise (t = 1) at the bottom.
function clearWalkers() {
  for (const w of Object.values(WALKERS)) { w.canvas.getContext('2d').clearRect(0, 0, w.canvas.width, w.canvas.height); w.note.textContent = ''; }
}
function drawWalker(w, wf, f) {
  const g = w.canvas.getContext('2d'), W = w.canvas.width, H = w.canvas.height;
  g.clearRect(0, 0, W, H);
  if (wf.dim === 1) drawWalker1d(g, W, H, w, wf); else drawWalker2d(g, W, H, w, wf, f);
  const n = (v, d = 3) => v === null || v === undefined ? '-' : Number(v).toPrecision(d);
  let text = `step ${wf.step} · loss ${n(wf.loss)} · W1 ${n(wf.w1)}`;
  if (wf.modes) text += ` · modes ${wf.modes_covered} of ${wf.modes}`;
  text += ` · bending ${n(wf.bending, 2)} · ${wf.steps} network passes a sample`;
  if (wf.diverged) text += '\n' + wf.diverged;
  w.note.textContent = text; w.note.dataset.step = wf.step;
}
function drawWalker2d(g, W, H, w, wf, f) {
  w.bounds = easeBounds(w.bounds, f.real.concat(wf.fake, ...wf.paths));
  const b = w.bounds, X = (x) => (x - b.x0) / (b.x1 - b.x0) * W, Y = (y) => H - (y - b.y0) / (b.y1 - b.y0) * H;
  f.real.forEach(p => dot(g, X(p[0]), Y(p[1]), rgb(GREEN, 0.55), 2.2));
  wf.fake.forEach(p => dot(g, X(p[0]), Y(p[1]), rgb(w.colour, 0.5), 2.2));
  walkLines(g, w, wf.paths.map(path => path.map(p => [X(p[0]), Y(p[1])])));
  g.fillStyle = '#333'; g.font = '12px sans-serif';
  g.fillText(`green: data · colour: ${wf.steps}-step samples · lines: ${wf.paths.length} walks`, 8, 14);
}
function drawWalker1d(g, W, H, w, wf) {
  const top = 20, base = Math.round(H * 0.36), tTop = base + 18, tBottom = H - 30;
  const x0 = wf.grid[0], x1 = wf.grid[wf.grid.length - 1];
  const X = (x) => 20 + (x - x0) / (x1 - x0) * (W - 40);
  const densityTop = Math.max(...wf.real_density, ...wf.fake_density, 0.05);
  const Y = (v) => base - v / densityTop * (base - top) * 0.95;
  densityCurve(g, wf.grid, wf.real_density, X, Y, '#111', [2, 4]);
  densityCurve(g, wf.grid, wf.fake_density, X, Y, rgb(w.colour), []);
  const T = (t) => tTop + t * (tBottom - tTop);     // t = 0 (the data) at the top, t = 1 (the noise) at the bottom
  g.strokeStyle = '#bbb'; g.beginPath(); g.moveTo(20, T(0)); g.lineTo(W - 20, T(0)); g.moveTo(20, T(1)); g.lineTo(W - 20, T(1)); g.stroke();
  const steps = wf.paths[0].length - 1;
  walkLines(g, w, wf.paths.map(path => path.map((p, k) => [X(p[0]), T(1 - k / steps)])));
  g.fillStyle = '#444'; g.font = '12px sans-serif';
  g.fillText('t = 0: data', 22, T(0) - 4); g.fillText('t = 1: noise', 22, T(1) + 14);
  for (let t = Math.ceil(x0); t <= x1; t++) g.fillText(String(t), X(t) - 3, H - 4);
  g.fillText('data (dots) and samples', 22, 14);
}
function walkLines(g, w, walks) {   // walks: canvas points, from the noise to the sample
  g.lineWidth = 1.4; g.strokeStyle = rgb(w.colour, 0.85);
  walks.forEach(q => { g.beginPath(); q.forEach((p, k) => k ? g.lineTo(...p) : g.moveTo(...p)); g.stroke(); });
  g.lineWidth = 1.2; g.strokeStyle = '#777';
  walks.forEach(q => { g.beginPath(); g.arc(...q[0], 3, 0, 2 * Math.PI); g.stroke(); });
  walks.forEach(q => { dot(g, ...q[q.length - 1], '#222', 3.6); dot(g, ...q[q.length - 1], rgb(w.colour), 2.6); });
  g.lineWidth = 1;
}

function plotPanel(g, box, title, series, { log = false, line, footer } = {}) {
  // series: [[steps, values, colour]]; each series runs over its own steps, the whole width.
  // a short panel (the presenter view's strip) leaves out the footer: the status line says the step
  const [px, py, w, hh] = box, compact = hh < 110;
  const L = px + 40, R = px + w - 8, T = py + (compact ? 18 : 22), B = py + hh - (compact ? 6 : 20);
  if (compact) footer = undefined;
  g.fillStyle = '#222'; g.font = '12px sans-serif'; g.fillText(title, px + 8, py + 14);
  const tr = (v) => log ? Math.log10(Math.max(v, 1e-12)) : v;
  const values = [];
  series.forEach(([, ys]) => ys.forEach(v => { if (v !== null) values.push(tr(v)); }));
  if (line !== undefined) values.push(line);
  if (!values.length) return;
  let [lo, hi] = extent(values); if (hi - lo < 1e-9) { hi += 0.5; lo -= 0.5; }
  const Y = (v) => B - (v - lo) / (hi - lo) * (B - T);
  g.strokeStyle = '#ccc'; g.strokeRect(L, T, R - L, B - T);
  g.fillStyle = '#666'; g.font = '10px sans-serif';
  const label = (v) => log ? '1e' + v.toFixed(0) : (Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(2));
  g.fillText(label(hi), px + 2, T + 8); g.fillText(label(lo), px + 2, B);
  if (footer) g.fillText(footer, L, B + 14);
  if (line !== undefined) { g.strokeStyle = '#aaa'; g.setLineDash([4, 3]); g.beginPath(); g.moveTo(L, Y(line)); g.lineTo(R, Y(line)); g.stroke(); g.setLineDash([]); }
  series.forEach(([steps, ys, colour]) => {
    const s0 = steps[0] || 0, s1 = Math.max(steps[steps.length - 1] || 1, s0 + 1);
    const X = (s) => L + (s - s0) / (s1 - s0) * (R - L);
    g.strokeStyle = colour; g.lineWidth = 1.5; g.beginPath(); let started = false;
    ys.forEach((v, i) => { if (v === null) return; const p = [X(steps[i]), Y(tr(v))]; started ? g.lineTo(...p) : g.moveTo(...p); started = true; });
    g.stroke(); g.lineWidth = 1;
  });
}

function drawCurves(f) {
  const h = f.history, W = curves.width, H = curves.height;
  cctx.clearRect(0, 0, W, H);
  const last = `step ${h.step[h.step.length - 1]}`;
  const panels = [
    ['GAN losses: D (blue), G (orange)', [['d_loss', 'rgb(40,90,220)'], ['g_loss', 'rgb(230,120,20)']], {}],
    ['GAN: W1(data, G) (exact)', [['w1', 'rgb(20,20,20)']], {}],
    ['GAN: JS estimate (grey: log 2)', [['js', 'rgb(150,40,40)']], { line: Math.log(2) }],
    ['|grad of G\'s loss| (log scale)', [['g_grad_norm', 'rgb(40,140,60)']], { log: true }],
  ];
  panels.forEach(([title, series, options], k) => plotPanel(cctx, [(k % 2) * W / 2, Math.floor(k / 2) * H / 2, W / 2, H / 2], title,
    series.map(([key, colour]) => [h.step, h[key], colour]), { ...options, footer: last }));
}

function drawWalkCurves(f) {
  const g = walkCurves.getContext('2d'), W = walkCurves.width, H = walkCurves.height;
  g.clearRect(0, 0, W, H);
  const d = f.walkers && f.walkers.diffusion, fl = f.walkers && f.walkers.flow;
  if (!d || !fl) return;
  const blue = rgb(WALKERS.diffusion.colour), orange = rgb(WALKERS.flow.colour);
  const last = (h) => h.step[h.step.length - 1];
  plotPanel(g, [0, 0, W, H / 2], 'training loss: diffusion (blue, noise MSE), flow (orange, velocity MSE)',
            [[d.history.step, d.history.loss, blue], [fl.history.step, fl.history.loss, orange]],
            { footer: `steps: diffusion ${last(d.history)}, flow ${last(fl.history)}` });
  plotPanel(g, [0, H / 2, W, H / 2], 'W1 to the data: GAN (purple), diffusion (blue), flow (orange)',
            [[f.history.step, f.history.w1, rgb(PURPLE)], [d.history.step, d.history.w1, blue], [fl.history.step, fl.history.w1, orange]],
            { footer: `each over its own steps (GAN ${last(f.history)} G steps)` });
}

function describe(f, ms) {
  const n = (v, d = 3) => v === null || v === undefined ? '-' : Number(v).toPrecision(d);
  let text = `GAN: step ${f.step} · k ${f.d_steps} · W1 ${n(f.w1)} · JS ${n(f.js)} · |grad G| ${n(f.g_grad_norm)} · ` +
             `${f.loss.startsWith('wgan') ? 'critic on real' : 'D on real'} ${n(f.d_real)}`;
  if (f.modes) text += ` · modes covered ${f.modes_covered} of ${f.modes}`;
  text += ` · ${f.train_s.toFixed(1)} s training (all three) · frame ${ms.toFixed(0)} ms`;
  if (f.diverged) text += '\n' + f.diverged;
  status.textContent = text;
}
""".replace("__STEP_CHOICES__", json.dumps(STEP_CHOICES)).replace(
    "__LESSON_STEPS__", json.dumps(PRESET_SAMPLING_STEPS)).replace("__DEFAULT_STEPS__", str(SAMPLING_STEPS))
