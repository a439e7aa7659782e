"""Class mode's Class tab: the teacher's board (issue 23).

Plain HTML driven by ``BOARD_JS`` (run when the tab is first shown) over ``window.geClass`` (classbar.py), talking to
the class JSON API (``class_routes.py``, README "The class API"): start a class, its code, join link and QR code, and
the board polled while the tab is shown: the students' latest drawings, the ranking under a challenge, the spotlight
with each model's reconstruction, moderation, follow me, end and export. The only Gradio event is the board's map,
drawn by the Latent map tab's own plotting (``maps.figure``).
"""
from __future__ import annotations

import html
import json

import gradio as gr
import plotly.graph_objects as go

from ..classmode import ClassError
from . import class_routes, common, maps
from .classbar import RETRY_MS, fill_in

# The teacher's board asks for the board as a long poll while the Class tab is shown: the app answers when a drawing
# comes (or anything else on the board changes) or after BOARD_WAIT_S (ui/class_routes.py). A board costs the app
# ~8 ms of CPU with 60 students, so the page asks again BOARD_GAP_MS after an answer, taking a burst in one board.
BOARD_WAIT_S = 20
BOARD_GAP_MS = 150
BOARD_POLL_MS = 700      # a page that cannot hold a long poll (another tab of its browser holds one) asks this often
MAP_MIN_MS = 3000        # the map (a Gradio event drawing ~3000 points, ~0.4 s) is redrawn at most this often
LOCAL_HOSTS = ("127.0.0.1", "localhost", "[::1]", "::1")

BOARD_HTML = """
<div class="ge-cl">
  <div class="ge-cl-start">
    <h3>Start a class</h3>
    <p>Your students join from their own devices with a short code or a QR code. Each drawing they make on the
    Draw tab comes to this board when they lift the pen: what the classifier reads, its place on the latent map,
    and a score when you set a challenge. <b>Follow me</b> brings every student's page to your tab, dataset,
    sliders and GAN lab lesson.</p>
    <label>Dataset of the class <select class="ge-cl-dataset"></select></label>
    <button type="button" class="ge-cl-go lg primary">Start a class</button>
    <div class="ge-cl-error" role="alert"></div>
  </div>
  <div class="ge-cl-live" hidden></div>
</div>
"""

