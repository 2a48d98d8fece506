// The operations console: bookings by status, one booking's saga as a
// timeline, the re-drive button, and live charts from /metrics. It reads
// the JSON API like any client; tokens are asked for when the server wants
// them and kept in this tab's session storage, never in a URL.
'use strict';

const STATUS_ORDER = ['compensation_failed', 'pending', 'cancelling',
                      'confirmed', 'failed', 'cancelled'];
const OUTCOME_COLORS = {
  confirmed: '#2e8540', failed: '#d97706', cancelled: '#5f6b7a',
  compensation_failed: '#8b0000',
};
const REFRESH_MS = 2000;
const POINTS = 90;

const $ = (sel) => document.querySelector(sel);
const view = { status: null, cursor: null, booking: null, summary: null };

// -- tokens -------------------------------------------------------------------

const tokenKey = (kind) => 'booking-console.' + kind + '-token';
const storedToken = (kind) => sessionStorage.getItem(tokenKey(kind)) || '';

/// Prompts run one at a time: a second caller (the background refresh
/// meeting a 401 while the admin prompt is open) waits for the first.
let prompting = Promise.resolve('');

/// Asks for the token of `kind` in the dialog; resolves to it, or '' if the
/// dialog was cancelled (its button, or Esc).
function askToken(kind, why) {
  prompting = prompting.then(() => showTokenDialog(kind, why));
  return prompting;
}

function showTokenDialog(kind, why) {
  // Another prompt may have got this token meanwhile.
  const known = storedToken(kind);
  if (known)
    return Promise.resolve(known);
  const dialog = $('#token-dialog');
  $('#token-title').textContent =
    kind === 'admin' ? 'Admin token' : 'API token';
  $('#token-why').textContent = why;
  const input = $('#token-input');
  input.value = '';
  return new Promise((resolve) => {
    let value = '';
    $('#token-form').onsubmit = (ev) => {
      ev.preventDefault();
      value = input.value.trim();
      if (value)
        sessionStorage.setItem(tokenKey(kind), value);
      dialog.close();
    };
    $('#token-cancel').onclick = () => dialog.close();
    dialog.addEventListener('close', () => resolve(value), { once: true });
    dialog.showModal();
    input.focus();
  });
}

/// Calls the API with the token of `kind` ('api', or 'admin' for the
/// re-drive); on 401 or 403 asks for that token and tries again.
async function api(method, path, { kind = 'api', headers = {} } = {}) {
  for (;;) {
    const h = Object.assign({}, headers);
    const token = storedToken(kind) || (kind === 'admin' ? storedToken('api') : '');
    if (token)
      h.Authorization = 'Bearer ' + token;
    const res = await fetch(path, { method, headers: h });
    if (res.status !== 401 && res.status !== 403)
      return res;
    sessionStorage.removeItem(tokenKey(kind));
    const why = res.status === 401
      ? 'The server asks for a token for this.'
      : 'The server refused that token here.';
    if (!(await askToken(kind, why)))
      return res;
  }
}

async function json(res) {
  try {
    return await res.json();
  } catch (e) {
    return null;
  }
}

// -- formatting ---------------------------------------------------------------

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class')
      e.className = v;
    else if (k === 'text')
      e.textContent = v;
    else
      e.setAttribute(k, v);
  }
  for (const c of children)
    e.append(c);
  return e;
}

const SVG_NS = 'http://www.w3.org/2000/svg';
function svg(tag, attrs = {}) {
  const e = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs))
    e.setAttribute(k, v);
  return e;
}

const label = (status) => status.replace('_', ' ');
const statusBadge = (status) => el('span', { class: 'status ' + status, text: label(status) });
const shortTime = (iso) => (iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '');
const money = (cents, currency) => (cents / 100).toFixed(2) + ' ' + currency;

// -- bookings by status -------------------------------------------------------

async function loadSummary() {
  const res = await api('GET', '/api/v1/bookings/summary');
  if (!res.ok)
    return;
  view.summary = (await json(res)).by_status;
  renderChips();
}

