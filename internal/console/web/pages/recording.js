// pages/recording.js: #/recordings/<id> — one recording: its properties, a live player while it
// runs, its files (play, download, copy URL), its events and deliveries, the index and clip
// forms and, for admins, removal of its stored files.
import {api, ask, clearErrors, copyButton, el, field, fmtBytes, fmtSeconds, fmtTime, notice, play, replace, showError,
  stateBadge, toLocalInput, toRFC3339} from '../lib.js';
import {recordingSeconds} from './recordings.js';

// REFRESH_MS is how often an unsettled recording (running, or files not yet stored) is
// fetched again.
const REFRESH_MS = 5000;

// PENDING_RETRY_MS is how often a pending event recording (not stored yet) is asked for again.
const PENDING_RETRY_MS = 2000;

const enc = encodeURIComponent;

// sleep waits ms and resolves true, or false as soon as signal aborts (the page was left).
function sleep(ms, signal) {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve(false);
      return;
    }
    const t = setTimeout(() => resolve(true), ms);
    signal.addEventListener('abort', () => {
      clearTimeout(t);
      resolve(false);
    }, {once: true});
  });
}

// NARROW marks the columns a phone screen leaves out.
const NARROW = 'hide-narrow';

export async function render(ctx) {
  const id = ctx.params[0];
  // ?pending=1: the id of an event recording just marked, listed only once its file is
  // stored, so a 404 means "not yet" rather than "no such recording".
  const pending = ctx.query.get('pending') === '1';
  let rec;
  for (let tries = 1; ; tries++) {
    try {
      rec = await api('GET', `/recordings/${enc(id)}`, {signal: ctx.signal});
      break;
    } catch (e) {
      if (e.status !== 404) throw e;
    }
    if (!pending) {
      replace(ctx.root,
        el('h1', {}, 'Recording not found'),
        el('p', {class: 'empty'}, `There is no recording ${id} in this project.`),
        el('p', {}, el('a', {href: '#/recordings'}, '← All recordings')));
      return;
    }
    replace(ctx.root,
      el('p', {}, el('a', {href: '#/recordings'}, '← All recordings')),
      el('h1', {}, 'Event recording'),
      el('p', {class: 'empty', 'data-state': 'pending', role: 'status'},
        `Recording ${id} is not stored yet, retrying every ${PENDING_RETRY_MS / 1000} s (tried ${tries} ${tries === 1 ? 'time' : 'times'}). ` +
        'An event recording is listed once its clip has been cut and stored, shortly after its post-roll ends.'));
    if (!await sleep(PENDING_RETRY_MS, ctx.signal)) return;
  }

  const player = filePlayer(ctx);
  const props = el('div');
  const live = liveSection(ctx);
  const files = el('tbody');
  const events = el('tbody');
  const deliveries = el('tbody');
  const failedLink = el('p', {hidden: true});
  const cut = cutForms(ctx, rec, player.play);
  const admin = ctx.who.admin ? deleteSection(ctx, id, () => reload()) : null;
  const lock = lockSection(ctx, id, () => reload());

  replace(ctx.root,
    el('p', {}, el('a', {href: '#/recordings'}, '← All recordings')),
    el('h1', {class: 'rec-title'}, `${rec.domain}/${rec.app}/${rec.stream}`),
    props,
    lock.node,
    live.node,
    el('h2', {}, 'Files'),
    table('Files', ['Format', '#', 'State', 'Start', 'Duration', 'Size', ['Picture', NARROW], 'Object', ['Storage', NARROW], 'Actions'], files),
    player.node,
    cut.node,
    el('h2', {}, 'Events'),
    table('Events', ['Type', 'Seq', 'Time', 'Data'], events),
    el('h2', {}, 'Deliveries'),
    failedLink,
    table('Deliveries', ['Callback', 'Event', 'State', 'Attempts', 'Last status'], deliveries),
    admin);

  function show(r) {
    rec = r;
    replace(props, propsList(r));
    lock.update(r);
    live.update(r);
    replace(files, ...(r.files.length ? r.files.map((f) => fileRow(f, player.play)) :
      [emptyRow(10, 'No files yet.')]));
    replace(events, ...(r.events.length ? r.events.map(eventRow) : [emptyRow(4, 'No events yet.')]));
    cut.update(r);
  }

  async function loadDeliveries() {
    const list = await api('GET', '/deliveries', {query: {recording_id: id, limit: 200}, signal: ctx.signal});
    const ds = list.deliveries || [];
    replace(deliveries, ...(ds.length ? ds.map((d) => deliveryRow(d, id)) :
      [emptyRow(5, 'No deliveries: no callback configuration covers this recording.')]));
    const failed = ds.filter((d) => d.state === 'failed').length;
    failedLink.hidden = !failed;
    replace(failedLink, failed ? el('a', {href: `#/deliveries?state=failed&recording_id=${enc(id)}`, 'data-action': 'failures'},
      `${failed} failed ${failed === 1 ? 'delivery' : 'deliveries'}: see and redeliver them`) : null);
  }

  async function reload() {
    const r = await api('GET', `/recordings/${enc(id)}`, {signal: ctx.signal});
    show(r);
    await loadDeliveries();
  }

  show(rec);
  try {
    await loadDeliveries();
  } catch (e) {
    if (e.name !== 'AbortError' && e.status !== 401) notice(`deliveries: ${e.message}`, 'error');
  }
  // Keep following a recording until it is over and its files are stored.
  let first = true;
  ctx.every(REFRESH_MS, async () => {
    if (first) {
      first = false;
      return;
    }
    if (!settled(rec)) await reload();
  });
}

