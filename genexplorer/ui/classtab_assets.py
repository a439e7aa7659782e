"""The class mode's browser code: the class bar's and the Class tab's HTML, JavaScript and CSS (classtab.py wires them).

``CLASS_JS`` runs once per page (the class bar's js_on_load) and makes ``window.geClass``: the class API's calls, the
page as a person works it (``page``: tabs, dataset, dropdowns, sliders), the teacher's follow-me pusher and the
student's seat. ``BOARD_JS`` runs when the Class tab is first shown: the teacher's board over ``window.geClass``.
``%NAME%`` marks are classtab.py's settings (poll intervals, datasets), filled in by ``classtab._script``.
"""

BAR_HTML = '<div class="ge-cb" aria-label="class bar"></div>'

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

# Runs once per page (the class bar's js_on_load): window.geClass, the student's seat and the teacher's pusher.
CLASS_JS = r"""
const STATE_MS = %STATE_MS%, STATE_IDLE_MS = %STATE_IDLE_MS%, RETRY_MS = %RETRY_MS%;
const FOLLOW_CHECK_MS = %FOLLOW_CHECK_MS%;
const base = window.location.href.split('#')[0].split('?')[0].replace(/[^/]*$/, '');
const sleep = (ms) => new Promise((done) => setTimeout(done, ms));
const store = {
  get(key) { try { return JSON.parse(localStorage.getItem(key)); } catch (_) { return null; } },
  set(key, value) { try { localStorage.setItem(key, JSON.stringify(value)); } catch (_) { /* private mode */ } },
  drop(key) { try { localStorage.removeItem(key); } catch (_) { /* private mode */ } },
};

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
const transient = (r) => r.status === 0 || r.status >= 500;

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
  // What follow-me pushes: the tab (the Class tab itself excepted), dataset, model and sliders, GAN lab.
  state(lastTab) {
    const state = {};
    if (lastTab) state.tab = lastTab;
    const dataset = this.dataset();
    if (dataset) state.dataset = dataset;
    const model = this.combo('ge-slider-model');
    const live = this.sliderState();
    if (model && model.value) state.model = model.value;
    if (live && Array.isArray(live.latent) && live.model === state.model) {
      const values = [];
      for (let i = 0; i < Math.min(16, live.latent.length); i++) {
        const input = this.slider(i);
        if (input) values.push(Math.round(Number(input.value) * 1000) / 1000);
      }
      state.sliders = values;
    }
    const lesson = this.combo('ge-lab-lesson');
    if (lesson && lesson.value) state.lesson = lesson.value;
    if (window.geLab && window.geLab.toy) state.playing = !!window.geLab.playing;
    return state;
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
               reconciling: false, sending: false, next: null, until: 0,
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
  const r = await api('state', { student: seat.token });
  polling.busy = false;
  let wait = seat.following && !document.hidden ? STATE_MS : STATE_IDLE_MS;
  if (r.ok) {
    if (bar.querySelector('.ge-cb-status').dataset.kind === 'offline') say('');
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

window.geClass = { api, page, teacher, store, base, seat, lastState: null };
if (seat.code) mountBar();
"""

# Runs once, when the Class tab is first shown (its js_on_load): the teacher's board over window.geClass.
BOARD_JS = r"""
const BOARD_MS = %BOARD_MS%, RETRY_MS = %RETRY_MS%, MAP_MIN_MS = %MAP_MIN_MS%;
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
const transient = (r) => r.status === 0 || r.status >= 500;

async function poll() {
  if (!code()) { polling = false; return; }
  let wait = BOARD_MS;
  if (element.offsetParent !== null) {   // only while the Class tab is shown
    const r = await C().api('board', { query: { code: code() }, teacher: token() });
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

CLASS_CSS = """
/* 14 tabs with the Class tab: a little less padding keeps them all in one row on a 1280-wide projector */
.tabs > .tab-wrapper button { padding-left: 12px; padding-right: 12px; }
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