# Runs once, when the Class tab is first shown (its js_on_load): the teacher's board over window.geClass.
BOARD_JS = r"""
const BOARD_MS = %BOARD_MS%, RETRY_MS = %RETRY_MS%, MAP_MIN_MS = %MAP_MIN_MS%;
const BOARD_WAIT_S = %BOARD_WAIT_S%, BOARD_GAP_MS = %BOARD_GAP_MS%;
const longPoll = { held: false };
const LOCAL_HOSTS = %LOCAL_HOSTS%;
const DATASETS = %DATASETS%;
const root = element.querySelector('.ge-cl');
const startBox = root.querySelector('.ge-cl-start'), live = root.querySelector('.ge-cl-live');
const tiles = new Map();
let board = null, mapKey = '', mapAsked = 0, spotRebuilt = null, polling = false;

const select = root.querySelector('.ge-cl-dataset');
for (const [label, value] of DATASETS) select.add(new Option(label, value));

live.innerHTML = `
  <div class="ge-cl-top">
    <div class="ge-cl-invite">
      <button type="button" class="ge-cl-qr-button" title="show the QR code big, to project it">
        <img class="ge-cl-qr" alt="QR code of the join link"></button>
      <div class="ge-cl-invite-text">
        <div>Class code <b class="ge-cl-code"></b></div>
        <a class="ge-cl-link" target="_blank" rel="noopener"></a>
        <div class="ge-cl-warn" hidden></div>
        <div class="ge-cl-count"></div>
      </div>
    </div>
    <div class="ge-cl-tools">
      <label class="ge-cl-follow"><input type="checkbox"> <b>Follow me</b>: students' pages show my tab, dataset,
        sliders and GAN lab lesson</label>
      <div class="ge-cl-challenge">
        <select class="ge-cl-kind" aria-label="challenge">
          <option value="read_as">Draw something read as</option>
          <option value="fool">Fool the classifier: draw a</option>
          <option value="rebuild">Draw something the VAE rebuilds</option>
          <option value="empty_map">Land on an empty part of the map</option>
        </select>
        <select class="ge-cl-drawn" aria-label="the class to draw"></select><span class="ge-cl-readas">read as</span>
        <select class="ge-cl-target" aria-label="the class it should be read as"></select>
        <select class="ge-cl-goal" aria-label="worst or best">
          <option value="worst">worst</option><option value="best">best</option></select>
        <button type="button" class="ge-cl-set">Set challenge</button>
        <button type="button" class="ge-cl-clear">Clear</button>
      </div>
      <div class="ge-cl-prompt"></div>
      <div class="ge-cl-actions">
        <button type="button" class="ge-cl-export" data-what="zip">Download the class (.zip)</button>
        <button type="button" class="ge-cl-export" data-what="csv">CSV</button>
        <button type="button" class="ge-cl-export" data-what="board">Board (.png)</button>
        <button type="button" class="ge-cl-end">End the class</button>
        <button type="button" class="ge-cl-new" hidden>Start a new class</button>
      </div>
      <div class="ge-cl-status" role="status"></div>
    </div>
  </div>
  <div class="ge-cl-main">
    <div class="ge-cl-grid" aria-label="the students' latest drawings"></div>
    <div class="ge-cl-side">
      <div class="ge-cl-ranking" hidden><b>Ranking</b><ol></ol></div>
      <div class="ge-cl-spot" hidden>
        <img class="ge-cl-spot-img" alt="the spotlighted drawing">
        <div class="ge-cl-spot-text"></div>
        <div class="ge-cl-spot-buttons">
          <button type="button" class="ge-cl-rebuild">Each model's reconstruction</button>
          <button type="button" class="ge-cl-unspot">Stop the spotlight</button>
        </div>
        <div class="ge-cl-rebuilt"></div>
      </div>
    </div>
  </div>
  <div class="ge-cl-big" hidden role="dialog" aria-label="join the class">
    <img class="ge-cl-big-qr" alt="QR code of the join link">
    <div class="ge-cl-big-code"></div><div class="ge-cl-big-link"></div>
    <div class="ge-cl-big-hint">click anywhere to close</div>
  </div>`;

const $ = (selector) => root.querySelector(selector);
function whenReady(then) { if (window.geClass) then(); else setTimeout(() => whenReady(then), 50); }
function status(text, kind = '') { const node = $('.ge-cl-status'); node.textContent = text; node.dataset.kind = kind; }
const C = () => window.geClass;
const token = () => C().teacher.token, code = () => C().teacher.code;

async function start() {
  $('.ge-cl-go').disabled = true;
  const r = await C().api('start', { body: { dataset: select.value } });
  $('.ge-cl-go').disabled = false;
  if (!r.ok) { root.querySelector('.ge-cl-error').textContent = r.error; return; }
  C().teacher.begin(r.data.code, r.data.teacher_token);
  open();
}

function open() {
  board = null; tiles.clear(); $('.ge-cl-grid').innerHTML = ''; mapKey = ''; spotRebuilt = null;
  const hasClass = !!(code() && token());
  startBox.hidden = hasClass; live.hidden = !hasClass;
  if (!hasClass) return;
  $('.ge-cl-code').textContent = code();
  invite();
  if (!polling) { polling = true; poll(); }
}

async function invite() {
  const r = await C().api('invite', { query: { code: code(), address: C().base }, teacher: token() });
  if (!r.ok) { if (!transient(r)) status(r.error, 'error'); else setTimeout(invite, RETRY_MS); return; }
  for (const img of root.querySelectorAll('.ge-cl-qr, .ge-cl-big-qr')) img.src = r.data.qr;
  const link = $('.ge-cl-link');
  link.href = r.data.link; link.textContent = r.data.link;
  $('.ge-cl-big-code').textContent = r.data.code; $('.ge-cl-big-link').textContent = r.data.link;
  const local = LOCAL_HOSTS.includes(window.location.hostname);
  const warn = $('.ge-cl-warn');
  warn.hidden = !local;
  if (local) {
    warn.innerHTML = `<b>Students cannot reach ${window.location.hostname}</b>: it is this computer itself. ` +
      `Start the app with <code>python app.py --host 0.0.0.0</code> (add <code>--auth user:password</code> for a ` +
      `password), open it here at this computer's network address (such as http://192.168.1.20:7860) and start again.`;
  }
}
const transient = (r) => C().transient(r);

async function poll() {
  if (!code()) { polling = false; return; }
  if (!longPoll.claimed) { longPoll.claimed = true; C().claimLongPoll('ge-class-board', longPoll); }
  let wait = longPoll.held ? BOARD_GAP_MS : BOARD_MS;
  if (element.offsetParent !== null) {   // only while the Class tab is shown
    const asked = code(), query = { code: asked };
    if (longPoll.held && board && board.code === asked) { query.since = board.version; query.wait = BOARD_WAIT_S; }
    const r = await C().api('board', { query, teacher: token() });
    if (code() !== asked) { setTimeout(poll, 0); return; }   // a new class started while this one's board waited
    if (r.ok) { if ($('.ge-cl-status').dataset.kind === 'offline') status(''); render(r.data); }
    else if (transient(r)) { status('reconnecting...', 'offline'); wait = RETRY_MS; }
    else if (r.status === 403 || r.status === 404) { C().teacher.forget(); polling = false; open();
      root.querySelector('.ge-cl-error').textContent = r.error; return; }
    else { status(r.error, 'error'); wait = RETRY_MS; }
  }
  setTimeout(poll, wait);
}

function reading(drawing) { return `reads ${drawing.label} (${Math.round(100 * drawing.probability)}%)`; }

function render(data) {
  board = data;
  const drawings = data.students.reduce((n, s) => n + s.drawings, 0);
  const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;
  $('.ge-cl-count').textContent = `${plural(data.total, 'student')} · ${plural(drawings, 'drawing')}`
    + (data.ended ? ' · the class has ended' : '') + (data.note ? ` · ${data.note}` : '');
  root.classList.toggle('ge-cl-ended', !!data.ended);
  $('.ge-cl-end').hidden = !!data.ended; $('.ge-cl-new').hidden = !data.ended;
  $('.ge-cl-follow input').checked = C().teacher.following && !data.ended;
  $('.ge-cl-follow input').disabled = !!data.ended;
  classChoices(data.class_names);
  $('.ge-cl-prompt').textContent = data.challenge ? `Challenge: ${data.challenge.prompt}` : 'No challenge set.';
  showChallenge(data.challenge);
  renderTiles(data);
  renderRanking(data);
  renderSpot(data.spotlight);
  askMap(data);
}

function renderTiles(data) {
  const grid = $('.ge-cl-grid');
  const seen = new Set();
  for (const student of data.students) {
    seen.add(student.id);
    let tile = tiles.get(student.id);
    if (!tile) {
      tile = document.createElement('div');
      tile.className = 'ge-cl-tile';
      tile.innerHTML = `<button type="button" class="ge-cl-pic" title="spotlight this drawing"><img alt=""></button>
        <div class="ge-cl-name"></div><div class="ge-cl-read"></div><div class="ge-cl-score"></div>
        <button type="button" class="ge-cl-remove" title="remove this drawing (moderation)"
          aria-label="remove this drawing">✕</button>`;
      tile.querySelector('.ge-cl-pic').addEventListener('click', () => spotlight(Number(tile.dataset.drawing) || null));
      tile.querySelector('.ge-cl-remove').addEventListener('click', () => remove(Number(tile.dataset.drawing), tile));
      tiles.set(student.id, tile);
      grid.appendChild(tile);
    }
    const latest = student.latest;
    const key = JSON.stringify([latest && latest.id, student.name, student.paused, student.best]);
    if (tile.dataset.key === key) continue;
    tile.dataset.key = key;
    tile.dataset.shown = Date.now();   // when this tile last changed (tests and benches measure to here)
    tile.dataset.drawing = latest ? latest.id : '';
    tile.classList.toggle('ge-cl-empty', !latest);
    const img = tile.querySelector('img');
    if (latest) { img.src = latest.image; img.alt = `${student.name}'s drawing`; } else { img.removeAttribute('src'); }
    tile.querySelector('.ge-cl-name').innerHTML = student.name + (student.paused ? ' <i>(paused)</i>' : '');
    tile.querySelector('.ge-cl-read').textContent = latest ? reading(latest) : 'no drawing yet';
    tile.querySelector('.ge-cl-score').textContent = student.best ? `best ${student.best.score.toFixed(3)}` : '';
    tile.querySelector('.ge-cl-remove').hidden = !latest;
  }
  for (const [id, tile] of tiles) if (!seen.has(id)) { tile.remove(); tiles.delete(id); }
}

function renderRanking(data) {
  const box = $('.ge-cl-ranking');
  box.hidden = !data.challenge;
  const list = box.querySelector('ol');
  list.innerHTML = '';
  for (const row of data.ranking.slice(0, 10)) {
    const item = document.createElement('li');
    item.innerHTML = '<span class="ge-cl-rank-name"></span> <span class="ge-cl-rank-score"></span>';
    item.querySelector('.ge-cl-rank-name').innerHTML = row.name;   // escaped by the app
    item.querySelector('.ge-cl-rank-score').textContent = row.score.toFixed(3);
    list.appendChild(item);
  }
  if (!data.ranking.length) list.innerHTML = '<li class="ge-cl-none">no score yet: the class draws</li>';
}

function renderSpot(spot) {
  const box = $('.ge-cl-spot');
  box.hidden = !spot;
  if (!spot) { spotRebuilt = null; return; }
  if (box.dataset.drawing !== String(spot.id)) {
    box.dataset.drawing = spot.id;
    $('.ge-cl-spot-img').src = spot.image;
    const top = spot.probabilities.map((p, i) => [p, board.class_names[i]]).sort((a, b) => b[0] - a[0]).slice(0, 3);
    $('.ge-cl-spot-text').innerHTML = '<b></b>: <span></span>';
    $('.ge-cl-spot-text b').innerHTML = spot.name;   // escaped by the app
    $('.ge-cl-spot-text span').textContent = top.map(([p, name]) => `${name} ${Math.round(100 * p)}%`).join(', ')
      + ` · rebuilt with error ${spot.rebuild_error.toFixed(4)}`;
    $('.ge-cl-rebuilt').innerHTML = '';
    spotRebuilt = null;
  }
}

async function spotlight(drawingId) {
  if (!drawingId) return;
  const r = await C().api('spotlight', { body: { code: code(), drawing_id: drawingId }, teacher: token() });
  if (!r.ok) { status(r.error, 'error'); return; }
  if (board) renderSpot(r.data.spotlight);
}

async function rebuild() {
  const id = Number($('.ge-cl-spot').dataset.drawing);
  if (!id || spotRebuilt === id) return;
  $('.ge-cl-rebuilt').textContent = 'rebuilding...';
  const r = await C().api('rebuild', { query: { code: code(), drawing_id: id }, teacher: token() });
  if (!r.ok) { $('.ge-cl-rebuilt').textContent = r.error; return; }
  spotRebuilt = id;
  const box = $('.ge-cl-rebuilt');
  box.innerHTML = '';
  for (const item of r.data.images) {
    const figure = document.createElement('figure');
    figure.innerHTML = '<img alt=""><figcaption></figcaption>';
    figure.querySelector('img').src = item.image;
    figure.querySelector('img').alt = `${item.model}'s reconstruction`;
    figure.querySelector('figcaption').textContent = item.model;
    box.appendChild(figure);
  }
}

async function remove(drawingId, tile) {
  if (!drawingId || !window.confirm("Remove this drawing from the class? Its picture is deleted.")) return;
  const r = await C().api('remove', { body: { code: code(), drawing_id: drawingId }, teacher: token() });
  if (!r.ok) { status(r.error, 'error'); return; }
  tile.dataset.key = '';
  status('drawing removed');
}

function classChoices(names) {
  for (const box of root.querySelectorAll('.ge-cl-drawn, .ge-cl-target')) {
    if (box.dataset.names === names.join('|')) continue;
    box.dataset.names = names.join('|');
    box.innerHTML = '';
    names.forEach((name, i) => box.add(new Option(name, String(i))));
  }
  kindChanged();
}

function kindChanged() {
  const kind = $('.ge-cl-kind').value;
  $('.ge-cl-drawn').hidden = $('.ge-cl-readas').hidden = kind !== 'fool';
  $('.ge-cl-target').hidden = !['read_as', 'fool'].includes(kind);
  $('.ge-cl-goal').hidden = kind !== 'rebuild';
}

let shownChallenge = null;
function showChallenge(challenge) {   // the form shows the class's challenge when it changes (a reload too)
  if (!challenge || challenge.id === shownChallenge) return;
  shownChallenge = challenge.id;
  $('.ge-cl-kind').value = challenge.kind;
  if (challenge.target != null) $('.ge-cl-target').value = String(challenge.target);
  if (challenge.drawn != null) $('.ge-cl-drawn').value = String(challenge.drawn);
  if (challenge.goal) $('.ge-cl-goal').value = challenge.goal;
  kindChanged();
}

async function setChallenge(clear) {
  const kind = $('.ge-cl-kind').value;
  const spec = { kind };
  if (kind === 'read_as' || kind === 'fool') spec.target = Number($('.ge-cl-target').value);
  if (kind === 'fool') spec.drawn = Number($('.ge-cl-drawn').value);
  if (kind === 'rebuild') spec.goal = $('.ge-cl-goal').value;
  const r = await C().api('challenge', { body: { code: code(), challenge: clear ? null : spec }, teacher: token() });
  status(r.ok ? (clear ? 'challenge cleared' : 'challenge set') : r.error, r.ok ? '' : 'error');
}

async function download(what) {
  status('preparing the download...');
  const r = await C().api('export', { query: { code: code(), what }, teacher: token(), raw: true });
  if (!r.ok) { status(r.error, 'error'); return; }
  const name = /filename="([^"]+)"/.exec(r.data.headers.get('content-disposition') || '');
  const link = document.createElement('a');
  link.href = URL.createObjectURL(await r.data.blob());
  link.download = name ? name[1] : `class-${code()}-${what}`;
  document.body.appendChild(link); link.click(); link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 60000);
  status(`downloaded ${link.download}`);
}

async function end() {
  if (!window.confirm(`End class ${code()}? Students can no longer join or draw; `
                      + 'you can still see the board and download it.')) return;
  const r = await C().api('end', { body: { code: code() }, teacher: token() });
  status(r.ok ? 'the class has ended' : r.error, r.ok ? '' : 'error');
  if (r.ok) C().teacher.following = false;
}

// The map: the Class tab's Gradio event draws it (maps.figure) when the stars changed, at most every MAP_MIN_MS.
function askMap(data) {
  const key = data.stars.map((s) => s.drawing_id).join(',');
  const box = document.querySelector('#ge-class-map-ask textarea, #ge-class-map-ask input');
  if (!box || (key === mapKey && mapKey) || Date.now() - mapAsked < MAP_MIN_MS) return;
  mapKey = key; mapAsked = Date.now();
  C().page.setValue(box, JSON.stringify({ code: code(), token: token(), stars: data.stars.length }));
}

function hookMap() {   // a click on a star spotlights its drawing
  const plot = document.querySelector('#ge-class-map .js-plotly-plot');
  if (plot && !plot.geHooked && plot.on) {
    plot.geHooked = true;
    plot.on('plotly_click', (event) => {
      const point = event.points[0];
      if (point && point.data && point.data.name === 'the class') spotlight(Number(point.customdata));
    });
  }
}
setInterval(hookMap, 500);

whenReady(() => {
  $('.ge-cl-go').addEventListener('click', start);
  $('.ge-cl-kind').addEventListener('change', kindChanged);
  $('.ge-cl-set').addEventListener('click', () => setChallenge(false));
  $('.ge-cl-clear').addEventListener('click', () => setChallenge(true));
  $('.ge-cl-rebuild').addEventListener('click', rebuild);
  $('.ge-cl-unspot').addEventListener('click', async () => {
    const r = await C().api('spotlight', { body: { code: code(), drawing_id: null }, teacher: token() });
    if (r.ok) renderSpot(null); else status(r.error, 'error');
  });
  $('.ge-cl-follow input').addEventListener('change', (e) => { C().teacher.following = e.target.checked; });
  for (const button of root.querySelectorAll('.ge-cl-export')) {
    button.addEventListener('click', () => download(button.dataset.what));
  }
  $('.ge-cl-end').addEventListener('click', end);
  $('.ge-cl-new').addEventListener('click', () => { C().teacher.forget(); open(); });
  $('.ge-cl-qr-button').addEventListener('click', () => { $('.ge-cl-big').hidden = false; });
  $('.ge-cl-big').addEventListener('click', () => { $('.ge-cl-big').hidden = true; });
  document.addEventListener('keydown', (e) => { if (e.key === 'Escape') $('.ge-cl-big').hidden = true; });
  C().teacher.listeners.push(() => {
    $('.ge-cl-follow input').checked = C().teacher.following;
    if (C().teacher.error) status(C().teacher.error, 'error');
  });
  kindChanged();
  open();
});
"""


