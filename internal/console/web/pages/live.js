// pages/live.js: the live streams — every current publication, refreshed each second in place,
// with its live HLS player, kick, forbid, and the forbidden streams with resume.
import {api, ask, clearErrors, el, field, fmtKbps, fmtSeconds, fmtTime, notice, play, replace, showError, stateBadge, toRFC3339} from '../lib.js';
import {eventPanel} from './live-event.js';

// LIVE_RETRY_MS is how often the watch panel asks again for a live playlist not stored yet.
const LIVE_RETRY_MS = 2000;
// BLOCKS_MS is how often the forbidden list is re-read (a block with resume_at ends by itself).
const BLOCKS_MS = 5000;

const keyOf = (s) => `${s.domain}/${s.app}/${s.stream}`;
const pathOf = (s) => [s.domain, s.app, s.stream].map(encodeURIComponent).join('/');

export async function render(ctx) {
  const rows = new Map(); // stream key → {tr, cells, data}: kept across refreshes
  let filter = '';

  const count = el('span', {class: 'badge', id: 'live-count', 'aria-live': 'polite'}, '…');
  const filterInput = el('input', {name: 'filter', type: 'search', placeholder: 'domain/app/stream',
    spellcheck: 'false', autocomplete: 'off'});
  const filterForm = el('form', {'data-form': 'live-filter', class: 'toolbar', role: 'search'},
    el('label', {}, 'Filter', filterInput));
  filterForm.addEventListener('submit', (e) => e.preventDefault());
  filterInput.addEventListener('input', () => {
    filter = filterInput.value.trim().toLowerCase();
    applyFilter();
  });

  const tbody = el('tbody');
  const table = el('table', {id: 'live-streams'},
    el('thead', {}, el('tr', {},
      el('th', {scope: 'col'}, 'Stream'),
      el('th', {scope: 'col'}, 'Publisher'),
      el('th', {scope: 'col'}, 'Recording'),
      el('th', {scope: 'col'}, 'Video'),
      el('th', {scope: 'col', class: 'num'}, 'Frame rate'),
      el('th', {scope: 'col', class: 'num'}, 'Video bitrate'),
      el('th', {scope: 'col', class: 'num'}, 'Audio'),
      el('th', {scope: 'col', class: 'num'}, 'Uptime'),
      el('th', {scope: 'col'}, 'Actions'))),
    tbody);
  const empty = el('div', {class: 'empty', id: 'live-empty', hidden: true});
  const tableWrap = el('div', {class: 'table-wrap'}, table);

  const watch = watchPanel(ctx);
  const forbid = forbidPanel(ctx, {
    before: (s) => watch.ending(keyOf(s)),
    failed: (s) => watch.open(s),
    after: () => Promise.all([refresh(), blocks.load()]),
  });
  const blocks = blocksSection(ctx);
  const mark = eventPanel(ctx);

  replace(ctx.root,
    el('h1', {}, 'Live streams ', count),
    filterForm,
    watch.panel,
    forbid.panel,
    mark.panel,
    tableWrap,
    empty,
    blocks.section);

  function applyFilter() {
    let shown = 0;
    for (const [key, r] of rows) {
      r.tr.hidden = filter !== '' && !key.toLowerCase().includes(filter);
      if (!r.tr.hidden) shown++;
    }
    count.textContent = filter && shown !== rows.size ? `${shown} of ${rows.size} live` : `${rows.size} live`;
    tableWrap.hidden = shown === 0;
    empty.hidden = shown !== 0;
    if (shown !== 0) return;
    if (rows.size === 0) {
      const host = location.hostname || 'HOST';
      replace(empty,
        el('p', {}, el('strong', {}, 'No stream is live.')),
        el('p', {}, 'Publish one with any RTMP encoder (OBS, ffmpeg) to ',
          el('code', {}, `rtmp://${host}/APP/STREAM`),
          ' — on the RTMP address liverec listens on (its --rtmp setting, port 1935 by default). ',
          'It shows here within a second.'));
    } else {
      replace(empty, el('p', {}, 'No live stream matches the filter.'));
    }
  }

  function makeRow(s) {
    const key = keyOf(s);
    // data-label names the cell where a phone shows each row as a card (style.css).
    const cells = {
      stream: el('td', {'data-label': 'Stream'}),
      publisher: el('td', {'data-label': 'Publisher'}),
      recording: el('td', {'data-label': 'Recording'}),
      video: el('td', {'data-label': 'Video'}),
      fps: el('td', {class: 'num', 'data-label': 'Frame rate'}),
      vkbps: el('td', {class: 'num', 'data-label': 'Video bitrate'}),
      audio: el('td', {class: 'num', 'data-label': 'Audio'}),
      uptime: el('td', {class: 'num', 'data-label': 'Uptime'}),
    };
    replace(cells.stream, el('span', {class: 'mono'}, s.stream),
      el('small', {class: 'hint mono'}, `${s.domain}/${s.app}`));
    const r = {cells, data: s};
    const actions = el('td', {class: 'live-actions'},
      el('button', {type: 'button', 'data-action': 'watch', title: `Watch ${key} live`,
        onclick: () => watch.open(r.data)}, 'Watch'),
      el('button', {type: 'button', 'data-action': 'mark-event', title: `Record an event of ${key}`,
        onclick: () => mark.open(r.data)}, 'Mark event'),
      el('button', {type: 'button', 'data-action': 'kick', title: `Disconnect ${key}`,
        onclick: () => kick(r.data)}, 'Kick'),
      el('button', {type: 'button', 'data-action': 'forbid', class: 'danger', title: `Forbid ${key}`,
        onclick: () => forbid.open(r.data)}, 'Forbid'));
    r.tr = el('tr', {dataset: {stream: key}},
      cells.stream, cells.publisher, cells.recording, cells.video, cells.fps, cells.vkbps,
      cells.audio, cells.uptime, actions);
    return r;
  }

  // updateRow rewrites only the cells whose text changed, so focus and selection survive.
  function updateRow(r, s) {
    r.data = s;
    const c = r.cells;
    setText(c.publisher, [s.protocol, s.client_addr].filter(Boolean).join(' · '));
    const recKey = `${s.recording_id || ''}|${s.recording_state || ''}`;
    if (c.recording.dataset.key !== recKey) {
      c.recording.dataset.key = recKey;
      replace(c.recording, s.recording_state ? stateBadge(s.recording_state) : el('span', {class: 'hint'}, 'not recorded'),
        s.recording_id ? [' ', el('a', {href: `#/recordings/${encodeURIComponent(s.recording_id)}`,
          title: `Recording ${s.recording_id}`}, 'details')] : null);
    }
    const res = s.width && s.height ? `${s.width}×${s.height}` : '';
    setText(c.video, [s.video_codec || (res ? '' : 'no video yet'), res].filter(Boolean).join(' '));
    setText(c.fps, s.frame_rate ? `${s.frame_rate.toFixed(s.frame_rate % 1 ? 2 : 0)} fps` : '—');
    setText(c.vkbps, fmtKbps(s.video_kbps));
    setText(c.audio, s.audio_codec ? `${s.audio_codec} ${fmtKbps(s.audio_kbps)}` : '—');
    c.uptime.title = `since ${fmtTime(s.started_at)}`;
    setText(c.uptime, fmtSeconds((Date.now() - Date.parse(s.started_at)) / 1000));
  }

  async function refresh() {
    const {streams = []} = await api('GET', '/streams', {signal: ctx.signal});
    streams.sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
    const seen = new Set();
    let prev = null;
    for (const s of streams) {
      const key = keyOf(s);
      seen.add(key);
      let r = rows.get(key);
      if (!r) {
        r = makeRow(s);
        rows.set(key, r);
      }
      updateRow(r, s);
      // Keep sorted order, moving only rows that are out of place.
      const want = prev ? prev.nextSibling : tbody.firstChild;
      if (want !== r.tr) tbody.insertBefore(r.tr, want);
      prev = r.tr;
    }
    for (const [key, r] of rows) {
      if (seen.has(key)) continue;
      r.tr.remove();
      rows.delete(key);
    }
    watch.streams(rows);
    applyFilter();
  }

  async function kick(s) {
    const key = keyOf(s);
    if (!await ask(`Disconnect the publisher of ${key}? It may publish again at once; forbid the stream to keep it off.`)) return;
    const watching = watch.ending(key);
    try {
      await api('POST', `/streams/${pathOf(s)}/kick`);
      notice(`${key} was disconnected`);
      await refresh();
    } catch (e) {
      if (e.status === 401) return;
      notice(`Could not disconnect ${key}: ${e.message}`, 'error');
      if (watching) watch.open(s);
    }
  }

  await ctx.every(1000, refresh);
  ctx.every(BLOCKS_MS, blocks.load);
}

