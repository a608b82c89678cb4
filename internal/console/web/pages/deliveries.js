// pages/deliveries.js: the callback delivery log (#/deliveries?state=failed&…) — filters kept
// in the hash, paging, each delivery's attempts, and redeliver for failed ones.
import {api, el, fmtTime, notice, replace, showError, stateBadge, toLocalInput, toRFC3339} from '../lib.js';

const PAGE = 50;
// REFRESH_MS is how often the list is fetched again while it shows pending deliveries.
const REFRESH_MS = 3000;
// FILTERS are the query parameters of GET /api/v1/deliveries the form sets (and the hash keeps).
// COLUMNS head the list; on a phone each cell shows its column's name (table.stack).
const COLUMNS = ['Event', 'Stream', 'Callback URL', 'State', 'Attempts', 'Last status', 'Last error',
  'Next attempt', 'Created', 'Actions'];
const FILTERS = ['state', 'callback_id', 'recording_id', 'domain', 'app', 'stream', 'since', 'until'];

export async function render(ctx) {
  const {root, signal, query} = ctx;
  const filters = {};
  for (const k of FILTERS) {
    if (query.get(k)) filters[k] = query.get(k);
  }
  const offset = Math.max(0, parseInt(query.get('offset') || '0', 10) || 0);
  const open = new Set(); // delivery ids whose attempts are shown
  let deliveries = [];
  let total = 0;

  // callbacks maps a configuration id to it, to show where each delivery goes.
  let callbacks = new Map();
  try {
    const r = await api('GET', '/callbacks', {query: {limit: 1000}, signal});
    callbacks = new Map((r.callbacks || []).map((c) => [c.id, c]));
  } catch (e) {
    if (e.name === 'AbortError' || e.status === 401) return;
    showError(null, e);
  }

  const form = filterForm(filters, callbacks, (f) => go(f, 0));
  const listSlot = el('div', {class: 'table-wrap'});
  const pager = el('div', {class: 'pager actions'});
  replace(root,
    el('h1', {}, 'Deliveries'),
    el('p', {class: 'hint'}, 'Every event sent to a callback URL, newest first. A failed delivery is no longer retried: ' +
      'redeliver it once its receiver is fixed.'),
    form, pager, listSlot);

  // go moves to another filter or page; the hash keeps it, so reloads and links show the same.
  function go(f, off) {
    const q = new URLSearchParams();
    for (const k of FILTERS) {
      if (f[k]) q.set(k, f[k]);
    }
    if (off) q.set('offset', String(off));
    const hash = '#/deliveries' + (q.toString() ? '?' + q : '');
    if (location.hash === hash) load().catch(report);
    else ctx.navigate(hash);
  }

  function report(e) {
    if (e.name !== 'AbortError') showError(null, e);
  }

  async function load() {
    const r = await api('GET', '/deliveries', {query: {...filters, offset, limit: PAGE, order: 'desc'}, signal});
    deliveries = r.deliveries || [];
    total = r.total || 0;
    renderList();
    // Attempts shown before the refresh are shown again with what was added since.
    await Promise.all([...open].filter((id) => deliveries.some((d) => d.id === id)).map(showAttempts));
  }

  function renderList() {
    replace(pager,
      el('span', {class: 'hint'}, total ? `${offset + 1}–${offset + deliveries.length} of ${total}` : ''),
      el('button', {type: 'button', 'data-action': 'prev', disabled: offset === 0,
        onclick: () => go(filters, Math.max(0, offset - PAGE))}, 'Newer'),
      el('button', {type: 'button', 'data-action': 'next', disabled: offset + deliveries.length >= total,
        onclick: () => go(filters, offset + PAGE)}, 'Older'));
    if (!deliveries.length) {
      const any = Object.keys(filters).length > 0;
      replace(listSlot, el('p', {class: 'empty'}, any ? 'No delivery matches these filters.' :
        'No deliveries yet: they appear when a callback is sent an event.'));
      return;
    }
    replace(listSlot, el('table', {class: 'stack'},
      el('thead', {}, el('tr', {}, COLUMNS.map((c, i) => el('th', {class: i === 4 ? 'num' : null}, c)))),
      el('tbody', {}, deliveries.map(row))));
  }

  function row(d) {
    const ev = d.event || {};
    const data = ev.data || {};
    const cb = callbacks.get(d.callback_id);
    const stream = data.stream ? `${data.domain}/${data.app}/${data.stream}` : '';
    return el('tr', {dataset: {id: d.id}},
      cell(0, {}, ev.type || '', el('small', {class: 'hint mono'}, d.event_id)),
      cell(1, {}, el('span', {class: 'mono'}, stream || '—'),
        data.recording_id ? el('small', {class: 'hint mono'}, data.recording_id) : null),
      cell(2, {}, cb ?
        el('span', {class: 'mono'}, cb.url || cb.on_demand_url, ' ', el('small', {class: 'hint'}, `${cb.dialect}`)) :
        el('span', {class: 'hint mono'}, `${d.callback_id} (deleted)`)),
      cell(3, {}, stateBadge(d.state)),
      cell(4, {class: 'num'}, String(d.attempts)),
      cell(5, {class: 'status'}, d.last_status ? `HTTP ${d.last_status}` : '—'),
      cell(6, {}, d.last_error ? el('span', {class: 'mono'}, d.last_error) : ''),
      cell(7, {}, d.state === 'pending' ? fmtTime(d.next_at) : ''),
      cell(8, {}, fmtTime(d.created_at)),
      cell(9, {}, el('div', {class: 'row-actions'},
        el('button', {type: 'button', 'data-action': 'attempts', 'aria-expanded': String(open.has(d.id)),
          onclick: () => toggleAttempts(d.id)}, 'Attempts'),
        d.state === 'failed' ?
          el('button', {type: 'button', class: 'primary', 'data-action': 'redeliver', onclick: (e) => redeliver(d, e.currentTarget)},
            'Redeliver') : null)));
  }

  async function toggleAttempts(id) {
    if (open.has(id)) {
      open.delete(id);
      const tr = rowOf(id);
      if (tr) tr.querySelector('[data-action=attempts]').setAttribute('aria-expanded', 'false');
      const ex = attemptsRowOf(id);
      if (ex) ex.remove();
      return;
    }
    open.add(id);
    try {
      await showAttempts(id);
    } catch (e) {
      open.delete(id);
      report(e);
    }
  }

  // showAttempts fetches a delivery's attempt log and shows it in a row under the delivery.
  async function showAttempts(id) {
    const r = await api('GET', `/deliveries/${encodeURIComponent(id)}/attempts`, {signal});
    const tr = rowOf(id);
    if (!tr || !open.has(id)) return;
    tr.querySelector('[data-action=attempts]').setAttribute('aria-expanded', 'true');
    const as = r.attempts || [];
    const body = as.length ? el('table', {class: 'attempts'},
      el('thead', {}, el('tr', {}, el('th', {}, 'Time'), el('th', {}, 'Status'), el('th', {}, 'Error'),
        el('th', {class: 'num'}, 'Duration'))),
      el('tbody', {}, as.map((a) => el('tr', {},
        el('td', {}, fmtTime(a.at)),
        el('td', {}, a.status ? `HTTP ${a.status}` : 'no answer'),
        el('td', {}, a.error ? el('span', {class: 'mono'}, a.error) : '',
          a.reply_head ? el('small', {class: 'hint mono'}, `reply: ${a.reply_head}`) : null),
        el('td', {class: 'num'}, fmtLatency(a.latency_ns)))))) :
      el('p', {class: 'empty'}, 'Not attempted yet.');
    const ex = el('tr', {class: 'attempts-row', dataset: {attemptsFor: id}},
      el('td', {colspan: String(COLUMNS.length)}, el('h3', {}, `Attempts of ${id}`), el('div', {class: 'table-wrap'}, body)));
    const old = attemptsRowOf(id);
    if (old) old.replaceWith(ex);
    else tr.after(ex);
  }

  async function redeliver(d, button) {
    button.disabled = true;
    try {
      await api('POST', `/deliveries/${encodeURIComponent(d.id)}/redeliver`, {signal});
      notice('delivery queued again');
      await load();
    } catch (e) {
      button.disabled = false;
      report(e);
    }
  }

  function rowOf(id) {
    return listSlot.querySelector(`tr[data-id="${CSS.escape(id)}"]`);
  }

  function attemptsRowOf(id) {
    return listSlot.querySelector(`tr[data-attempts-for="${CSS.escape(id)}"]`);
  }

  try {
    await load();
  } catch (e) {
    if (e.name === 'AbortError' || e.status === 401) return;
    // A bad filter (a hand-edited hash) is shown beside its field.
    showError(form, e);
    replace(listSlot, el('p', {class: 'empty'}, 'The deliveries could not be listed.'));
  }
  // Pending deliveries change on their own: follow them until none is shown.
  let first = true;
  ctx.every(REFRESH_MS, async () => {
    if (first) {
      first = false;
      return;
    }
    if (deliveries.some((d) => d.state === 'pending')) await load();
  });
}

