// The operations page: polls the service's /ops/api routes and draws them with the DOM (no
// framework, no inline script or style: the page's Content-Security-Policy forbids both).
// Dead letters use the existing /dead-letters routes with the operator's X-Api-Key, kept in
// sessionStorage only (this tab, this session).

const POLL_MS = 1500;
const KEY_STORE = 'orderexport.operations.apiKey';
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SVG = 'http://www.w3.org/2000/svg';

const $ = (selector) => document.querySelector(selector);
let journeyOrderId = null;

/** An element with attributes and children (strings become text nodes: data is never parsed as HTML). */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) el.addEventListener(name.slice(2), value);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

function svg(tag, attrs = {}, text) {
  const el = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, String(value));
  if (text !== undefined) el.textContent = text;
  return el;
}

/** A status as a word with a colour class: the word is always there, the colour only helps. */
function badge(word, tone) {
  return h('span', { class: `badge state-${tone}` }, word);
}

const tones = {
  Healthy: 'ok', Degraded: 'warn', Unhealthy: 'bad',
  Exported: 'ok', Published: 'warn', Pending: 'warn', NotRequested: 'unknown', DeadLettered: 'bad',
  Done: 'ok', Waiting: 'warn', Failed: 'bad', Unknown: 'unknown',
  Unresolved: 'bad', Replayed: 'ok', Discarded: 'unknown',
  Stable: 'ok', Empty: 'unknown', Dead: 'bad', PreparingRebalance: 'warn', CompletingRebalance: 'warn',
  Draft: 'unknown', Confirmed: 'ok',
};
const tone = (word) => tones[word] ?? 'unknown';

function seconds(value) {
  if (value === null || value === undefined) return 'unknown';
  if (value < 1) return `${Math.round(value * 1000)} ms`;
  if (value < 120) return `${value.toFixed(1)} s`;
  return `${(value / 60).toFixed(1)} min`;
}

const time = (iso) => (iso ? new Date(iso).toISOString().replace('T', ' ').slice(0, 19) : '');

function show(el, text) {
  el.textContent = text ?? '';
  el.hidden = !text;
}

async function getJson(url, options = {}) {
  const response = await fetch(url, { ...options, headers: { Accept: 'application/json', ...(options.headers ?? {}) } });
  const type = response.headers.get('content-type') ?? '';
  const body = type.includes('json') ? await response.json() : null;
  return { ok: response.ok, status: response.status, body };
}

/** A ProblemDetails answer in words: title, then detail. */
function problemText(result) {
  const p = result.body ?? {};
  return `${result.status} ${p.title ?? 'Error'}${p.detail ? `: ${p.detail}` : ''}`;
}

// ---- Pipeline now ----------------------------------------------------------------------------

function drawChart(rates) {
  const chart = $('#rate-chart');
  const width = 600, height = 160, left = 34, bottom = 18, top = 8, right = 6;
  const max = Math.max(1, ...rates.map((r) => Math.max(r.confirmed, r.exported)));
  const n = Math.max(rates.length, 2);
  const x = (i) => left + ((width - left - right) * i) / (n - 1);
  const y = (v) => top + (height - top - bottom) * (1 - v / max);
  const line = (field) => rates.map((r, i) => `${x(i).toFixed(1)},${y(r[field]).toFixed(1)}`).join(' ');
  chart.replaceChildren(
    svg('line', { class: 'axis', x1: left, y1: top, x2: left, y2: height - bottom }),
    svg('line', { class: 'axis', x1: left, y1: height - bottom, x2: width - right, y2: height - bottom }),
    svg('text', { x: left - 4, y: top + 10, 'text-anchor': 'end' }, String(max)),
    svg('text', { x: left - 4, y: height - bottom, 'text-anchor': 'end' }, '0'),
    svg('text', { x: left, y: height - 4 }, rates.length ? `${Math.round(rates.length / 60 * 10) / 10} min ago` : 'no samples yet'),
    svg('text', { x: width - right, y: height - 4, 'text-anchor': 'end' }, 'now'),
    svg('polyline', { class: 'line-confirmed', points: line('confirmed') }),
    svg('polyline', { class: 'line-exported', points: line('exported') }),
  );
  const last = rates.slice(-10);
  const avg = (field) => (last.length ? last.reduce((s, r) => s + r[field], 0) / last.length : 0).toFixed(1);
  $('#rate-window').textContent = `${Math.max(1, Math.round(rates.length / 60))} min`;
  $('#rate-now').textContent = `Last 10 s: ${avg('confirmed')} confirmed/s, ${avg('exported')} exported/s.`;
}