function renderChips() {
  const nav = $('#status-filter');
  nav.replaceChildren();
  const counts = view.summary || {};
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  const chip = (status, text, n) => {
    const b = el('button', { type: 'button', class: 'chip', 'data-status': status || 'all' },
                 text, el('b', { text: String(n) }));
    if ((view.status || null) === status)
      b.classList.add('active');
    if (status === 'compensation_failed' && n > 0)
      b.classList.add('alert');
    b.onclick = () => { view.status = status; showList(); };
    return b;
  };
  nav.append(chip('compensation_failed', 'compensation failed', counts.compensation_failed || 0));
  nav.append(chip(null, 'all', total));
  for (const s of STATUS_ORDER.slice(1))
    nav.append(chip(s, label(s), counts[s] || 0));
}

async function loadList(append) {
  let path = '/api/v1/bookings?limit=50';
  if (view.status)
    path += '&status=' + encodeURIComponent(view.status);
  if (append && view.cursor)
    path += '&cursor=' + encodeURIComponent(view.cursor);
  const res = await api('GET', path);
  const body = $('#bookings tbody');
  if (!append)
    body.replaceChildren();
  if (!res.ok) {
    $('#list-empty').hidden = false;
    $('#list-empty').textContent = 'Cannot list bookings (HTTP ' + res.status + ').';
    return;
  }
  const page = await json(res);
  for (const b of page.items) {
    const row = el('tr', { 'data-id': b.id },
      el('td', { class: 'id', text: b.id }),
      el('td', {}, statusBadge(b.status)),
      el('td', { text: b.tour_id }),
      el('td', { text: b.date }),
      el('td', { class: 'num', text: String(b.seats) }),
      el('td', { text: shortTime(b.updated_at) }));
    row.onclick = () => showBooking(b.id);
    body.append(row);
  }
  view.cursor = page.next_cursor;
  $('#more').hidden = !page.next_cursor;
  $('#list-empty').textContent = 'No bookings here.';
  $('#list-empty').hidden = body.children.length > 0;
}

async function showList() {
  view.booking = null;
  $('#detail-view').hidden = true;
  $('#list-view').hidden = false;
  $('#list-title').textContent =
    view.status ? 'Bookings: ' + label(view.status) : 'All bookings';
  renderChips();
  await loadList(false);
}

// -- one booking --------------------------------------------------------------

async function showBooking(id) {
  view.booking = id;
  $('#list-view').hidden = true;
  $('#detail-view').hidden = false;
  $('#detail-message').hidden = true;
  await renderBooking(id);
}

async function renderBooking(id) {
  const res = await api('GET', '/api/v1/bookings/' + encodeURIComponent(id));
  if (!res.ok) {
    $('#detail-title').textContent = 'Booking ' + id + ' (HTTP ' + res.status + ')';
    return;
  }
  const b = await json(res);
  const title = $('#detail-title');
  title.replaceChildren('Booking ', el('code', { text: b.id }), ' ', statusBadge(b.status));
  const fields = $('#fields');
  fields.replaceChildren();
  const add = (k, v) => fields.append(el('dt', { text: k }), el('dd', { text: v }));
  add('Status', label(b.status) + (b.reason ? ' (' + b.reason + ')' : ''));
  add('Tour', b.tour_id + ', ' + b.date);
  add('Seats', String(b.seats));
  add('Amount', money(b.amount_cents, b.currency));
  add('Customer', b.customer.name + ' <' + b.customer.email + '>');
  add('Created', shortTime(b.created_at));
  add('Updated', shortTime(b.updated_at));
  $('#redrive').hidden = b.status !== 'compensation_failed';
  drawTimeline($('#timeline'), b);
  const notes = $('#notifications');
  notes.replaceChildren();
  const nres = await api('GET', '/api/v1/notifications?booking_id=' + encodeURIComponent(id));
  const page = nres.ok ? await json(nres) : { items: [] };
  for (const n of page.items)
    notes.append(el('li', { 'data-kind': n.kind },
      el('strong', { text: label(n.kind) }),
      ' · ' + n.channel + ' to ' + n.to + ' · ' + n.status + ' after ' +
      n.attempts + (n.attempts === 1 ? ' attempt' : ' attempts') + ' · ' +
      shortTime(n.created_at)));
  if (!page.items.length)
    notes.append(el('li', { class: 'muted', text: 'None yet.' }));
}

