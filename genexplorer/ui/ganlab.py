"""GAN lab: train a tiny GAN on 1-D or 2-D toy data live in the page (genexplorer.toy, genexplorer.ganlab).

Reset (a Gradio event) makes the page's toy on the server; from then on the page itself asks the
live route /genexplorer/live/lab for frames (play, one D step, one G step) and draws each answer
on two canvases: the lecture's picture of the game and the curves beside it."""
from __future__ import annotations

import gradio as gr

from .. import ganlab, toy
from . import common

DATA_CHOICES = [("a Gaussian (1-D)", "gaussian_1d"), ("two Gaussians (1-D)", "two_gaussians_1d"),
                ("far from the start: disjoint supports (1-D)", "disjoint_1d"), ("a ring of 8 (2-D)", "ring_2d"),
                ("two moons (2-D)", "moons_2d"), ("your own: paint points (2-D)", "drawn_2d")]
LOSS_CHOICES = [("minimax: log(1 - D(G(z)))", "minimax"), ("non-saturating: -log D(G(z))", "nonsaturating"),
                ("WGAN, weight clipping (RMSprop)", "wgan_clip"), ("WGAN-GP, gradient penalty", "wgan_gp")]
FIRST_LESSON = next(iter(toy.PRESETS))

INTRO = """Two small networks play the GAN game on points you can see. **D** (or the WGAN's critic) scores
points; **G** moves its samples, guided only by D's gradient. Pick a lesson, press **Play**, and watch: does G
reach the data? Does D(x) settle at 1/2? Does the gradient vanish? Each frame trains a few steps on the server;
the curves on the right are the whole run."""

LEGEND = """**1-D**: black dots, the data's density; green, the generator's; blue dashes, D(x) (the critic's score,
rescaled, for a WGAN); below, lines from z to G(z). **2-D**: green points are real, purple are G's; the
background is D (green: "real", purple: "fake"; the critic's score for a WGAN); grey lines, the image of a regular
grid of z; arrows, where G's loss pushes each fake point. **Your own data**: pick it, paint points on the
plane (Clear removes them), then Reset."""

LAB_HTML = """
<div class="ge-lab">
  <div class="ge-lab-buttons">
    <button class="ge-lab-play lg secondary">Play</button>
    <button class="ge-lab-dstep lg secondary" title="one discriminator (critic) step">1 D step</button>
    <button class="ge-lab-gstep lg secondary" title="one generator step">1 G step</button>
    <label>speed <input class="ge-lab-speed" type="range" min="1" max="50" value="5"> <span class="ge-lab-speed-value">5</span> G steps per frame</label>
    <button class="ge-lab-clear lg secondary" title="remove the painted points">Clear points</button>
  </div>
  <div class="ge-lab-views">
    <canvas class="ge-lab-main" width="380" height="360"></canvas>
    <canvas class="ge-lab-curves" width="380" height="360"></canvas>
  </div>
  <div class="ge-lab-status">Press Reset (or pick a lesson) to start.</div>
</div>
"""

LAB_CSS = """
.ge-lab-buttons { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; margin-bottom: 6px; }
.ge-lab-buttons button { padding: 4px 14px; border-radius: 6px; border: 1px solid #bbb; background: #f4f4f8; cursor: pointer; }
.ge-lab-views { display: flex; gap: 10px; flex-wrap: wrap; }
.ge-lab-views canvas { border: 1px solid #ccc; border-radius: 6px; background: #fff; max-width: 100%; touch-action: none; }
.ge-lab-status { font-family: monospace; font-size: 13px; margin-top: 6px; min-height: 2.6em; }
"""