function renderOverview(o) {
  drawChart(o.rates);
  $('#outbox-pending').textContent = `${o.outbox.pending} row(s)`;
  $('#outbox-age').textContent = o.outbox.pending > 0 ? seconds(o.outbox.oldestAgeSeconds) : 'none waiting';
  const c = o.consumer;
  $('#consumer-lag').textContent = c.partitions.length === 0 ? 'no partitions assigned to this instance'
    : `${c.total} record(s) on ${c.partitions.length} partition(s)`
      + (c.unknownPartitions ? `; unknown on ${c.unknownPartitions} (nothing fetched there yet)` : '');
  $('#dead-letters-unresolved').textContent = String(o.unresolvedDeadLetters);
  $('#readiness-status').replaceChildren(badge(o.readiness.status, tone(o.readiness.status)));
  $('#readiness').replaceChildren(...o.readiness.checks.map((c) =>
    h('li', { 'data-check': c.name }, h('strong', {}, `${c.name}: `), badge(c.status, tone(c.status)), c.description ? ` ${c.description}` : '')));
}

// ---- Kafka -----------------------------------------------------------------------------------

function renderKafka(k) {
  $('#kafka-bootstrap').textContent = `Bootstrap ${k.bootstrapServers}${k.embedded ? ' (the embedded development broker, librdkafka\'s mock cluster)' : ''}`;
  show($('#kafka-brokers-error'), k.cluster.error);
  const cluster = k.cluster.data;
  $('#kafka-brokers').replaceChildren(...(cluster?.brokers ?? []).map((b) => h('li', { 'data-broker': b.id },
    `Broker ${b.id} at ${b.host}:${b.port}`,
    cluster.controllerId === null ? '' : (b.id === cluster.controllerId ? ' — active controller' : ''))));

  $('#kafka-topics').replaceChildren(...k.topics.map((t) => h('div', { class: 'topic', 'data-topic': t.name },
    h('h4', {}, h('code', {}, t.name), t.partitions ? ` — ${t.partitions.length} partition(s)` : ''),
    t.error ? h('p', { class: 'error' }, t.error) : null,
    t.partitions ? h('div', { class: 'scroll' }, h('table', {},
      h('thead', {}, h('tr', {}, h('th', {}, 'Partition'), h('th', {}, 'Leader'), h('th', { class: 'num' }, 'End offset'))),
      h('tbody', {}, ...t.partitions.map((p) => h('tr', { 'data-partition': p.partition },
        h('td', {}, String(p.partition)), h('td', {}, `broker ${p.leader}`),
        h('td', { class: 'num end-offset' }, p.endOffset === null ? 'unknown' : String(p.endOffset))))))) : null)));

  const group = k.group;
  $('#kafka-group-id').textContent = group.groupId;
  const description = group.description.data;
  show($('#kafka-group-error'), group.description.error);
  $('#kafka-group-state').replaceChildren(description ? badge(description.state, tone(description.state)) : badge('Unknown', 'unknown'));
  $('#kafka-group-members').replaceChildren(...(description?.members ?? []).map((m) => h('li', { 'data-member': m.consumerId },
    h('code', {}, m.clientId), ` on ${m.host}: `,
    m.partitions.length ? m.partitions.map((p) => `${p.topic}[${p.partition}]`).join(', ') : 'no partitions')));
  if (description && description.members.length === 0) $('#kafka-group-members').append(h('li', {}, 'no members'));
  if (!description) {
    $('#kafka-group-members').append(h('li', { class: 'local-assignment' },
      'This instance\'s consumer (from the service, not the broker) owns ',
      k.thisInstancePartitions.length ? `partitions ${k.thisInstancePartitions.join(', ')}` : 'no partitions', '.'));
  }

  const offsets = group.offsets.data;
  show($('#kafka-offsets-error'), group.offsets.error);
  const lags = (offsets ?? []).map((o) => o.lag);
  $('#kafka-group-lag').textContent = !offsets ? 'unknown (see the error)'
    : lags.some((l) => l === null)
      ? `${lags.reduce((s, l) => s + (l ?? 0), 0)}; unknown on ${lags.filter((l) => l === null).length} partition(s) (records there, nothing committed yet)`
      : String(lags.reduce((s, l) => s + l, 0));
  $('#kafka-group-offsets tbody').replaceChildren(...(offsets ?? []).map((o) => h('tr', { 'data-partition': o.partition },
    h('td', {}, String(o.partition)),
    h('td', { class: 'num' }, o.committed === null ? 'none' : String(o.committed)),
    h('td', { class: 'num' }, o.endOffset === null ? 'unknown' : String(o.endOffset)),
    h('td', { class: 'num lag' }, o.lag === null ? 'unknown' : String(o.lag)))));
}