function setText(e, text) {
  if (e.textContent !== text) e.textContent = text;
}

// watchPanel is the live player: it asks the stream's recording for its live playlist and plays
// it, retrying while the first HLS slice is not stored yet.
function watchPanel(ctx) {
  const title = el('h2', {id: 'live-watch-title'}, '');
  const status = el('p', {class: 'hint', id: 'live-watch-status', role: 'status'});
  const video = el('video', {id: 'live-player', muted: true, autoplay: true, controls: true,
    playsinline: true, 'aria-labelledby': 'live-watch-title'});
  video.muted = true; // the attribute alone does not mute a created element; autoplay needs it
  const close = el('button', {type: 'button', 'data-action': 'close'}, 'Close player');
  const panel = el('section', {class: 'card watch', id: 'live-watch', hidden: true, 'aria-labelledby': 'live-watch-title'},
    el('div', {class: 'watch-head'}, title, close), status, el('div', {class: 'player'}, video));

  let cur = null; // {key, stop, timer, gen}
  let gen = 0;
  const rules = new Map(); // rule id → has HLS (a recording's rule does not change under it)

  function stop() {
    if (!cur) return;
    clearTimeout(cur.timer);
    if (cur.stop) {
      try {
        cur.stop();
      } catch (e) {
        console.warn('stopping the player', e);
      }
    }
    cur = null;
  }

  function closePanel() {
    stop();
    panel.hidden = true;
  }
  close.addEventListener('click', closePanel);
  ctx.onLeave(stop);

  function say(text) {
    status.textContent = text;
  }

  async function ruleHasHLS(id) {
    if (!rules.has(id)) {
      const r = await api('GET', `/rules/${encodeURIComponent(id)}`, {signal: ctx.signal});
      rules.set(id, (r.formats || []).some((f) => f.format === 'hls'));
    }
    return rules.get(id);
  }

  // attempt looks for the live playlist of the watched stream once, and plays it or retries.
  async function attempt(mine) {
    if (!cur || cur.gen !== mine) return;
    const retry = () => {
      if (cur && cur.gen === mine) cur.timer = setTimeout(() => attempt(mine), LIVE_RETRY_MS);
    };
    const s = cur.data;
    if (!s.recording_id) {
      say('This publication is not being recorded, so it has no live playlist (the live view plays the recording\'s HLS). Waiting for a recording…');
      retry();
      return;
    }
    try {
      const rec = await api('GET', `/recordings/${encodeURIComponent(s.recording_id)}`, {signal: ctx.signal});
      if (!cur || cur.gen !== mine) return;
      if (rec.live_url) {
        say('Playing the live HLS playlist of the recording.');
        const stopFn = await play(video, rec.live_url, {live: true});
        if (!cur || cur.gen !== mine) {
          stopFn();
          return;
        }
        cur.stop = stopFn;
        video.play().catch(() => {}); // autoplay may be refused; the controls still work
        return;
      }
      if (rec.state !== 'recording' && rec.state !== 'paused') {
        say(`The recording is ${rec.state}: there is no live playlist.`);
        return;
      }
      let hls = true;
      try {
        hls = await ruleHasHLS(rec.rule_id);
      } catch (e) {
        if (e.name === 'AbortError' || e.status === 401) return;
        // A deleted rule: keep waiting, the recording may still be HLS.
      }
      if (!cur || cur.gen !== mine) return;
      if (!hls) {
        say('The rule recording this stream records no HLS, so there is no live playlist to watch. Add an HLS format to the rule to watch future publications live.');
        return;
      }
      say('Waiting: the live playlist appears once the first HLS slice is stored.');
      retry();
    } catch (e) {
      if (e.name === 'AbortError' || e.status === 401 || !cur || cur.gen !== mine) return;
      say(`Could not load the live playlist: ${e.message}. Retrying…`);
      retry();
    }
  }

  return {
    panel,
    open(s) {
      stop();
      gen++;
      cur = {key: keyOf(s), data: s, gen, stop: null, timer: 0};
      title.textContent = `Watching ${keyOf(s)}`;
      say('Looking for the live playlist…');
      panel.hidden = false;
      attempt(gen);
      panel.scrollIntoView({block: 'nearest'});
      close.focus({preventScroll: true});
    },
    // ending stops playing key before the page disconnects it, so the player does not poll a
    // playlist that is about to end; it tells whether it was playing key.
    ending(key) {
      if (!cur || cur.key !== key) return false;
      clearTimeout(cur.timer);
      if (cur.stop) {
        cur.stop();
        cur.stop = null;
      }
      cur.gen = -1; // no further attempts
      say(`Disconnecting ${key}…`);
      return true;
    },
    // streams gives the panel the latest rows: the watched stream's recording may have started
    // since, or the stream may have ended.
    streams(rows) {
      if (!cur) return;
      const r = rows.get(cur.key);
      if (r) {
        cur.data = r.data;
      } else {
        // The live playlist stops growing: stop the player rather than poll a finished list.
        const {key, data} = cur;
        stop();
        say(`${key} is no longer live.`);
        if (data.recording_id) {
          status.append(' ', el('a', {href: `#/recordings/${encodeURIComponent(data.recording_id)}`},
            'Play its recording'), '.');
        }
      }
    },
  };
}

