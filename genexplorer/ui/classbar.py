"""The class bar: the students' side of class mode, and the page-wide class machinery (issue 23).

The bar sits above the tabs, hidden until the page is opened as ``/?class=CODE``. Its script (``CLASS_JS``, run once
per page as the bar's js_on_load) makes ``window.geClass``, used by the bar and by the teacher's Class tab
(classtab.py): the class API's calls; ``page``, the page as a person works it (its tabs, the dataset, a dropdown's
option, a slider's value); the teacher's follow-me pusher, which keeps pushing while the teacher is on any tab; and
the student's seat: join, share each pen-up of the Draw canvas (canvas.py's ``ge-pen-up`` event), poll the class
state, follow the teacher.

Tokens stay in the browser's localStorage (``ge-class-teacher:CODE``, ``ge-class-student:CODE``), so a reload keeps
the teacher's control and the student's seat. Names arrive HTML-escaped from the API and are inserted as such.
"""
from __future__ import annotations

import gradio as gr

from .sliders import MAX_SLIDERS

# A student's page asks for the class state (follow-me, challenge, spotlight, score) as a long poll: the app answers
# when it changes (a follow-me push at once) or after STATE_WAIT_S with the same state (ui/class_routes.py). Polling
# every 0.6 s instead cost the app ~25 % of a core for 60 students (README, "Class mode").
STATE_WAIT_S = 20
STATE_POLL_MS = 600      # a page that cannot hold a long poll (another tab of its browser holds one) asks this often
STATE_IDLE_MS = 2000     # ... and a student's page that stepped away, or is hidden, waits this long between asks
RETRY_MS = 2000          # while the app does not answer (restarting): keep trying, say "reconnecting"
FOLLOW_CHECK_MS = 250    # the teacher's page compares its state with the last one pushed this often (and on input)


def fill_in(script: str, **values) -> str:
    """A script with ``values`` in its %NAME% marks (the Python side's settings)."""
    for name, value in values.items():
        script = script.replace(f"%{name}%", str(value))
    return script


BAR_HTML = '<div class="ge-cb" aria-label="class bar"></div>'