// settled reports whether nothing about the recording will change by itself any more.
function settled(r) {
  if (r.state === 'recording' || r.state === 'paused') return false;
  return !r.files.some((f) => f.state === 'writing' || f.state === 'completed');
}

function propsList(r) {
  const rows = [
    ['ID', el('code', {}, r.id)],
    ['Stream', `${r.domain}/${r.app}/${r.stream}`],
    ['State', stateBadge(r.state)],
    ['Mode', r.mode || '—'],
    ['Started', fmtTime(r.started_at)],
    ['Ended', r.ended_at ? fmtTime(r.ended_at) : 'in progress'],
    ['Duration', fmtSeconds(recordingSeconds(r))],
    ['Rule', r.rule_id ? el('code', {}, r.rule_id) : '—'],
  ];
  if (r.label) rows.splice(4, 0, ['Label', el('span', {'data-field': 'label'}, r.label)]);
  if (r.reason) rows.push(['Reason', r.reason]);
  for (const [k, v] of Object.entries(r.params || {})) rows.push([k, el('code', {}, v)]);
  return el('dl', {class: 'props card'}, rows.map(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));
}

function table(label, heads, body) {
  return el('div', {class: 'table-wrap'},
    el('table', {'aria-label': label},
      el('thead', {}, el('tr', {}, heads.map((h) => Array.isArray(h) ?
        el('th', {scope: 'col', class: h[1]}, h[0]) : el('th', {scope: 'col'}, h)))),
      body));
}

function emptyRow(cols, text) {
  return el('tr', {}, el('td', {colspan: cols, class: 'empty'}, text));
}

function fileRow(f, playURL) {
  const stored = f.url && f.state !== 'deleted';
  const label = `${f.format.toUpperCase()} #${f.seq}`;
  const actions = [];
  if (stored) {
    if (f.format === 'flv') {
      actions.push(el('small', {class: 'hint'}, 'FLV: download to play (browsers cannot play FLV)'));
    } else {
      actions.push(el('button', {type: 'button', 'data-action': 'play', onclick: () => playURL(f.url, label)}, 'Play'));
    }
    actions.push(el('a', {href: f.url, download: baseName(f.object_key) || `${f.id}.${f.format}`,
      'data-action': 'download', class: 'button'}, f.format === 'hls' ? 'Download playlist' : 'Download'));
    actions.push(copyButton(new URL(f.url, location.href).href, 'Copy URL'));
  } else {
    actions.push(el('small', {class: 'hint'}, f.state === 'deleted' ? 'deleted' : 'not stored yet'));
  }
  return el('tr', {dataset: {id: f.id, format: f.format}},
    el('td', {}, f.format.toUpperCase()),
    el('td', {class: 'num'}, f.seq),
    el('td', {}, stateBadge(f.state)),
    el('td', {}, fmtTime(f.started_at)),
    el('td', {class: 'num'}, fmtSeconds(f.duration_ns / 1e9)),
    el('td', {class: 'num'}, fmtBytes(f.bytes)),
    el('td', {class: NARROW}, f.width ? `${f.width}×${f.height}` : ''),
    el('td', {}, f.object_key ? el('code', {class: 'object-key'}, f.object_key) : ''),
    el('td', {class: NARROW}, `${f.endpoint} / ${f.bucket}`),
    el('td', {}, el('div', {class: 'row-actions'}, actions)));
}