# Runs once per page (js_on_load): `element` is this component's DOM node. window.geLab.start(id) begins
# watching a toy; frames are asked for one at a time, at most 20 a second, none while the tab or page is hidden.
LAB_JS = r"""
const main = element.querySelector('canvas.ge-lab-main');
const curves = element.querySelector('canvas.ge-lab-curves');
const status = element.querySelector('.ge-lab-status');
const playButton = element.querySelector('.ge-lab-play');
const speedInput = element.querySelector('.ge-lab-speed');
const routeUrl = new URL('genexplorer/live/lab', window.location.href.split('?')[0].replace(/[^/]*$/, ''));
const GREEN = [40, 150, 70], PURPLE = [130, 60, 170];
const lab = window.geLab = {
  toy: null, playing: false, pending: null, frame: null, bounds: null, points: [], frames: 0, busy: false,
  start(id) {
    if (!id) { this.toy = null; this.frame = null; this.setPlaying(false); drawPlane(null); return; }
    this.toy = id; this.frame = null; this.bounds = null; this.pending = 'look'; this.frames = 0;
    if (!this.busy) this.loop();
  },
  setPlaying(on) { this.playing = on; playButton.textContent = on ? 'Pause' : 'Play'; if (on && !this.busy) this.loop(); },
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
                                        body: JSON.stringify({ toy, action, speed: Number(speedInput.value) }) });
      const data = await r.json();
      if (!r.ok) { status.textContent = data.error || 'stopped'; this.setPlaying(false); this.busy = false; return; }
      if (toy === this.toy) {
        this.frame = data; this.frames += 1;
        draw(data); status.dataset.step = data.step;
        describe(data, performance.now() - started);
        if (data.diverged) this.setPlaying(false);
      }
    } catch (_) { status.textContent = 'the server did not answer'; this.setPlaying(false); this.busy = false; return; }
    this.busy = false;
    setTimeout(() => this.loop(), Math.max(0, 50 - (performance.now() - started)));
  },
};
playButton.addEventListener('click', () => lab.setPlaying(!lab.playing));
element.querySelector('.ge-lab-dstep').addEventListener('click', () => { lab.setPlaying(false); lab.pending = 'd_step'; if (!lab.busy) lab.loop(); });
element.querySelector('.ge-lab-gstep').addEventListener('click', () => { lab.setPlaying(false); lab.pending = 'g_step'; if (!lab.busy) lab.loop(); });
speedInput.addEventListener('input', () => { element.querySelector('.ge-lab-speed-value').textContent = speedInput.value; });
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
  if (e.target.closest && e.target.closest('#ge-lab-data') && dataChoice() === 'drawn_2d' && !lab.playing) { lab.frame = null; drawPlane(null); }
}, true);

// ---- drawing
const ctx = main.getContext('2d'), cctx = curves.getContext('2d');
const rgb = (c, a = 1) => `rgba(${c[0]},${c[1]},${c[2]},${a})`;
function draw(f) { if (f.dim === 1) drawLine(f); else drawPlane(f); drawCurves(f); }
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
  const curve = (ys, y, style, dash, width) => {
    ctx.strokeStyle = style; ctx.setLineDash(dash); ctx.lineWidth = width; ctx.beginPath();
    f.grid.forEach((x, i) => { const p = [X(x), y(ys[i])]; i ? ctx.lineTo(...p) : ctx.moveTo(...p); }); ctx.stroke(); ctx.setLineDash([]); ctx.lineWidth = 1;
  };
  curve(f.real_density, Y, '#111', [2, 4], 2.5);
  curve(f.fake_density, Y, rgb(GREEN), [], 2.5);
  curve(f.d_on_grid, YD, 'rgb(40,90,220)', [8, 5], 2);
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

function boundsFor(f) {
  // The box of the real and fake points: it grows at once when fakes leave it and shrinks back slowly,
  // so the picture neither jumps nor stays zoomed out after an early excursion.
  const xs = f.real.map(p => p[0]).concat(f.fake.map(p => p[0])), ys = f.real.map(p => p[1]).concat(f.fake.map(p => p[1]));
  let [x0, x1] = extent(xs), [y0, y1] = extent(ys);
  const cx = (x0 + x1) / 2, cy = (y0 + y1) / 2, half = Math.max(x1 - x0, y1 - y0) / 2 + 0.4;
  const b = { x0: cx - half, x1: cx + half, y0: cy - half, y1: cy + half };
  const o = lab.bounds;
  if (!o) return b;
  const ease = (old, target, grows) => grows ? target : old + 0.08 * (target - old);
  return { x0: ease(o.x0, b.x0, b.x0 < o.x0), x1: ease(o.x1, b.x1, b.x1 > o.x1),
           y0: ease(o.y0, b.y0, b.y0 < o.y0), y1: ease(o.y1, b.y1, b.y1 > o.y1) };
}

function drawPlane(f) {
  const W = main.width, H = main.height;
  ctx.clearRect(0, 0, W, H);
  if (f) lab.bounds = boundsFor(f);
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
    const dot = (p, colour, size) => { ctx.fillStyle = colour; ctx.beginPath(); ctx.arc(X(p[0]), Y(p[1]), size, 0, 2 * Math.PI); ctx.fill(); };
    f.fake.forEach(p => dot(p, rgb(PURPLE, 0.7), 2.2));
    f.real.forEach(p => dot(p, rgb(GREEN, 0.85), 2.2));   // on top: the target stays visible under the fakes
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

function drawCurves(f) {
  const h = f.history, W = curves.width, H = curves.height;
  cctx.clearRect(0, 0, W, H);
  const panels = [
    ['losses: D (blue), G (orange)', [['d_loss', 'rgb(40,90,220)'], ['g_loss', 'rgb(230,120,20)']], false],
    ['W1(data, G) (exact)', [['w1', 'rgb(20,20,20)']], false],
    ['JS estimate (grey: log 2)', [['js', 'rgb(150,40,40)']], false, Math.log(2)],
    ['|grad of G\'s loss| (log scale)', [['g_grad_norm', 'rgb(40,140,60)']], true],
  ];
  panels.forEach(([title, series, log, line], k) => {
    const px = (k % 2) * W / 2, py = Math.floor(k / 2) * H / 2, w = W / 2, hh = H / 2;
    const L = px + 40, R = px + w - 8, T = py + 22, B = py + hh - 20;
    cctx.fillStyle = '#222'; cctx.font = '12px sans-serif'; cctx.fillText(title, px + 8, py + 14);
    const steps = h.step, s0 = steps[0] || 0, s1 = Math.max(steps[steps.length - 1] || 1, s0 + 1);
    const tr = (v) => log ? Math.log10(Math.max(v, 1e-12)) : v;
    let values = []; series.forEach(([key]) => h[key].forEach(v => { if (v !== null) values.push(tr(v)); }));
    if (line !== undefined) values.push(line);
    if (!values.length) return;
    let [lo, hi] = extent(values); if (hi - lo < 1e-9) { hi += 0.5; lo -= 0.5; }
    const X = (s) => L + (s - s0) / (s1 - s0) * (R - L), Y = (v) => B - (v - lo) / (hi - lo) * (B - T);
    cctx.strokeStyle = '#ccc'; cctx.strokeRect(L, T, R - L, B - T);
    cctx.fillStyle = '#666'; cctx.font = '10px sans-serif';
    const label = (v) => log ? '1e' + v.toFixed(0) : (Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(2));
    cctx.fillText(label(hi), px + 2, T + 8); cctx.fillText(label(lo), px + 2, B);
    cctx.fillText('step ' + s1, R - 50, B + 14);
    if (line !== undefined) { cctx.strokeStyle = '#aaa'; cctx.setLineDash([4, 3]); cctx.beginPath(); cctx.moveTo(L, Y(line)); cctx.lineTo(R, Y(line)); cctx.stroke(); cctx.setLineDash([]); }
    series.forEach(([key, colour]) => {
      cctx.strokeStyle = colour; cctx.lineWidth = 1.5; cctx.beginPath(); let started = false;
      h[key].forEach((v, i) => { if (v === null) return; const p = [X(steps[i]), Y(tr(v))]; started ? cctx.lineTo(...p) : cctx.moveTo(...p); started = true; });
      cctx.stroke(); cctx.lineWidth = 1;
    });
  });
}

function describe(f, ms) {
  const n = (v, d = 3) => v === null || v === undefined ? '-' : Number(v).toPrecision(d);
  let text = `step ${f.step} · k ${f.d_steps} · W1 ${n(f.w1)} · JS ${n(f.js)} · |grad G| ${n(f.g_grad_norm)} · ` +
             `${f.loss.startsWith('wgan') ? 'critic on real' : 'D on real'} ${n(f.d_real)}`;
  if (f.modes) text += ` · modes covered ${f.modes_covered} of ${f.modes}`;
  text += ` · ${f.train_s.toFixed(1)} s training · frame ${ms.toFixed(0)} ms`;
  if (f.diverged) text += '\n' + f.diverged;
  status.textContent = text;
}
"""