/// The saga as a picture: a row per step, time on the x axis, one mark per
/// history entry coloured by outcome (circle: execute, diamond: query,
/// left triangle: compensate), and a dashed arc from each compensation back
/// to the attempt it undoes.
function drawTimeline(box, b) {
  const entries = b.saga || [];
  const steps = [];
  for (const e of entries)
    if (!steps.includes(e.step))
      steps.push(e.step);
  const rowH = 38;
  const left = 140;
  const right = 24;
  const top = 34; // room for the arcs of the first row
  const width = Math.max(640, left + right + entries.length * 26);
  const height = top + steps.length * rowH + 34;
  const times = entries.map((e) => Date.parse(e.at));
  const t0 = Math.min(Date.parse(b.created_at), ...times);
  const t1 = Math.max(t0 + 1, ...times);
  const plot = width - left - right;
  const x = (t) => left + ((t - t0) / (t1 - t0)) * plot;
  const y = (step) => top + steps.indexOf(step) * rowH + rowH / 2;
  const s = svg('svg', { width, height, viewBox: `0 0 ${width} ${height}`,
                         role: 'img', 'aria-label': 'saga timeline' });
  steps.forEach((step) => {
    s.append(svg('line', { class: 'axis', x1: left, x2: width - right, y1: y(step), y2: y(step) }));
    const t = svg('text', { class: 'row-label', x: 8, y: y(step) + 4 });
    t.textContent = step.replace(/_/g, ' ');
    s.append(t);
  });
  const axisY = top + steps.length * rowH + 8;
  for (const f of [0, 0.5, 1]) {
    const tx = left + f * plot;
    s.append(svg('line', { class: 'axis', x1: tx, x2: tx, y1: top, y2: axisY }));
    const t = svg('text', { class: 'tick', x: tx, y: axisY + 14, 'text-anchor': f === 0 ? 'start' : f === 1 ? 'end' : 'middle' });
    const ms = f * (t1 - t0);
    t.textContent = ms < 1000 ? '+' + ms.toFixed(0) + ' ms' : '+' + (ms / 1000).toFixed(2) + ' s';
    s.append(t);
  }
  // Marks that fall on the same spot of a row are set apart.
  const lastX = {};
  const placed = [];
  entries.forEach((e, i) => {
    let mx = x(times[i]);
    if (lastX[e.step] !== undefined && mx < lastX[e.step] + 16)
      mx = lastX[e.step] + 16;
    lastX[e.step] = mx;
    placed.push({ e, mx, my: y(e.step) });
  });
  for (const p of placed) {
    if (p.e.action !== 'compensate')
      continue;
    const undone = placed.filter((q) => q.e.step === p.e.step && q.e.action === 'execute').pop();
    const toX = undone ? undone.mx : left;
    const lift = 12 + Math.min(20, Math.abs(p.mx - toX) / 8);
    s.append(svg('path', { class: 'back',
      d: `M ${p.mx - 7} ${p.my} C ${p.mx - 20} ${p.my - lift}, ${toX + 20} ${p.my - lift}, ${toX + 2} ${p.my - 8}` }));
  }
  for (const { e, mx, my } of placed) {
    let m;
    if (e.action === 'query')
      m = svg('path', { d: `M ${mx} ${my - 8} L ${mx + 8} ${my} L ${mx} ${my + 8} L ${mx - 8} ${my} Z` });
    else if (e.action === 'compensate')
      m = svg('path', { d: `M ${mx - 8} ${my} L ${mx + 6} ${my - 8} L ${mx + 6} ${my + 8} Z` });
    else
      m = svg('circle', { cx: mx, cy: my, r: 7 });
    m.setAttribute('class', 'mark ' + e.outcome);
    m.setAttribute('data-step', e.step);
    m.setAttribute('data-action', e.action);
    m.setAttribute('data-outcome', e.outcome);
    m.setAttribute('data-attempt', String(e.attempt));
    const tip = svg('title');
    tip.textContent = `${e.step} ${e.action} #${e.attempt}: ${e.outcome}` +
      (e.error ? ' (' + e.error + ')' : '') + ' at ' + shortTime(e.at);
    m.append(tip);
    s.append(m);
  }
  box.replaceChildren(s);
}