function baseName(key) {
  return key ? key.slice(key.lastIndexOf('/') + 1) : '';
}

function eventRow(ev) {
  const d = ev.data || {};
  const parts = [];
  if (d.format) parts.push(d.format.toUpperCase());
  if (d.object_key) parts.push(d.object_key);
  if (d.bytes) parts.push(fmtBytes(d.bytes));
  if (d.duration_ns) parts.push(fmtSeconds(d.duration_ns / 1e9));
  if (d.width) parts.push(`${d.width}×${d.height}`);
  if (d.reason) parts.push(d.reason);
  return el('tr', {dataset: {id: ev.id}},
    el('td', {}, ev.type),
    el('td', {class: 'num'}, d.seq ?? ''),
    el('td', {}, fmtTime(ev.created_at)),
    el('td', {}, el('span', {class: 'mono event-data'}, parts.join(' · '))));
}

function deliveryRow(d, recordingID) {
  const last = [d.last_status ? String(d.last_status) : '', d.last_error || ''].filter(Boolean).join(' ');
  return el('tr', {dataset: {id: d.id}},
    el('td', {}, el('code', {}, d.callback_id)),
    el('td', {}, (d.event && d.event.type) || d.event_id),
    el('td', {}, stateBadge(d.state)),
    el('td', {class: 'num'}, d.attempts),
    el('td', {}, d.state === 'failed' ?
      el('a', {href: `#/deliveries?state=failed&recording_id=${enc(recordingID)}`}, last || 'failed') :
      last));
}

// filePlayer is the one player of the page's files, indexes and clips (video#file-player).
function filePlayer(ctx) {
  const video = el('video', {id: 'file-player', controls: true, autoplay: true, playsinline: true, preload: 'auto'});
  video.muted = true; // muted, so autoplay is allowed
  const caption = el('p', {id: 'playing', class: 'hint', 'aria-live': 'polite'});
  const node = el('section', {class: 'card player', hidden: true, 'aria-label': 'Player'},
    el('h2', {}, 'Player'), caption, video);
  let stop = null;
  const halt = () => {
    if (stop) stop();
    stop = null;
  };
  ctx.onLeave(halt);
  async function playURL(url, label) {
    halt();
    node.hidden = false;
    caption.textContent = `Playing ${label}`;
    try {
      stop = await play(video, url);
      await video.play();
    } catch (e) {
      // A newer play() replacing this one is not a failure.
      if (e.name !== 'AbortError') notice(`cannot play ${label}: ${e.message}`, 'error');
    }
    node.scrollIntoView({block: 'nearest'});
  }
  return {node, play: playURL};
}

// liveSection plays the live HLS of a recording in progress; it stops when the recording does.
function liveSection(ctx) {
  const node = el('section', {class: 'card player', hidden: true, 'aria-label': 'Live'});
  let stop = null;
  let url = '';
  ctx.onLeave(() => stop && stop());
  return {
    node,
    async update(r) {
      const next = (r.state === 'recording' || r.state === 'paused') && r.live_url ? r.live_url : '';
      if (next === url) return;
      if (stop) stop();
      stop = null;
      url = next;
      if (!url) {
        node.hidden = true;
        return;
      }
      const video = el('video', {id: 'live-player', controls: true, autoplay: true, playsinline: true});
      video.muted = true;
      replace(node, el('h2', {}, 'Live'), el('p', {class: 'hint'}, 'The recording in progress, as it is written.'), video);
      node.hidden = false;
      try {
        stop = await play(video, url, {live: true});
        await video.play();
      } catch (e) {
        if (e.name !== 'AbortError') notice(`cannot play the live recording: ${e.message}`, 'error');
      }
    },
  };
}