def class_map(ask: str):
    """{"code", "token"} (the teacher's board asks) -> the VAE-2d's map of the class's dataset, drawn as the Latent
    map tab draws it, with each of the class's drawings as a star coloured by what the classifier reads."""
    try:
        request = json.loads(ask) if ask else None
    except ValueError:
        request = None
    if not isinstance(request, dict):
        raise gr.Error("the board's map request is malformed", print_exception=False)
    room = class_routes.default_room()
    try:
        board = room.board(request.get("code"), request.get("token"))
    except ClassError as exc:
        raise gr.Error(str(exc), print_exception=False) from None
    return _map_figure(room, board)


@common.user_errors
def _map_figure(room, board: dict) -> go.Figure:
    name, method = room.judges(board["dataset"]).map_source()
    fig = maps.figure(name, method, title=f"{name}: the class's drawings (stars) on the test set's map")
    names = {student["id"]: student["name"] for student in board["students"]}
    class_names = board["class_names"]
    stars = board["stars"]
    colours = [maps.COLOURS[class_names.index(star["label"]) % 10] if star["label"] in class_names else "#000"
               for star in stars]
    fig.add_trace(go.Scatter(
        x=[star["x"] for star in stars], y=[star["y"] for star in stars], mode="markers", name="the class",
        customdata=[star["drawing_id"] for star in stars],
        text=[f"{names.get(star['student_id'], 'a student')}: reads {html.escape(star['label'])}" for star in stars],
        hovertemplate="%{text}<extra></extra>",
        marker={"size": 17, "symbol": "star", "color": colours, "line": {"color": "black", "width": 1.5}}))
    return fig


def build() -> None:
    """The Class tab: start a class, project its QR code, watch the board, follow me, challenges, export."""
    script = fill_in(BOARD_JS, BOARD_MS=BOARD_POLL_MS, RETRY_MS=RETRY_MS, MAP_MIN_MS=MAP_MIN_MS,
                     BOARD_WAIT_S=BOARD_WAIT_S, BOARD_GAP_MS=BOARD_GAP_MS,
                     LOCAL_HOSTS=json.dumps(LOCAL_HOSTS), DATASETS=json.dumps(common.DATASETS))
    gr.HTML(BOARD_HTML, js_on_load=script, elem_id="ge-class-board", apply_default_css=False, padding=False)
    ask = gr.Textbox(elem_id="ge-class-map-ask", elem_classes=["ge-hidden"], show_label=False, container=False)
    plot = gr.Plot(elem_id="ge-class-map", label="The class on the latent map (click a star to spotlight it)")
    ask.change(class_map, ask, plot, api_name="class_map", trigger_mode="always_last", show_progress="hidden")