async function redrive() {
  const id = view.booking;
  const button = $('#redrive');
  button.disabled = true;
  const msg = $('#detail-message');
  try {
    const res = await api('POST', '/api/v1/bookings/' + encodeURIComponent(id) + '/retry',
                          { kind: 'admin', headers: { Prefer: 'wait=10' } });
    const body = await json(res);
    msg.hidden = false;
    if (res.ok)
      msg.textContent = 'Re-driven: the booking is now ' + label(body.status) + '.';
    else
      msg.textContent = 'Re-drive refused (HTTP ' + res.status + ')' +
        (body && body.detail ? ': ' + body.detail : '.');
  } finally {
    button.disabled = false;
  }
  await renderBooking(id);
  await loadSummary();
}

// -- live charts --------------------------------------------------------------

/// Samples of a Prometheus text exposition: {name, labels, value}.
function parseMetrics(text) {
  const out = [];
  for (const line of text.split('\n')) {
    if (!line || line[0] === '#')
      continue;
    const m = line.match(/^([a-zA-Z_:][\w:]*)(\{(.*)\})?\s+(\S+)/);
    if (!m)
      continue;
    const labels = {};
    if (m[3])
      for (const l of m[3].matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g))
        labels[l[1]] = l[2];
    out.push({ name: m[1], labels, value: parseFloat(m[4]) });
  }
  return out;
}

const sum = (samples, name, pred = () => true) =>
  samples.filter((s) => s.name === name && pred(s.labels)).reduce((a, s) => a + s.value, 0);

/// Quantile `q` of the requests between two scrapes, from the histogram's
/// cumulative buckets (summed over routes), in milliseconds.
function quantile(prev, cur, q) {
  const buckets = (samples) => {
    const by = {};
    for (const s of samples)
      if (s.name === 'booking_http_request_duration_seconds_bucket')
        by[s.labels.le] = (by[s.labels.le] || 0) + s.value;
    return by;
  };
  const a = buckets(prev);
  const b = buckets(cur);
  const les = Object.keys(b).filter((le) => le !== '+Inf').map(Number).sort((x, y) => x - y);
  const total = (b['+Inf'] || 0) - (a['+Inf'] || 0);
  if (total <= 0)
    return null;
  let below = 0;
  let lower = 0;
  for (const le of les) {
    const n = (b[String(le)] || 0) - (a[String(le)] || 0);
    if (n >= q * total) {
      const inBucket = n - below;
      const f = inBucket > 0 ? (q * total - below) / inBucket : 1;
      return (lower + f * (le - lower)) * 1000;
    }
    below = n;
    lower = le;
  }
  return lower * 1000;
}

const series = {
  sagas: {}, inflight: { 'in flight': [] },
  outbox: { backlog: [], 'lag (s)': [] }, latency: { p50: [], p99: [] },
};
let lastScrape = null;

function push(list, t, v) {
  list.push({ t, v });
  if (list.length > POINTS)
    list.shift();
}

async function scrape() {
  let text;
  try {
    const res = await fetch('/metrics');
    if (!res.ok)
      return;
    text = await res.text();
  } catch (e) {
    return;
  }
  const now = Date.now();
  const samples = parseMetrics(text);
  if (lastScrape) {
    const dt = (now - lastScrape.t) / 1000;
    for (const outcome of Object.keys(OUTCOME_COLORS)) {
      const pick = (l) => l.outcome === outcome;
      const d = sum(samples, 'booking_sagas_completed_total', pick) -
                sum(lastScrape.samples, 'booking_sagas_completed_total', pick);
      push(series.sagas[outcome] = series.sagas[outcome] || [], now, Math.max(0, d) / dt);
    }
    for (const [name, q] of [['p50', 0.5], ['p99', 0.99]]) {
      const v = quantile(lastScrape.samples, samples, q);
      push(series.latency[name], now, v === null ? 0 : v);
    }
  }
  push(series.inflight['in flight'], now, sum(samples, 'booking_sagas_in_flight'));
  push(series.outbox.backlog, now, sum(samples, 'booking_amqp_outbox_backlog'));
  push(series.outbox['lag (s)'], now, sum(samples, 'booking_amqp_outbox_lag_seconds'));
  lastScrape = { t: now, samples };
  drawChart($('#chart-sagas'), series.sagas, OUTCOME_COLORS, $('#legend-sagas'));
  drawChart($('#chart-inflight'), series.inflight, { 'in flight': '#1f4e79' });
  drawChart($('#chart-outbox'), series.outbox, { backlog: '#1f4e79', 'lag (s)': '#d97706' },
            $('#legend-outbox'), 'lag (s)');
  drawChart($('#chart-latency'), series.latency, { p50: '#2e8540', p99: '#c62828' },
            $('#legend-latency'));
  $('#charts-age').textContent = 'updated ' + new Date(now).toLocaleTimeString();
}