// lockSection is the lock/unlock toggle: a locked recording's files are never deleted by
// retention or the disk policy (an admin's "Delete stored files" still deletes them).
function lockSection(ctx, id, reload) {
  const state = el('span', {class: 'lock-state', 'data-locked': 'false'});
  const button = el('button', {type: 'button'});
  let locked = false;
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      await api(locked ? 'DELETE' : 'POST', `/recordings/${enc(id)}/lock`, {signal: ctx.signal});
      notice(locked ? 'recording unlocked' : 'recording locked');
      await reload();
    } catch (e) {
      if (e.name !== 'AbortError' && e.status !== 401) notice(e.message, 'error');
    } finally {
      button.disabled = false;
    }
  });
  return {
    node: el('div', {class: 'toolbar lock', 'aria-label': 'Lock'}, state, ' ', button),
    update(r) {
      locked = !!r.locked;
      state.dataset.locked = String(locked);
      state.textContent = locked ? 'Locked: retention and the disk policy keep its files.' :
        'Not locked: retention and the disk policy may delete its files.';
      button.dataset.action = locked ? 'unlock' : 'lock';
      button.textContent = locked ? 'Unlock' : 'Lock';
      button.title = locked ? 'Let retention and the disk policy delete its files again' :
        'Keep its files whatever the rule\'s retention or the disk policy say';
    },
  };
}

function deleteSection(ctx, id, reload) {
  const button = el('button', {type: 'button', class: 'danger', 'data-action': 'delete-files'}, 'Delete stored files');
  button.addEventListener('click', async () => {
    if (!await ask('Delete every stored file of this recording? The objects are removed from storage; the records stay, marked deleted.')) return;
    button.disabled = true;
    try {
      const res = await api('DELETE', `/recordings/${enc(id)}/files`, {signal: ctx.signal});
      notice(`${res.deleted} ${res.deleted === 1 ? 'file' : 'files'} deleted`);
      await reload();
    } catch (e) {
      if (e.name !== 'AbortError' && e.status !== 401) notice(e.message, 'error');
    } finally {
      button.disabled = false;
    }
  });
  return el('section', {class: 'card danger-zone', 'aria-label': 'Administration'},
    el('h2', {}, 'Stored files'),
    el('p', {class: 'hint'}, 'Removes the objects of every file from storage (admins only).'),
    button);
}

// NO_SLICES is why the index and clip forms are off: both are cut from the stream's HLS slices.
const NO_SLICES = 'This recording has no HLS slices to cut from: the index and clip forms need a rule that records HLS.';

// cutForms builds the index and clip forms over the recording's range; update(rec) turns them
// on or off as the recording gains or loses its HLS file.
function cutForms(ctx, rec, playURL) {
  const reason = el('p', {class: 'cut-reason', 'data-reason': 'no-hls', hidden: true}, NO_SLICES);
  const index = indexForm(ctx, rec, playURL);
  const clip = clipForm(ctx, rec, playURL);
  const sets = [index.fieldset, clip.fieldset];
  const node = el('section', {class: 'cut', 'aria-label': 'Index and clip'},
    el('h2', {}, 'Index and clip'), reason, el('div', {class: 'cut-forms'}, index.node, clip.node));
  return {
    node,
    update(r) {
      const hls = r.files.some((f) => f.format === 'hls' && f.state !== 'deleted' && f.state !== 'failed');
      reason.hidden = hls;
      for (const fs of sets) fs.disabled = !hls;
    },
  };
}

// rangeFields are the start and end of a cut, defaulting to the recording's range.
function rangeFields(rec) {
  const end = rec.ended_at || new Date().toISOString();
  return [
    field('Start', {type: 'datetime-local', step: 1, name: 'start_time', value: toLocalInput(rec.started_at), required: true}),
    field('End', {type: 'datetime-local', step: 1, name: 'end_time', value: toLocalInput(end), required: true}),
  ];
}

function objectField(def) {
  return field('Object (optional)', {name: 'object', placeholder: def, spellcheck: 'false'},
    'Key template: {publish_domain} {app} {stream} {start_time} {end_time} and the clouds\' {DomainName} {AppName} {StreamName} {Date} {Hour} {Minute} {Second} {UnixTimestamp}');
}

// cutBody is the POST body of the index and clip forms; empty fields are left out, so the API
// names a missing time beside its field.
function cutBody(rec, form) {
  const body = {domain: rec.domain, app: rec.app, stream: rec.stream,
    start_time: toRFC3339(form.elements.start_time.value) || undefined,
    end_time: toRFC3339(form.elements.end_time.value) || undefined};
  const object = form.elements.object.value.trim();
  if (object) body.object = object;
  return body;
}