// ---- Orders ----------------------------------------------------------------------------------

function renderOrders(orders) {
  $('#orders-table tbody').replaceChildren(...orders.map((o) => h('tr', { 'data-order-id': o.id },
    h('td', {}, h('button', { type: 'button', class: 'link', title: 'Show the journey', onclick: () => openJourney(o.id) }, o.id)),
    h('td', { class: 'status' }, badge(o.status, tone(o.status))),
    h('td', { class: 'export-status' }, badge(o.exportStatus, tone(o.exportStatus))),
    h('td', {}, `${o.amount} ${o.currency}`),
    h('td', {}, time(o.createdAt)))));
  if (orders.length === 0) $('#orders-table tbody').append(h('tr', {}, h('td', { colspan: 5 }, 'No orders yet.')));
}

function openJourney(id) {
  journeyOrderId = id;
  $('#order-search-id').value = id;
  $('#journey').hidden = false;
  $('#journey-order-id').textContent = id;
  refreshJourney();
}

async function refreshJourney() {
  if (!journeyOrderId) return;
  const id = journeyOrderId;
  const result = await getJson(`/ops/api/orders/${id}/journey`);
  if (id !== journeyOrderId) return;
  if (!result.ok) {
    show($('#journey-error'), problemText(result));
    $('#journey-status').replaceChildren();
    $('#journey-steps').replaceChildren();
    return;
  }
  show($('#journey-error'), null);
  const j = result.body;
  $('#journey-status').replaceChildren(badge(j.order.exportStatus, tone(j.order.exportStatus)));
  $('#journey-steps').replaceChildren(...j.steps.map((s) => h('li', { 'data-step': s.name, 'data-state': s.state },
    h('strong', {}, s.name), ' ', badge(s.state, tone(s.state)), s.at ? ` ${time(s.at)}` : '',
    h('span', { class: 'detail' }, s.detail),
    h('span', { class: 'trace' }, 'trace id: ', s.traceId ? h('code', {}, s.traceId) : 'unknown'),
    s.note ? h('span', { class: 'note' }, s.note) : null)));
}

// ---- Dead letters ----------------------------------------------------------------------------

const apiKey = () => sessionStorage.getItem(KEY_STORE);

function renderKeyState() {
  $('#api-key-state').textContent = apiKey()
    ? 'A key is set for this tab (sessionStorage only).'
    : 'Enter the operations API key to list and act on dead letters; it is kept for this tab only.';
}