// forbidPanel is the small form that forbids a stream key, until a time or until resumed.
// hooks.before(stream) runs before the request and tells whether the player was stopped for it
// (hooks.failed(stream) restarts it when the request fails); hooks.after() refreshes the lists.
function forbidPanel(ctx, hooks) {
  const title = el('h2', {id: 'forbid-title'}, '');
  const until = field('Until', {name: 'resume_at', type: 'datetime-local'},
    'Leave empty to forbid it until you resume it. Forbidding disconnects the publisher at once.');
  const form = el('form', {'data-form': 'forbid', class: 'card', id: 'forbid-form', hidden: true,
    'aria-labelledby': 'forbid-title'},
  title, until,
  el('div', {class: 'actions'},
    el('button', {type: 'submit', class: 'danger', 'data-action': 'forbid'}, 'Forbid'),
    el('button', {type: 'button', 'data-action': 'cancel'}, 'Cancel')));
  let target = null;

  form.querySelector('[data-action=cancel]').addEventListener('click', () => {
    form.hidden = true;
    target = null;
  });
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!target) return;
    clearErrors(form);
    const local = form.resume_at.value;
    const body = {};
    if (local) body.resume_at = toRFC3339(local);
    const submit = form.querySelector('button[type=submit]');
    submit.disabled = true;
    const stopped = hooks.before(target);
    try {
      const res = await api('PUT', `/blocks/${pathOf(target)}`, {body, signal: ctx.signal});
      const key = keyOf(target);
      const span = res.block && res.block.resume_at ? ` until ${fmtTime(res.block.resume_at)}` : ' until resumed';
      notice(`${key} is forbidden${span}${res.kicked ? '; its publisher was disconnected' : ''}`);
      form.hidden = true;
      target = null;
      await hooks.after();
    } catch (e) {
      showError(form, e);
      if (stopped && target) hooks.failed(target);
    } finally {
      submit.disabled = false;
    }
  });

  return {
    panel: form,
    open(s) {
      target = s;
      title.textContent = `Forbid ${keyOf(s)}`;
      form.reset();
      clearErrors(form);
      form.hidden = false;
      form.scrollIntoView({block: 'nearest'});
      form.resume_at.focus();
    },
  };
}