function indexForm(ctx, rec, playURL) {
  const fieldset = el('fieldset', {},
    el('legend', {}, 'Index (m3u8)'),
    el('p', {class: 'hint'}, 'A playlist over the stored HLS slices of a range; nothing is copied.'),
    rangeFields(rec),
    field('Add the slice that follows the end', {type: 'checkbox', name: 'end_time_included'}),
    objectField('Index/{publish_domain}/{app}/{stream}/{stream}-{start_time}-{end_time}'),
    el('div', {class: 'actions'}, el('button', {type: 'submit', class: 'primary', 'data-action': 'create-index'}, 'Create index')));
  const result = el('div', {'data-result': 'index', 'aria-live': 'polite'});
  const form = el('form', {'data-form': 'index', class: 'card'}, fieldset, result);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const body = {...cutBody(rec, form), end_time_included: form.elements.end_time_included.checked};
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    try {
      const x = await api('POST', '/indexes', {body, signal: ctx.signal});
      const label = `index ${x.object_key}`;
      replace(result, el('dl', {class: 'props'},
        el('dt', {}, 'Object'), el('dd', {}, el('code', {}, x.object_key)),
        el('dt', {}, 'Range'), el('dd', {}, `${fmtTime(x.started_at)} – ${fmtTime(x.ended_at)} (${fmtSeconds(x.duration_ns / 1e9)})`)),
      el('div', {class: 'actions'},
        x.url ? el('button', {type: 'button', 'data-action': 'play', onclick: () => playURL(x.url, label)}, 'Play index') : null,
        x.url ? copyButton(new URL(x.url, location.href).href, 'Copy URL') : null));
      notice('index created');
    } catch (e) {
      if (e.name !== 'AbortError') showError(form, e);
    } finally {
      button.disabled = false;
    }
  });
  return {node: form, fieldset};
}

function clipForm(ctx, rec, playURL) {
  const fieldset = el('fieldset', {},
    el('legend', {}, 'Clip (MP4)'),
    el('p', {class: 'hint'}, 'One MP4 of a range, cut on keyframes without re-encoding; it becomes a recording of its own (mode clip).'),
    rangeFields(rec),
    objectField('Clip/{publish_domain}/{app}/{stream}/{stream}-{start_time}-{end_time}'),
    el('div', {class: 'actions'}, el('button', {type: 'submit', class: 'primary', 'data-action': 'create-clip'}, 'Make clip')));
  const result = el('div', {'data-result': 'clip', 'aria-live': 'polite'});
  const form = el('form', {'data-form': 'clip', class: 'card'}, fieldset, result);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    // The API cuts the clip within the request: say so while it works.
    replace(result, el('p', {class: 'hint'}, 'Cutting the clip…'));
    try {
      const f = await api('POST', '/clips', {body: cutBody(rec, form), signal: ctx.signal});
      const label = `clip ${f.object_key}`;
      replace(result, el('dl', {class: 'props'},
        el('dt', {}, 'Recording'), el('dd', {}, el('a', {href: `#/recordings/${enc(f.recording_id)}`, 'data-action': 'open-clip'}, f.recording_id)),
        el('dt', {}, 'Object'), el('dd', {}, el('code', {}, f.object_key)),
        el('dt', {}, 'Duration'), el('dd', {}, fmtSeconds(f.duration_ns / 1e9)),
        el('dt', {}, 'Size'), el('dd', {}, fmtBytes(f.bytes))),
      el('div', {class: 'actions', dataset: {id: f.id}},
        f.url ? el('button', {type: 'button', 'data-action': 'play', onclick: () => playURL(f.url, label)}, 'Play clip') : null,
        f.url ? el('a', {href: f.url, download: baseName(f.object_key), 'data-action': 'download', class: 'button'}, 'Download') : null,
        f.url ? copyButton(new URL(f.url, location.href).href, 'Copy URL') : null));
      notice('clip made');
    } catch (e) {
      replace(result);
      if (e.name !== 'AbortError') showError(form, e);
    } finally {
      button.disabled = false;
    }
  });
  return {node: form, fieldset};
}