async function refreshDeadLetters() {
  const key = apiKey();
  if (!key) {
    $('#dead-letters-list').replaceChildren();
    return;
  }
  const query = new URLSearchParams();
  const status = $('#dl-status').value;
  const orderId = $('#dl-order').value.trim();
  if (status) query.set('status', status);
  if (orderId) {
    if (!GUID.test(orderId)) {
      $('#dl-message').textContent = 'The order id filter is not an order id (a GUID).';
      return;
    }
    query.set('orderId', orderId);
  }
  const result = await getJson(`/dead-letters?${query}`, { headers: { 'X-Api-Key': key } });
  if (!result.ok) {
    $('#dl-message').textContent = problemText(result);
    $('#dead-letters-list').replaceChildren();
    return;
  }
  if ($('#dl-message').dataset.kind !== 'action') $('#dl-message').textContent = '';
  const list = result.body;
  $('#dead-letters-list').replaceChildren(...list.map((d) => h('li', { 'data-dead-letter-id': d.id, 'data-order-id': d.orderId ?? '' },
    h('div', {}, h('strong', {}, `Dead letter ${d.id} `), badge(d.status, tone(d.status)),
      ` ${d.attempts} attempt(s), last failure ${time(d.lastFailureAt)}`),
    h('div', {}, 'Order: ', d.orderId ? h('button', { type: 'button', class: 'link', onclick: () => openJourney(d.orderId) }, d.orderId) : 'unknown'),
    h('div', {}, `From ${d.topic} partition ${d.partition} @ offset ${d.offset}`),
    h('div', {}, 'Key: ', h('code', {}, d.key ?? '(none)')),
    h('div', { class: 'error-text' }, `Error: ${d.errorType}: ${d.errorMessage}`),
    h('pre', { class: 'value' }, d.value + (d.valueTruncated ? ' …(truncated)' : '')),
    d.status === 'Unresolved' ? h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'replay', onclick: () => act(d.id, 'replay') }, 'Replay'),
      h('button', { type: 'button', class: 'discard', onclick: () => act(d.id, 'discard') }, 'Discard')) : null)));
  if (list.length === 0) $('#dead-letters-list').append(h('li', {}, 'No dead letters match.'));
}

async function act(id, action) {
  const result = await getJson(`/dead-letters/${id}/${action}`, { method: 'POST', headers: { 'X-Api-Key': apiKey() ?? '' } });
  const message = $('#dl-message');
  message.dataset.kind = 'action';
  message.textContent = result.ok
    ? (action === 'replay' ? `Replay of dead letter ${id} sent (${result.status}).` : `Dead letter ${id} discarded.`)
    : problemText(result);
  await refreshDeadLetters();
}

// ---- Wiring and polling ----------------------------------------------------------------------

$('#api-key-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const key = $('#api-key').value;
  if (key) sessionStorage.setItem(KEY_STORE, key);
  $('#api-key').value = '';
  $('#dl-message').dataset.kind = '';
  $('#dl-message').textContent = '';
  renderKeyState();
  refreshDeadLetters();
});
$('#api-key-forget').addEventListener('click', () => {
  sessionStorage.removeItem(KEY_STORE);
  renderKeyState();
  refreshDeadLetters();
});
$('#dead-letter-filters').addEventListener('submit', (event) => {
  event.preventDefault();
  $('#dl-message').dataset.kind = '';
  refreshDeadLetters();
});
$('#order-search').addEventListener('submit', (event) => {
  event.preventDefault();
  const id = $('#order-search-id').value.trim();
  if (!GUID.test(id)) {
    $('#journey').hidden = false;
    $('#journey-order-id').textContent = id;
    journeyOrderId = null;
    show($('#journey-error'), 'Not an order id: an order id is a GUID.');
    $('#journey-steps').replaceChildren();
    return;
  }
  openJourney(id);
});

async function refresh() {
  const started = Date.now();
  const failures = [];
  const step = async (name, work) => {
    try { await work(); } catch (error) { failures.push(`${name}: ${error.message}`); }
  };
  await Promise.all([
    step('overview', async () => { const r = await getJson('/ops/api/overview'); if (!r.ok) throw new Error(problemText(r)); renderOverview(r.body); }),
    step('kafka', async () => { const r = await getJson('/ops/api/kafka'); if (!r.ok) throw new Error(problemText(r)); renderKafka(r.body); }),
    step('orders', async () => { const r = await getJson('/ops/api/orders?limit=20'); if (!r.ok) throw new Error(problemText(r)); renderOrders(r.body); }),
    step('journey', refreshJourney),
    step('dead letters', refreshDeadLetters),
  ]);
  $('#refresh-status').textContent = failures.length
    ? `Refresh failed at ${time(new Date().toISOString())} UTC: ${failures.join('; ')}`
    : `Live: updated ${time(new Date().toISOString())} UTC (every ${POLL_MS / 1000} s)`;
  setTimeout(refresh, Math.max(200, POLL_MS - (Date.now() - started)));
}

renderKeyState();
refresh();