// blocksSection lists the forbidden stream keys, each with a resume button.
function blocksSection(ctx) {
  const tbody = el('tbody');
  const total = el('span', {class: 'badge', id: 'blocks-count'}, '…');
  const wrap = el('div', {class: 'table-wrap'},
    el('table', {id: 'blocks'},
      el('thead', {}, el('tr', {},
        el('th', {scope: 'col'}, 'Stream'),
        el('th', {scope: 'col'}, 'Forbidden until'),
        el('th', {scope: 'col', class: 'hide-narrow'}, 'Since'),
        el('th', {scope: 'col'}, 'Actions'))),
      tbody));
  const empty = el('p', {class: 'empty', id: 'blocks-empty', hidden: true}, 'No stream is forbidden.');
  const section = el('section', {'aria-labelledby': 'blocks-title'},
    el('h2', {id: 'blocks-title'}, 'Forbidden streams ', total),
    el('p', {class: 'hint'}, 'A forbidden stream key is refused when it publishes, until it is resumed or its time is up.'),
    wrap, empty);

  let shownKey = null; // what the table shows, to leave it alone when nothing changed

  async function resume(b) {
    const key = keyOf(b);
    try {
      await api('DELETE', `/blocks/${pathOf(b)}`);
      notice(`${key} may publish again`);
    } catch (e) {
      if (e.status !== 404) {
        showError(null, e);
        return;
      }
      notice(`${key} was not forbidden any more`);
    }
    await load();
  }

  async function load() {
    const page = await api('GET', '/blocks', {query: {limit: 1000}, signal: ctx.signal});
    const items = (page && page.items) || [];
    const stamp = JSON.stringify(items);
    total.textContent = String(page.total ?? items.length);
    if (stamp === shownKey) return;
    shownKey = stamp;
    replace(tbody, items.map((b) => el('tr', {dataset: {id: keyOf(b)}},
      el('td', {class: 'mono'}, keyOf(b)),
      el('td', {}, b.resume_at ? fmtTime(b.resume_at) : 'until resumed'),
      el('td', {class: 'hide-narrow'}, fmtTime(b.created_at)),
      el('td', {}, el('button', {type: 'button', 'data-action': 'resume', title: `Resume ${keyOf(b)}`,
        onclick: () => resume(b)}, 'Resume')))));
    wrap.hidden = items.length === 0;
    empty.hidden = items.length !== 0;
  }

  return {section, load};
}
