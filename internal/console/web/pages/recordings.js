// pages/recordings.js: #/recordings — search the recordings catalogue (GET /api/v1/recordings,
// cursor-paged); #/recordings/<id> is the detail view in recording.js.
//
// The search lives in the hash query (#/recordings?stream=cam&state=over), so back/forward and
// reloads keep it: submitting the form only changes the hash, and the router renders again.
import {api, el, field, fmtBytes, fmtSeconds, fmtTime, notice, replace, showError, stateBadge, toLocalInput, toRFC3339} from '../lib.js';

// The enums of openapi.json (RecordingState, RecordingMode).
const STATES = ['recording', 'paused', 'over', 'failed', 'not_recorded'];
const MODES = ['auto', 'on_demand_http', 'on_demand_param', 'manual', 'plan', 'clip', 'event'];

// PAGE is how many recordings one request (and one "More") loads.
const PAGE = 50;

// The query parameters the search form sets; from and to are RFC 3339 in the hash.
const TEXT_KEYS = ['domain', 'app', 'stream', 'state', 'mode'];

export async function render(ctx) {
  if (ctx.params[0]) {
    const detail = await import('./recording.js');
    return detail.render(ctx);
  }
  return renderList(ctx);
}

async function renderList(ctx) {
  const q = ctx.query;
  const form = searchForm(q);
  const summary = el('p', {class: 'hint', 'aria-live': 'polite'});
  const body = el('tbody');
  const table = el('div', {class: 'table-wrap'},
    el('table', {'aria-label': 'Recordings'},
      el('thead', {}, el('tr', {},
        el('th', {scope: 'col'}, 'Stream'),
        el('th', {scope: 'col'}, 'State'),
        el('th', {scope: 'col', class: 'hide-narrow'}, 'Mode'),
        el('th', {scope: 'col'}, 'Started'),
        el('th', {scope: 'col', class: 'hide-narrow'}, 'Ended'),
        el('th', {scope: 'col'}, 'Duration'))),
      body));
  const more = el('button', {type: 'button', 'data-action': 'more', hidden: true}, 'More');
  replace(ctx.root,
    el('h1', {}, 'Recordings'),
    form,
    summary,
    table,
    el('div', {class: 'actions'}, more),
    retentionSection(ctx));

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const hash = searchHash(form);
    // The same search again: the hash does not change, so load it here.
    if (location.hash === hash) load(null);
    else ctx.navigate(hash);
  });
  form.querySelector('[data-action=reset]').addEventListener('click', () => ctx.navigate('#/recordings'));

  const query = {limit: PAGE};
  for (const k of [...TEXT_KEYS, 'from', 'to']) {
    if (q.get(k)) query[k] = q.get(k);
  }
  let cursor = '';
  let shown = 0;

  async function load(after) {
    more.disabled = true;
    try {
      const page = await api('GET', '/recordings', {query: {...query, cursor: after || ''}, signal: ctx.signal});
      if (!after) {
        body.replaceChildren();
        shown = 0;
      }
      for (const r of page.items || []) body.append(row(r));
      shown += (page.items || []).length;
      cursor = page.next_cursor || '';
      more.hidden = !cursor;
      if (!shown) {
        body.append(el('tr', {}, el('td', {colspan: 6, class: 'empty'},
          Object.keys(query).length > 1 ? 'No recording matches this search.' : 'No recordings yet: publish a stream that a recording rule covers.')));
      }
      summary.textContent = shown ? `Showing ${shown} of ${page.total}.` : '';
    } catch (e) {
      if (e.name === 'AbortError') return;
      showError(form, e);
    } finally {
      more.disabled = false;
    }
  }

  more.addEventListener('click', () => load(cursor));
  await load(null);
}

function searchForm(q) {
  const opt = (values) => [['', 'any'], ...values.map((v) => [v, v])];
  return el('form', {'data-form': 'recording-search', class: 'card', role: 'search'},
    el('div', {class: 'grid'},
      field('Domain', {name: 'domain', value: q.get('domain') || '', spellcheck: 'false'}),
      field('App', {name: 'app', value: q.get('app') || '', spellcheck: 'false'}),
      field('Stream', {name: 'stream', value: q.get('stream') || '', spellcheck: 'false'}),
      field('State', {tag: 'select', name: 'state', value: q.get('state') || '', options: opt(STATES)}),
      field('Mode', {tag: 'select', name: 'mode', value: q.get('mode') || '', options: opt(MODES)}),
      field('From', {type: 'datetime-local', step: 1, name: 'from', value: toLocalInput(q.get('from'))},
        'started at or after (your time zone)'),
      field('To', {type: 'datetime-local', step: 1, name: 'to', value: toLocalInput(q.get('to'))},
        'started before')),
    el('div', {class: 'actions'},
      el('button', {type: 'submit', class: 'primary', 'data-action': 'search'}, 'Search'),
      el('button', {type: 'button', 'data-action': 'reset'}, 'Clear')));
}