/// Line chart of `data` (name -> points) into `box` (viewBox 320x140);
/// the series named `rightAxis`, if any, gets a scale of its own.
function drawChart(box, data, colors, legend, rightAxis) {
  const W = 320, H = 110, L = 34, R = rightAxis ? 34 : 8, T = 8, B = 16;
  const all = Object.values(data).flat();
  box.replaceChildren();
  if (!all.length)
    return;
  const t0 = Math.min(...all.map((p) => p.t));
  const t1 = Math.max(t0 + 1, ...all.map((p) => p.t));
  const maxOf = (names) => {
    const vs = names.flatMap((n) => data[n] || []).map((p) => p.v);
    const m = Math.max(0, ...vs);
    return m > 0 ? m * 1.1 : 1;
  };
  const leftNames = Object.keys(data).filter((n) => n !== rightAxis);
  const lmax = maxOf(leftNames);
  const rmax = rightAxis ? maxOf([rightAxis]) : 1;
  for (const f of [0, 0.5, 1]) {
    const gy = T + (1 - f) * (H - T - B);
    box.append(svg('line', { class: 'grid', x1: L, x2: W - R, y1: gy, y2: gy }));
    const t = svg('text', { class: 'label', x: L - 3, y: gy + 3, 'text-anchor': 'end' });
    t.textContent = fmt(f * lmax);
    box.append(t);
    if (rightAxis) {
      const r = svg('text', { class: 'label', x: W - R + 3, y: gy + 3 });
      r.textContent = fmt(f * rmax);
      box.append(r);
    }
  }
  const since = svg('text', { class: 'label', x: L, y: H - 3 });
  since.textContent = '-' + Math.round((t1 - t0) / 1000) + ' s';
  box.append(since);
  if (legend)
    legend.replaceChildren();
  for (const [name, points] of Object.entries(data)) {
    const max = name === rightAxis ? rmax : lmax;
    const pts = points.map((p) => {
      const px = L + ((p.t - t0) / (t1 - t0)) * (W - L - R);
      const py = T + (1 - p.v / max) * (H - T - B);
      return px.toFixed(1) + ',' + py.toFixed(1);
    });
    const line = svg('polyline', { points: pts.join(' '), stroke: colors[name] || '#1f4e79',
                                   'data-series': name, 'data-points': String(pts.length) });
    box.append(line);
    if (legend) {
      const swatch = el('i');
      swatch.style.background = colors[name] || '#1f4e79';
      legend.append(el('span', {}, swatch, name.replace('_', ' ')));
    }
  }
}

function fmt(v) {
  if (v >= 1000)
    return (v / 1000).toFixed(1) + 'k';
  if (v >= 10)
    return v.toFixed(0);
  return v.toFixed(v === 0 ? 0 : 1);
}

// -- start --------------------------------------------------------------------

async function start() {
  $('#back').onclick = () => showList();
  $('#refresh').onclick = async () => { await loadSummary(); await showList(); };
  $('#more').onclick = () => loadList(true);
  $('#redrive').onclick = () => redrive();
  await loadSummary();
  if (view.summary && view.summary.compensation_failed > 0)
    view.status = 'compensation_failed';
  await showList();
  await scrape();
  setInterval(scrape, REFRESH_MS);
  setInterval(() => { loadSummary(); }, REFRESH_MS * 5);
}

start();