PAINT_FIRST = "Paint some points on the plane (click or drag), then press **Reset**."


@common.user_errors
def on_reset(data: str, loss: str, d_steps, lr_d, lr_g, clip, gp_weight, seed, points: str, previous: str | None):
    """A new toy with these settings (the page's previous one is dropped) -> (toy id, message, toy id kept per page).
    The page then asks the live route for frames. Your own data with nothing painted yet: no toy, and a hint."""
    if data == "drawn_2d" and not _has_points(points):
        return "", PAINT_FIRST, previous
    made = ganlab.make_toy(data, loss, d_steps=d_steps, lr_d=lr_d, lr_g=lr_g, clip=clip, gp_weight=gp_weight,
                           seed=seed, points=points)
    held = common.lab_toys.add(made, replaces=previous)
    s = made.settings
    return (held.id, f"New toy: {s.data}, {s.loss} loss, k = {s.d_steps} D steps per G step, learning rates "
                     f"D {s.lr_d:g} / G {s.lr_g:g}. Press **Play**, or step one player at a time.", held.id)


def _has_points(points) -> bool:
    return isinstance(points, str) and points.strip() not in ("", "[]")


@common.user_errors
def on_open(data: str, loss: str, d_steps, lr_d, lr_g, clip, gp_weight, seed, points: str, previous: str | None):
    """The tab opened: the page's toy if it is still there (coming back keeps the game), else a new one."""
    try:
        return common.lab_toys.get(previous).id, gr.update(), previous
    except ganlab.ExploreError:
        return on_reset(data, loss, d_steps, lr_d, lr_g, clip, gp_weight, seed, points, None)