# Runs once per page (the class bar's js_on_load): window.geClass, the student's seat and the teacher's pusher.
CLASS_JS = r"""
const STATE_MS = %STATE_MS%, STATE_IDLE_MS = %STATE_IDLE_MS%, RETRY_MS = %RETRY_MS%, STATE_WAIT_S = %STATE_WAIT_S%;
const FOLLOW_CHECK_MS = %FOLLOW_CHECK_MS%, MAX_SLIDERS = %MAX_SLIDERS%;
const round = (value) => Math.round(Number(value) * 1000) / 1000;   // 3 decimals: 1,024 numbers in 7 kB
const base = window.location.href.split('#')[0].split('?')[0].replace(/[^/]*$/, '');
const sleep = (ms) => new Promise((done) => setTimeout(done, ms));
const store = {
  get(key) { try { return JSON.parse(localStorage.getItem(key)); } catch (_) { return null; } },
  set(key, value) { try { localStorage.setItem(key, JSON.stringify(value)); } catch (_) { /* private mode */ } },
  drop(key) { try { localStorage.removeItem(key); } catch (_) { /* private mode */ } },
};

// A long poll holds one of the browser's six connections to the app while it waits: one page per browser holds
// one (a Web Lock; the others poll), so a teacher trying the class in many tabs never starves their other requests.
// No Web Locks outside a secure context: a student's device on http://192.168...: one page, one long poll.
function claimLongPoll(name, holder) {
  if (!navigator.locks) { holder.held = true; return; }
  navigator.locks.request(name, { ifAvailable: true },
                          (lock) => (lock ? new Promise(() => { holder.held = true; }) : undefined));
}

// One call to the class API -> {ok, status, data, error, retryAfter}; status 0: no answer (the app is down).
async function api(path, { body, query, teacher, student, raw } = {}) {
  const url = new URL('genexplorer/class/' + path, base);
  for (const [key, value] of Object.entries(query || {})) url.searchParams.set(key, value);
  const headers = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (teacher) headers['X-Teacher-Token'] = teacher;
  if (student) headers['X-Student-Token'] = student;
  let r;
  try {
    r = await fetch(url, { method: body === undefined ? 'GET' : 'POST', headers, cache: 'no-store',
                           body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (_) {
    return { ok: false, status: 0, data: null, error: 'the app does not answer' };
  }
  let data = null;
  if (raw && r.ok) data = r;
  else { try { data = await r.json(); } catch (_) { /* a proxy's error page */ } }
  return { ok: r.ok, status: r.status, data, error: (data && data.error) || `the app answered ${r.status}`,
           retryAfter: Number(r.headers.get('retry-after') || 0) };
}
// No answer, a server error, or a 404 that is not the class API's own (an app starting again serves its page a moment
// before its class routes are added): try again, keep the seat.
const transient = (r) => r.status === 0 || r.status >= 500 || (r.status === 404 && !(r.data && r.data.error));

// The page as a person works it: which tab, which dataset, a dropdown's choice, a slider's value.
const page = {
  tabs() { return document.querySelector('.tabs'); },   // the page's own tabs come first in the document
  tabLabels() {
    const out = {};
    for (const c of (window.gradio_config && window.gradio_config.components) || []) {
      if (c.type === 'tabitem' && c.props && c.props.id != null) out[c.props.id] = c.props.label;
    }
    return out;
  },
  currentTab() {
    const tabs = this.tabs();
    const button = tabs && tabs.querySelector(':scope > .tab-wrapper button[role=tab][aria-selected=true]');
    return button ? button.dataset.tabId : null;
  },
  selectTab(id) {
    const tabs = this.tabs();
    if (!tabs) return false;
    const button = tabs.querySelector(`:scope > .tab-wrapper button[role=tab][data-tab-id="${CSS.escape(id)}"]`);
    if (button) { button.click(); return true; }
    const label = this.tabLabels()[id];   // a narrow screen keeps the other tabs in the "more tabs" menu
    const more = label && Array.from(tabs.querySelectorAll(':scope > .tab-wrapper .overflow-dropdown button'))
      .find((b) => b.textContent.trim() === label);
    if (more) { more.click(); return true; }
    return false;
  },
  dataset() {
    const input = document.querySelector('#ge-dataset input[type=radio]:checked')
      || document.querySelector('#ge-dataset input[aria-checked=true]');
    return input ? input.value : null;
  },
  setDataset(value) {
    const input = document.querySelector(`#ge-dataset input[type=radio][value="${CSS.escape(value)}"]`);
    if (input) input.click();
  },
  combo(id) { return document.querySelector(`#${id} input[role=combobox]`); },
  async choose(id, value) {   // open a dropdown and pick the option, as a click would
    const input = this.combo(id);
    if (!input) return false;
    input.focus();
    input.dispatchEvent(new MouseEvent('mousedown', { bubbles: true }));
    input.dispatchEvent(new MouseEvent('click', { bubbles: true }));
    let option = null;
    for (let i = 0; i < 20 && !option; i++) {
      await sleep(50);
      const list = document.getElementById(input.getAttribute('aria-controls'));
      option = list && Array.from(list.querySelectorAll('[role=option]'))
        .find((o) => o.getAttribute('aria-label') === value);
    }
    if (option) option.dispatchEvent(new MouseEvent('mousedown', { bubbles: true }));
    input.blur();
    return !!option;
  },
  sliderState() {   // what the Latent sliders tab shows now: {model, label, latent}
    const box = document.querySelector('#ge-slider-live textarea, #ge-slider-live input');
    try { return box && box.value ? JSON.parse(box.value) : null; } catch (_) { return null; }
  },
  slider(i) { return document.querySelector(`#ge-z${i} input[type=range]`); },
  setValue(input, value) {
    const proto = input.tagName === 'TEXTAREA' ? HTMLTextAreaElement.prototype : HTMLInputElement.prototype;
    Object.getOwnPropertyDescriptor(proto, 'value').set.call(input, String(value));
    input.dispatchEvent(new Event('input', { bubbles: true }));
    input.dispatchEvent(new Event('change', { bubbles: true }));
  },
  seedBox() { return document.querySelector('#ge-slider-seed input'); },
  // What follow-me pushes: the tab (the Class tab itself excepted), dataset; the Latent sliders' model, its class,
  // the sliders and the code past them, the seed; the toy lab's lesson and play/pause.
  state(lastTab) {
    const state = {};
    if (lastTab) state.tab = lastTab;
    const dataset = this.dataset();
    if (dataset) state.dataset = dataset;
    const model = this.combo('ge-slider-model');
    const live = this.sliderState();
    if (model && model.value) state.model = model.value;
    if (live && Array.isArray(live.latent) && live.model === state.model) {
      const shown = Math.min(MAX_SLIDERS, live.latent.length), values = [];
      for (let i = 0; i < shown; i++) {
        const input = this.slider(i);
        if (input) values.push(round(Number(input.value)));
      }
      state.sliders = values;
      if (live.latent.length > shown) state.rest = live.latent.slice(shown).map(round);
      if (Number.isInteger(live.label)) state.label = live.label;
    }
    const seed = this.seedBox();
    if (seed && /^[0-9]{1,9}$/.test(seed.value)) state.seed = Number(seed.value);
    const lesson = this.combo('ge-lab-lesson');
    if (lesson && lesson.value) state.lesson = lesson.value;
    if (window.geLab && window.geLab.toy) state.playing = !!window.geLab.playing;
    return state;
  },
  // Whether the page's code past the sliders and its class are the teacher's; if not, ask the Latent sliders' follow
  // event (ui/sliders.py) for the teacher's whole code and class, once per state: -> false until it has answered.
  sameCode(state) {
    const live = this.sliderState();
    if (!state.model || !Array.isArray(state.sliders) || !live || live.model !== state.model) return true;
    const rest = state.rest || [], shown = state.sliders.length;
    const same = live.latent.length === shown + rest.length
      && rest.every((value, i) => Math.abs(live.latent[shown + i] - value) <= 1e-3)
      && (!Number.isInteger(state.label) || live.label === state.label);
    const box = document.querySelector('#ge-slider-follow textarea, #ge-slider-follow input');
    if (same || !box) return true;
    const ask = JSON.stringify({ model: state.model, label: Number.isInteger(state.label) ? state.label : null,
                                 latent: state.sliders.concat(rest) });
    if (box.value !== ask) this.setValue(box, ask);
    return false;
  },
  // One step towards the teacher's state -> true once the page shows all of it (called again until then).
  async follow(state) {
    if (state.dataset && this.dataset() !== state.dataset) { this.setDataset(state.dataset); return false; }
    if (state.tab && state.tab !== 'class' && this.currentTab() !== state.tab) {
      this.selectTab(state.tab); return false;
    }
    if (state.tab === 'sliders') {
      if (state.model) {
        const model = this.combo('ge-slider-model');
        if (!model) return false;                                  // the tab is still being drawn
        if (model.value !== state.model) { await this.choose('ge-slider-model', state.model); return false; }
        const live = this.sliderState();
        if (!live || live.model !== state.model) return false;     // the model is still starting
      }
      const seed = this.seedBox();
      if (seed && Number.isInteger(state.seed) && seed.value !== String(state.seed)) this.setValue(seed, state.seed);
      if (!this.sameCode(state)) return false;   // its class or the code past the sliders: one event sets them
      let moved = false;
      (state.sliders || []).forEach((value, i) => {
        const input = this.slider(i);
        if (input && Math.abs(Number(input.value) - value) > 1e-6) { this.setValue(input, value); moved = true; }
      });
      if (moved) return false;   // done once a later look finds them all in place (a model start resets them)
    }
    if (state.tab === 'ganlab') {
      if (state.lesson) {
        const lesson = this.combo('ge-lab-lesson');
        if (!lesson) return false;
        if (lesson.value !== state.lesson) { await this.choose('ge-lab-lesson', state.lesson); return false; }
      }
      if (typeof state.playing === 'boolean') {
        const lab = window.geLab;
        if (!lab || !lab.toy) return false;
        const play = document.querySelector('.ge-lab-play');
        if (lab.playing !== state.playing && play) play.click();
      }
    }
    return true;
  },
};

// ------------------------------------------------------------------ the teacher's follow-me pusher
const teacher = {
  code: store.get('ge-class-teacher'), listeners: [], lastTab: null, pushed: null, busy: false,
  times: {},   // follow version -> when it was pushed (Date.now(): tests and benches compare with the students')
  get token() { return this.code ? store.get('ge-class-teacher:' + this.code) : null; },
  get following() { return !!this.code && store.get('ge-class-follow:' + this.code) === true; },
  set following(on) {
    if (this.code) store.set('ge-class-follow:' + this.code, !!on);
    this.pushed = null; this.changed();
  },
  begin(code, token) {
    store.set('ge-class-teacher:' + code, token); store.set('ge-class-teacher', code);
    this.code = code; this.changed();
  },
  forget() {
    if (this.code) { store.drop('ge-class-teacher:' + this.code); store.drop('ge-class-follow:' + this.code); }
    store.drop('ge-class-teacher'); this.code = null; this.changed();
  },
  changed() { this.listeners.forEach((listener) => listener()); },
  async tick() {
    const tab = page.currentTab();
    if (tab && tab !== 'class') this.lastTab = tab;
    if (!this.following || this.busy) return;
    const state = JSON.stringify(page.state(this.lastTab));
    if (state === this.pushed) return;
    this.busy = true;
    const r = await api('follow', { body: { code: this.code, state: JSON.parse(state) }, teacher: this.token });
    this.busy = false;
    if (r.ok) { this.pushed = state; this.error = null; this.times[r.data.follow_version] = Date.now(); }
    else if (!transient(r)) { this.error = r.error; this.following = false; }
  },
};
setInterval(() => teacher.tick(), FOLLOW_CHECK_MS);
// A click or a slider moved: look again at once (the interval alone would add up to FOLLOW_CHECK_MS).
let soon = null;
for (const type of ['click', 'input', 'change', 'pointerup']) {
  document.addEventListener(type, () => {
    if (teacher.following && !soon) soon = setTimeout(() => { soon = null; teacher.tick(); }, 60);
  }, true);
}

// ------------------------------------------------------------------ the student's seat
const bar = element.querySelector('.ge-cb') || element;
const params = new URLSearchParams(window.location.search);
const asked = (params.get('class') || '').trim().toUpperCase();
const seat = { code: asked, token: null, name: null, following: true, version: -1, state: null, done: true,
               reconciling: false, sending: false, next: null, until: 0, answered: null, longPoll: { held: false },
               times: {} };   // follow version -> {seen, tab, shown}: when its state arrived, its tab showed, all of it

function show(selector, visible) { const node = bar.querySelector(selector); if (node) node.hidden = !visible; }
function say(text, kind = '') {
  const status = bar.querySelector('.ge-cb-status');
  if (status) { status.textContent = text; status.dataset.kind = kind; }
}

function mountBar() {
  document.getElementById('ge-class-bar')?.classList.add('ge-on');
  bar.innerHTML = `
    <div class="ge-cb-row">
      <span class="ge-cb-class">Class <b class="ge-cb-code"></b></span>
      <span class="ge-cb-you" hidden></span>
      <span class="ge-cb-join">
        <input class="ge-cb-name" maxlength="24" placeholder="your nickname (or leave it empty)" aria-label="nickname">
        <button type="button" class="ge-cb-join-go">Join</button>
      </span>
      <button type="button" class="ge-cb-follow" aria-pressed="true" hidden></button>
    </div>
    <div class="ge-cb-row">
      <label class="ge-cb-in" hidden><input type="checkbox" class="ge-cb-share" checked>
        <span class="ge-cb-hint"></span></label>
      <span class="ge-cb-status" role="status"></span>
    </div>
    <div class="ge-cb-challenge" hidden><b>Challenge:</b> <span class="ge-cb-prompt"></span>
      <span class="ge-cb-score"></span></div>
    <div class="ge-cb-spot" hidden><img alt="the drawing the teacher shows"><span class="ge-cb-spot-text"></span>
    </div>`;
  bar.querySelector('.ge-cb-code').textContent = seat.code;
  bar.querySelector('.ge-cb-join-go').addEventListener('click', join);
  bar.querySelector('.ge-cb-name').addEventListener('keydown', (e) => { if (e.key === 'Enter') join(); });
  bar.querySelector('.ge-cb-share').addEventListener('change', share);
  bar.querySelector('.ge-cb-follow').addEventListener('click', () => setFollowing(!seat.following));
  if (!/^[A-Z0-9]{1,12}$/.test(seat.code)) {
    show('.ge-cb-join', false); say('this link has no class code: ask your teacher for the link', 'error'); return;
  }
  const kept = store.get('ge-class-student:' + seat.code);
  if (kept && kept.token) { seated(kept.token, kept.name); pollSoon(0); }
}

async function join() {
  const button = bar.querySelector('.ge-cb-join-go');
  button.disabled = true;
  say('joining...');
  const r = await api('join', { body: { code: seat.code, name: bar.querySelector('.ge-cb-name').value } });
  button.disabled = false;
  if (!r.ok) { say(r.error, 'error'); return; }
  store.set('ge-class-student:' + seat.code, { token: r.data.student_token, name: r.data.name });
  seated(r.data.student_token, r.data.name);
  say('');
  if (r.data.dataset && page.dataset() !== r.data.dataset) page.setDataset(r.data.dataset);
  pollSoon(0);
}

function seated(token, name) {
  seat.token = token; seat.name = name;
  if (!seat.longPoll.claimed) { seat.longPoll.claimed = true; claimLongPoll('ge-class-state', seat.longPoll); }
  show('.ge-cb-join', false); show('.ge-cb-in', true); show('.ge-cb-follow', true); show('.ge-cb-you', true);
  bar.querySelector('.ge-cb-you').innerHTML = 'you are <b></b>';
  bar.querySelector('.ge-cb-you b').innerHTML = name;   // escaped by the app
  sharing(true);
  setFollowing(seat.following);
}

function sharing(on) {
  bar.querySelector('.ge-cb-share').checked = on;
  bar.querySelector('.ge-cb-hint').textContent = on ? 'sharing: your drawings go to the class when you lift the pen'
                                                    : 'paused: your drawings stay on your screen (tick to share)';
}

async function share(e) {
  const on = e.target.checked;
  const r = await api('pause', { body: { student_token: seat.token, paused: !on } });
  if (!r.ok) { sharing(!on); say(r.error, 'error'); return; }
  sharing(!r.data.paused);
}

function setFollowing(on) {
  seat.following = on;
  const button = bar.querySelector('.ge-cb-follow');
  button.setAttribute('aria-pressed', String(on));
  button.textContent = on ? 'following the teacher' : 'follow the teacher';
  if (on) { seat.done = false; reconcile(); pollSoon(0); }
}

// A student who picks another tab steps away from the teacher (clicks the page makes itself are not trusted).
document.addEventListener('click', (e) => {
  if (!e.isTrusted || !seat.token || !seat.following || !seat.state || !seat.state.tab) return;
  const button = e.target.closest && e.target.closest('.tabs > .tab-wrapper button');
  if (!button || button.getAttribute('aria-label') === 'More tabs') return;
  const id = button.dataset.tabId, label = page.tabLabels()[seat.state.tab];
  if (id === seat.state.tab || (!id && button.textContent.trim() === label)) return;
  setFollowing(false);
}, true);

async function reconcile() {
  if (seat.reconciling) return;
  seat.reconciling = true;
  const started = Date.now();
  while (seat.following && !seat.done && seat.state && Date.now() - started < 20000) {
    const version = seat.version;
    let done = false;
    try { done = await page.follow(seat.state); } catch (_) { /* the page is still being drawn */ }
    if (version === seat.version) seat.done = done;
    const times = seat.times[version];
    if (times && !times.tab && page.currentTab() === seat.state.tab) times.tab = Date.now();
    if (times && seat.done) times.shown = Date.now();
    if (!seat.done) await sleep(200);
  }
  seat.reconciling = false;
}

// One state request at a time; pollSoon(0) asks at once (a student pressing "follow the teacher").
const polling = { timer: null, busy: false, again: false };
function pollSoon(ms) { clearTimeout(polling.timer); polling.timer = setTimeout(poll, ms); }
document.addEventListener('visibilitychange', () => { if (!document.hidden && seat.token) pollSoon(0); });

async function poll() {
  if (!seat.token) return;
  if (polling.busy) { polling.again = true; return; }
  polling.busy = true;
  const waits = seat.longPoll.held && seat.answered !== null;
  const r = await api('state', { student: seat.token,
                                 query: waits ? { since: seat.answered, wait: STATE_WAIT_S } : {} });
  polling.busy = false;
  const awake = seat.following && !document.hidden;
  let wait = awake ? (seat.longPoll.held ? 0 : STATE_MS) : STATE_IDLE_MS;
  if (r.ok) {
    if (bar.querySelector('.ge-cb-status').dataset.kind === 'offline') say('');
    seat.answered = r.data.version;
    onState(r.data);
  } else if (transient(r)) {
    say('reconnecting...', 'offline'); wait = RETRY_MS;
  } else if (r.status === 410) {
    say('the class has ended: thank you!', 'ended'); show('.ge-cb-challenge', false); seat.token = null; return;
  } else if (r.status === 403 || r.status === 404) {
    store.drop('ge-class-student:' + seat.code); seat.token = null;
    for (const part of ['.ge-cb-in', '.ge-cb-follow', '.ge-cb-you', '.ge-cb-challenge']) show(part, false);
    show('.ge-cb-join', true); say(r.error, 'error'); return;
  } else {
    say(r.error, 'error'); wait = RETRY_MS;
  }
  if (polling.again && r.ok) { polling.again = false; wait = 0; }
  pollSoon(wait);
}

function onState(state) {
  window.geClass.lastState = state;
  const you = state.you || {};
  sharing(!you.paused);
  show('.ge-cb-challenge', !!state.challenge);
  if (state.challenge) {
    bar.querySelector('.ge-cb-prompt').textContent = state.challenge.prompt;
    bar.querySelector('.ge-cb-score').textContent = you.score == null ? '(draw to get a score)'
      : `· your best: ${you.score.toFixed(3)} (#${you.rank} of ${you.ranked})`;
  }
  const spot = state.spotlight;
  show('.ge-cb-spot', !!spot);
  if (spot) {
    bar.querySelector('.ge-cb-spot img').src = spot.image;
    const percent = Math.round(100 * spot.probability);
    bar.querySelector('.ge-cb-spot-text').innerHTML = `<b></b>'s drawing, read as <b></b> (${percent}%)`;
    const bold = bar.querySelectorAll('.ge-cb-spot-text b');
    bold[0].innerHTML = spot.name; bold[1].textContent = spot.label;
  }
  if (state.follow_version !== seat.version) {
    seat.version = state.follow_version; seat.state = state.follow || {}; seat.done = false;
    seat.times[seat.version] = { seen: Date.now() };
  }
  if (seat.following && !seat.done) reconcile();
}

// Each pen-up on the Draw tab's canvas (canvas.py's ge-pen-up event) goes to the class: one at a time, the
// newest waiting one replacing an older one; past the drawings-a-minute cap, after the wait the app names.
document.addEventListener('ge-pen-up', (e) => {
  if (!seat.token || e.detail.canvas !== 'ge-canvas-data' || !e.detail.payload) return;
  seat.penUp = Date.now();   // (tests and benches measure from here)
  if (!bar.querySelector('.ge-cb-share').checked) return;
  seat.next = e.detail.payload;
  send();
});

async function send() {
  if (seat.sending || seat.next === null) return;
  const wait = seat.until - Date.now();
  if (wait > 0) { setTimeout(send, wait); return; }
  seat.sending = true;
  const payload = seat.next; seat.next = null;
  const r = await api('drawing', { body: { student_token: seat.token, payload } });
  seat.sending = false;
  const score = r.ok && r.data.score != null ? `, score ${r.data.score.toFixed(3)}` : '';
  if (r.ok) say(`sent: read as ${r.data.label}${score}`, 'sent');
  else if (r.status === 429 || transient(r)) {   // wait, then send the newest drawing
    seat.until = Date.now() + (r.status === 429 ? 1000 * Math.max(1, r.retryAfter) : RETRY_MS);
    seat.next = seat.next || payload;
    say(r.status === 429 ? r.error : 'reconnecting...', r.status === 429 ? 'error' : 'offline');
  } else say(r.error, 'error');
  send();
}

window.geClass = { api, page, teacher, store, base, seat, transient, claimLongPoll, lastState: null };
if (seat.code) mountBar();
"""