// searchHash turns the form into the list's hash route.
function searchHash(form) {
  const p = new URLSearchParams();
  for (const k of TEXT_KEYS) {
    const v = form.elements[k].value.trim();
    if (v) p.set(k, v);
  }
  for (const k of ['from', 'to']) {
    const v = toRFC3339(form.elements[k].value);
    if (v) p.set(k, v);
  }
  const qs = p.toString();
  return qs ? `#/recordings?${qs}` : '#/recordings';
}

function row(r) {
  const href = `#/recordings/${encodeURIComponent(r.id)}`;
  return el('tr', {dataset: {id: r.id}},
    el('td', {}, el('a', {href}, `${r.domain}/${r.app}/${r.stream}`)),
    el('td', {}, stateBadge(r.state)),
    el('td', {class: 'hide-narrow'}, r.mode || '—'),
    el('td', {}, fmtTime(r.started_at)),
    el('td', {class: 'hide-narrow'}, fmtTime(r.ended_at)),
    el('td', {class: 'num'}, fmtSeconds(recordingSeconds(r))));
}

/** recordingSeconds is how long a recording lasted (so far, while it runs). */
export function recordingSeconds(r) {
  const start = Date.parse(r.started_at);
  const end = r.ended_at ? Date.parse(r.ended_at) : Date.now();
  return isNaN(start) || isNaN(end) ? null : (end - start) / 1000;
}

// retentionSection shows, on demand, what the next retention pass would delete: the stored
// files of unlocked recordings whose rule's retention has run out (GET /retention/preview).
function retentionSection(ctx) {
  const body = el('tbody');
  const summary = el('p', {class: 'hint', 'aria-live': 'polite'});
  const wrap = el('div', {class: 'table-wrap', hidden: true},
    el('table', {'aria-label': 'Due for deletion'},
      el('thead', {}, el('tr', {},
        el('th', {scope: 'col'}, 'Due'),
        el('th', {scope: 'col'}, 'Object'),
        el('th', {scope: 'col', class: 'num'}, 'Size'),
        el('th', {scope: 'col', class: 'hide-narrow'}, 'Storage'),
        el('th', {scope: 'col'}, 'Recording'))),
      body));
  const button = el('button', {type: 'button', 'data-action': 'retention-preview'}, 'Show what retention deletes next');
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      const res = await api('GET', '/retention/preview', {signal: ctx.signal});
      const files = (res && res.files) || [];
      let bytes = 0;
      for (const f of files) bytes += f.bytes || 0;
      summary.textContent = files.length ?
        `The next pass would delete ${files.length} ${files.length === 1 ? 'file' : 'files'} (${fmtBytes(bytes)}).` :
        'Nothing is due: the next pass would delete no file.';
      replace(body, files.map((f) => el('tr', {dataset: {id: f.id}},
        el('td', {}, fmtTime(f.due_at)),
        el('td', {}, el('code', {class: 'object-key'}, f.object_key)),
        el('td', {class: 'num'}, fmtBytes(f.bytes)),
        el('td', {class: 'hide-narrow'}, `${f.endpoint} / ${f.bucket}`),
        el('td', {}, el('a', {href: `#/recordings/${encodeURIComponent(f.recording_id)}`}, 'open')))));
      wrap.hidden = !files.length;
      button.textContent = 'Refresh';
    } catch (e) {
      if (e.name !== 'AbortError' && e.status !== 401) notice(`retention preview: ${e.message}`, 'error');
    } finally {
      button.disabled = false;
    }
  });
  return el('section', {class: 'card retention', id: 'retention-preview', 'aria-labelledby': 'retention-title'},
    el('h2', {id: 'retention-title'}, 'Retention'),
    el('p', {class: 'hint'}, 'Files are deleted once their rule\'s retention has passed since their recording ended. ' +
      'Lock a recording (on its page) to keep it. This lists what the next pass would delete.'),
    el('div', {class: 'actions'}, button),
    summary,
    wrap);
}