@common.user_errors
def on_lesson(name: str):
    s = ganlab.preset_settings(name)
    return s["data"], s["loss"], s["d_steps"], s["lr_d"], s["lr_g"], s["clip"], s["gp_weight"]


def build(tab: gr.Tab) -> None:
    gr.Markdown(INTRO)
    with gr.Row(equal_height=False):
        with gr.Column(scale=1, min_width=280):
            lesson = gr.Dropdown(list(toy.PRESETS), value=FIRST_LESSON, label="Lesson", elem_id="ge-lab-lesson")
            first = ganlab.preset_settings(FIRST_LESSON)
            data = gr.Radio(DATA_CHOICES, value=first["data"], label="Data", elem_id="ge-lab-data")
            loss = gr.Radio(LOSS_CHOICES, value=first["loss"], label="Loss", elem_id="ge-lab-loss")
            d_steps = gr.Slider(1, 20, value=first["d_steps"], step=1, label="k: D steps per G step", elem_id="ge-lab-k")
            with gr.Row():
                lr_d = gr.Number(first["lr_d"], label="D learning rate", minimum=1e-6, maximum=1, elem_id="ge-lab-lr-d")
                lr_g = gr.Number(first["lr_g"], label="G learning rate", minimum=1e-6, maximum=1, elem_id="ge-lab-lr-g")
            with gr.Row():
                clip = gr.Number(first["clip"], label="WGAN clip value", minimum=1e-4, maximum=10, elem_id="ge-lab-clip")
                gp_weight = gr.Number(first["gp_weight"], label="Gradient penalty weight", minimum=0, maximum=1000,
                                      elem_id="ge-lab-gp")
            seed = gr.Number(0, precision=0, minimum=0, label="Seed", elem_id="ge-lab-seed")
            reset = gr.Button("Reset (new toy with these settings)", variant="primary", elem_id="ge-lab-reset")
            message = gr.Markdown(elem_id="ge-lab-message")
        with gr.Column(scale=3):
            gr.HTML(LAB_HTML, js_on_load=LAB_JS, elem_id="ge-lab", apply_default_css=False, padding=False)
            gr.Markdown(LEGEND)
    points = gr.Textbox(elem_id="ge-lab-points", elem_classes=["ge-hidden"], show_label=False, container=False)
    toy_id = gr.Textbox(elem_id="ge-lab-toy", elem_classes=["ge-hidden"], show_label=False, container=False)
    kept = gr.State(None)

    watch = "(id) => { if (window.geLab) window.geLab.start(id); return []; }"
    settings = [data, loss, d_steps, lr_d, lr_g, clip, gp_weight, seed, points, kept]
    lesson.change(on_lesson, [lesson], [data, loss, d_steps, lr_d, lr_g, clip, gp_weight], api_name="lab_lesson",
                  show_progress="hidden").success(on_reset, settings, [toy_id, message, kept], show_progress="hidden"
                                                  ).success(None, [toy_id], None, js=watch)
    gr.on([reset.click, data.input, loss.input], on_reset, settings, [toy_id, message, kept],
          api_name="lab_reset", show_progress="hidden").success(None, [toy_id], None, js=watch)
    tab.select(on_open, settings, [toy_id, message, kept], show_progress="hidden").success(None, [toy_id], None, js=watch)