# The class mode's look: the bar's and the Class tab's (launch() takes one CSS for the page).
CLASS_CSS = """
/* With the Class tab, a little less padding keeps every tab in one row on a 1280-wide projector (15 tabs: 1,160 of
   the 1,216 px Gradio gives them); past that, the last tabs go to Gradio's "more tabs" menu */
.tabs > .tab-wrapper button { padding-left: 10px; padding-right: 10px; }
#ge-class-bar:not(.ge-on) { display: none !important; }
.ge-cb { display: flex; flex-direction: column; gap: 4px; padding: 6px 10px; border-radius: 8px;
  background: var(--background-fill-secondary); border: 1px solid var(--border-color-primary); font-size: 14px; }
.ge-cb-row { display: flex; flex-wrap: wrap; gap: 6px 12px; align-items: center; }
.ge-cb-join { display: contents; }
.ge-cb [hidden] { display: none !important; }
.ge-cb-follow { margin-left: auto; }
.ge-cb-row:has(> .ge-cb-in[hidden]):has(> .ge-cb-status:empty) { display: none; }
.ge-cb-in { display: flex; align-items: center; gap: 2px; cursor: pointer; }
.ge-cb-score { font-weight: 600; }
.ge-cb input.ge-cb-name { padding: 4px 8px; border-radius: 6px; border: 1px solid var(--border-color-primary);
  min-width: 0; flex: 1 1 160px; max-width: 260px; background: var(--input-background-fill); color: inherit; }
.ge-cb button, .ge-cl button { padding: 4px 12px; border-radius: 6px; border: 1px solid var(--border-color-primary);
  background: var(--button-secondary-background-fill); color: var(--button-secondary-text-color); cursor: pointer;
  min-height: 32px; }
.ge-cb button.ge-cb-join-go, .ge-cl button.ge-cl-go { background: var(--button-primary-background-fill);
  color: var(--button-primary-text-color); }
.ge-cb-follow[aria-pressed=true] { background: var(--button-primary-background-fill) !important;
  color: var(--button-primary-text-color) !important; }
.ge-cb-hint { color: inherit; }
.ge-cb-status[data-kind=error], .ge-cl-status[data-kind=error], .ge-cl-error { color: #c0392b; }
.ge-cb-status[data-kind=offline], .ge-cl-status[data-kind=offline] { color: #b9770e; font-weight: 600; }
.ge-cb-spot { display: flex; gap: 10px; align-items: center; }
.ge-cb-spot img { width: 64px; height: 64px; image-rendering: pixelated; border-radius: 6px; background: #000; }
.ge-cl { display: flex; flex-direction: column; gap: 10px; }
.ge-cl-start { max-width: 640px; display: flex; flex-direction: column; gap: 8px; align-items: flex-start; }
.ge-cl select { padding: 4px 6px; border-radius: 6px; border: 1px solid var(--border-color-primary);
  background: var(--input-background-fill); color: inherit; }
.ge-cl [hidden] { display: none !important; }
.ge-cl-top { display: flex; flex-wrap: wrap; gap: 8px 16px; align-items: flex-start; }
.ge-cl-invite { display: flex; gap: 12px; align-items: flex-start; flex: 1 1 520px; }
.ge-cl-qr-button { flex: 0 0 auto; padding: 0 !important; background: #fff !important; border: none !important; }
.ge-cb input[type=checkbox], .ge-cl input[type=checkbox] { appearance: auto; -webkit-appearance: checkbox;
  width: 16px; height: 16px; margin: 0 4px 0 0; vertical-align: middle; accent-color: var(--color-accent); }
.ge-cl-qr { width: 160px; height: 160px; max-width: none; display: block; }
.ge-cl-invite-text { display: flex; flex-direction: column; gap: 4px; min-width: 0; }
.ge-cl-code { font-size: 40px; letter-spacing: 4px; font-family: monospace; line-height: 1.1; }
.ge-cl-link { font-size: 16px; word-break: break-all; }
.ge-cl-warn { background: #fdf2d0; color: #5b4300; border-radius: 6px; padding: 4px 8px; font-size: 12px; }
.ge-cl-count { font-weight: 600; }
.ge-cl-tools { display: flex; flex-direction: column; gap: 6px; flex: 1 1 480px; }
.ge-cl-challenge, .ge-cl-actions { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; }
.ge-cl-main { display: flex; flex-wrap: wrap; gap: 12px; align-items: flex-start; }
.ge-cl-grid { flex: 1 1 560px; display: grid; grid-template-columns: repeat(auto-fill, minmax(108px, 1fr)); gap: 8px;
  align-content: start; }
.ge-cl-tile { position: relative; display: flex; flex-direction: column; align-items: center; gap: 2px; padding: 6px;
  border-radius: 8px; background: var(--background-fill-secondary); border: 1px solid var(--border-color-primary);
  font-size: 13px; text-align: center; min-width: 0; }
.ge-cl-pic { padding: 0 !important; border: none !important; background: #000 !important; border-radius: 6px; }
.ge-cl-pic img { width: 84px; height: 84px; display: block; image-rendering: pixelated; border-radius: 6px; }
.ge-cl-empty .ge-cl-pic img { visibility: hidden; }
.ge-cl-name { font-weight: 600; max-width: 100%; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.ge-cl-none { list-style: none; margin-left: -22px; color: var(--body-text-color-subdued); }
.ge-cl-remove { position: absolute; top: 2px; right: 2px; padding: 0 6px !important; min-height: 22px !important;
  font-size: 12px; opacity: 0.75; }
.ge-cl-side { flex: 0 1 300px; display: flex; flex-direction: column; gap: 12px; }
.ge-cl-spot { display: flex; flex-direction: column; gap: 6px; padding: 8px; border-radius: 8px;
  border: 2px solid var(--color-accent); }
.ge-cl-spot-img { width: 200px; height: 200px; image-rendering: pixelated; background: #000; border-radius: 6px; }
.ge-cl-spot-buttons { display: flex; gap: 6px; flex-wrap: wrap; }
.ge-cl-rebuilt { display: flex; gap: 6px; flex-wrap: wrap; }
.ge-cl-rebuilt figure { margin: 0; text-align: center; font-size: 12px; }
.ge-cl-rebuilt img { width: 64px; height: 64px; image-rendering: pixelated; background: #000; border-radius: 4px; }
.ge-cl-ranking { padding: 8px; border-radius: 8px; background: var(--background-fill-secondary);
  border: 1px solid var(--border-color-primary); }
.ge-cl-ranking ol { margin: 4px 0 0 22px; padding: 0; }
.ge-cl-rank-score { color: var(--body-text-color-subdued); font-family: monospace; }
.ge-cl-ended .ge-cl-challenge, .ge-cl-ended .ge-cl-follow { opacity: 0.5; pointer-events: none; }
.ge-cl-big { position: fixed; inset: 0; z-index: 1000; background: #fff; color: #000; display: flex;
  flex-direction: column; align-items: center; justify-content: center; gap: 12px; cursor: pointer; }
.ge-cl-big-qr { width: min(70vh, 80vw); height: min(70vh, 80vw); }
.ge-cl-big-code { font-size: 8vh; letter-spacing: 1vh; font-family: monospace; font-weight: 700; }
.ge-cl-big-link { font-size: 3vh; }
.ge-cl-big-hint { font-size: 14px; color: #666; }
@media (max-width: 640px) {
  .ge-cl-qr { width: 140px; height: 140px; }
  .ge-cb { font-size: 13px; padding: 4px 8px; gap: 2px; }
  .ge-cb button { min-height: 28px; padding: 2px 8px; font-size: 12px; }
  .ge-cb-spot img { width: 48px; height: 48px; }
}
"""


def build_bar() -> None:
    """The students' class bar, above the tabs: hidden unless the page was opened as /?class=CODE."""
    script = fill_in(CLASS_JS, STATE_MS=STATE_POLL_MS, STATE_IDLE_MS=STATE_IDLE_MS, RETRY_MS=RETRY_MS,
                     STATE_WAIT_S=STATE_WAIT_S,
                     FOLLOW_CHECK_MS=FOLLOW_CHECK_MS, MAX_SLIDERS=MAX_SLIDERS)
    gr.HTML(BAR_HTML, js_on_load=script, elem_id="ge-class-bar", apply_default_css=False, padding=False)