// filterForm builds the search form; onSearch gets the chosen filters.
function filterForm(filters, callbacks, onSearch) {
  const f = filters;
  const input = (label, name, attrs = {}) => el('label', {}, label,
    el('input', {name, value: f[name] || '', spellcheck: 'false', ...attrs}),
    el('span', {class: 'field-error', dataset: {for: name}, role: 'alert'}));
  const cbOptions = [el('option', {value: ''}, 'any')];
  for (const c of callbacks.values()) {
    cbOptions.push(el('option', {value: c.id, selected: f.callback_id === c.id},
      `${c.domain}/${c.app} · ${c.dialect} · ${c.url || c.on_demand_url}`));
  }
  if (f.callback_id && !callbacks.has(f.callback_id)) {
    cbOptions.push(el('option', {value: f.callback_id, selected: true}, f.callback_id));
  }
  const form = el('form', {'data-form': 'delivery-search', class: 'card toolbar'},
    el('label', {}, 'State',
      el('select', {name: 'state'}, [['', 'any'], ['pending', 'pending'], ['delivered', 'delivered'], ['failed', 'failed']]
        .map(([v, t]) => el('option', {value: v, selected: (f.state || '') === v}, t))),
      el('span', {class: 'field-error', dataset: {for: 'state'}, role: 'alert'})),
    el('label', {}, 'Callback', el('select', {name: 'callback_id'}, cbOptions),
      el('span', {class: 'field-error', dataset: {for: 'callback_id'}, role: 'alert'})),
    input('Recording id', 'recording_id'),
    input('Domain', 'domain'),
    input('App', 'app'),
    input('Stream', 'stream'),
    input('From', 'since', {type: 'datetime-local', step: '1', value: toLocalInput(f.since)}),
    input('To', 'until', {type: 'datetime-local', step: '1', value: toLocalInput(f.until)}),
    el('div', {class: 'actions'},
      el('button', {type: 'submit', class: 'primary', 'data-action': 'search'}, 'Search'),
      el('button', {type: 'button', 'data-action': 'failures', onclick: () => onSearch({...filters, state: 'failed'})}, 'Failures'),
      el('button', {type: 'button', 'data-action': 'clear', onclick: () => onSearch({})}, 'Clear')));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const out = {};
    for (const k of FILTERS) {
      const v = form[k].value.trim();
      if (!v) continue;
      out[k] = k === 'since' || k === 'until' ? toRFC3339(v) : v;
    }
    onSearch(out);
  });
  return form;
}

function cell(i, attrs, ...children) {
  return el('td', {...attrs, 'data-label': COLUMNS[i]}, ...children);
}

// fmtLatency shows an attempt's duration (nanoseconds) in milliseconds or seconds.
function fmtLatency(ns) {
  if (!ns) return '';
  const ms = ns / 1e6;
  return ms < 1000 ? `${ms.toFixed(ms < 10 ? 1 : 0)} ms` : `${(ms / 1000).toFixed(2)} s`;
}
