// lib.js: what every console page shares — the session, the API client, DOM building,
// formatting, notices, confirmation and players. Pages import from here, never from app.js.
//
// Safety: pages build the DOM with el() and text nodes, never innerHTML with data, so a stream
// or rule name cannot inject markup. The token lives in sessionStorage (this tab only) and is
// sent in a header, never a cookie, so cross-site requests carry no credentials (no CSRF).

const TOKEN_KEY = 'liverec.session';

/** The signed-in session: {token, id, expires_at, who}, or null. */
export function session() {
  try {
    const s = JSON.parse(sessionStorage.getItem(TOKEN_KEY) || 'null');
    return s && s.token ? s : null;
  } catch {
    return null;
  }
}

export function saveSession(s) {
  sessionStorage.setItem(TOKEN_KEY, JSON.stringify(s));
}

export function clearSession() {
  sessionStorage.removeItem(TOKEN_KEY);
}

/** ApiError carries the native API's error: HTTP status, code, message and the field at fault. */
export class ApiError extends Error {
  constructor(status, code, message, field) {
    super(message || `HTTP ${status}`);
    this.status = status;
    this.code = code || '';
    this.field = field || '';
  }
}

let unauthorized = () => {};

/** onUnauthorized registers what a 401 does (the shell signs out and shows the sign-in form). */
export function onUnauthorized(fn) {
  unauthorized = fn;
}

/**
 * api calls the native API: api('GET', '/recordings', {query: {stream: 'x'}}) or
 * api('POST', '/rules', {body: rule}). It returns the decoded JSON (null for 204) or throws
 * ApiError. A 401 also signs the console out.
 */
export async function api(method, path, opts = {}) {
  const headers = {Accept: 'application/json'};
  const s = session();
  if (opts.basic) {
    headers.Authorization = 'Basic ' + base64(`${opts.basic.id}:${opts.basic.secret}`);
  } else if (s) {
    headers.Authorization = 'Bearer ' + s.token;
  }
  let body;
  if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  let url = '/api/v1' + path;
  if (opts.query) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(opts.query)) {
      if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
    }
    const qs = q.toString();
    if (qs) url += (url.includes('?') ? '&' : '?') + qs;
  }
  const resp = await fetch(url, {method, headers, body, signal: opts.signal, cache: 'no-store'});
  if (resp.status === 204 || resp.status === 202 && resp.headers.get('Content-Length') === '0') {
    return null;
  }
  const text = await resp.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!resp.ok) {
    const e = (data && data.error) || {};
    const err = new ApiError(resp.status, e.code, e.message || resp.statusText, e.field);
    if (resp.status === 401 && !opts.basic) unauthorized(err);
    throw err;
  }
  return data;
}

function base64(s) {
  const bytes = new TextEncoder().encode(s);
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

/**
 * el builds an element: el('a', {href: '#/x', class: 'btn', dataset: {id: 1}}, 'text', child).
 * Keys starting with "on" attach listeners; null/false children are skipped; strings become
 * text nodes (never parsed as HTML).
 */
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'dataset') Object.assign(e.dataset, v);
    else if (k.startsWith('on') && typeof v === 'function') e.addEventListener(k.slice(2), v);
    else if (k === 'class') e.className = v;
    else if (k === 'value') e.value = v;
    else if (k === 'checked' || k === 'selected' || k === 'disabled' || k === 'hidden') e[k] = !!v;
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  append(e, children);
  return e;
}

function append(e, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** replace empties e and fills it with children. */
export function replace(e, ...children) {
  e.replaceChildren();
  append(e, children);
  return e;
}

/** notice shows a short message in #notice; kind is 'ok' or 'error'. */
export function notice(msg, kind = 'ok') {
  const n = document.getElementById('notice');
  if (!n) return;
  n.className = kind;
  n.textContent = msg;
  clearTimeout(notice.timer);
  notice.timer = setTimeout(() => {
    n.textContent = '';
    n.className = '';
  }, kind === 'error' ? 10000 : 4000);
}

/** showError puts an API error beside its field in form (or in #notice when it names none). */
export function showError(form, err) {
  clearErrors(form);
  if (!(err instanceof ApiError)) {
    notice(String(err && err.message ? err.message : err), 'error');
    return;
  }
  if (err.status === 401) return; // the shell is signing out
  const slot = form && err.field ? fieldErrorSlot(form, err.field) : null;
  if (slot) {
    slot.textContent = err.message;
    const input = form.querySelector(`[name="${CSS.escape(err.field)}"]`);
    if (input) {
      input.setAttribute('aria-invalid', 'true');
      input.focus();
    }
  } else {
    notice(err.message, 'error');
  }
}

// fieldErrorSlot finds the slot for field, or for its nearest named parent ("formats[0].cycle_s"
// falls back to "formats[0]" and then "formats").
function fieldErrorSlot(form, field) {
  let f = field;
  for (;;) {
    const slot = form.querySelector(`.field-error[data-for="${CSS.escape(f)}"]`);
    if (slot) return slot;
    const cut = Math.max(f.lastIndexOf('.'), f.lastIndexOf('['));
    if (cut <= 0) return null;
    f = f.slice(0, cut);
  }
}

export function clearErrors(form) {
  if (!form) return;
  for (const s of form.querySelectorAll('.field-error')) s.textContent = '';
  for (const i of form.querySelectorAll('[aria-invalid]')) i.removeAttribute('aria-invalid');
}

/** ask shows the confirmation dialog and resolves true when the user confirms. */
export function ask(message) {
  const d = document.getElementById('confirm');
  document.getElementById('confirm-text').textContent = message;
  return new Promise((resolve) => {
    d.addEventListener('close', () => resolve(d.returnValue === 'ok'), {once: true});
    d.returnValue = '';
    d.showModal();
  });
}

/** field builds a labelled input with its error slot: field('Stream', {name: 'stream'}). */
export function field(label, attrs = {}, hint = '') {
  const tag = attrs.tag || 'input';
  const a = {...attrs};
  delete a.tag;
  const options = a.options;
  delete a.options;
  const input = el(tag, a);
  if (options) {
    for (const o of options) {
      const [value, text] = Array.isArray(o) ? o : [o, o];
      input.append(el('option', {value, selected: String(attrs.value ?? '') === String(value)}, text));
    }
  }
  return el('label', {class: a.type === 'checkbox' ? 'check' : ''},
    a.type === 'checkbox' ? [input, ' ', label] : [label, input],
    hint ? el('small', {class: 'hint'}, hint) : null,
    el('span', {class: 'field-error', dataset: {for: a.name || ''}, role: 'alert'}));
}

// Formatting: the browser's locale and time zone.

export function fmtTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return isNaN(d) ? '' : d.toLocaleString();
}

export function fmtSeconds(s) {
  if (s === undefined || s === null || isNaN(s)) return '';
  s = Math.max(0, Math.floor(s));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const mm = String(m).padStart(2, '0');
  const ss = String(sec).padStart(2, '0');
  return h ? `${h}:${mm}:${ss}` : `${m}:${ss}`;
}

export function fmtBytes(n) {
  if (!n) return '0 B';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i ? 1 : 0)} ${units[i]}`;
}

export function fmtKbps(k) {
  if (!k) return '0 kbit/s';
  return k >= 1000 ? `${(k / 1000).toFixed(2)} Mbit/s` : `${Math.round(k)} kbit/s`;
}

/** toRFC3339 turns a datetime-local input's value (local time) into an RFC 3339 UTC time. */
export function toRFC3339(local) {
  if (!local) return '';
  const d = new Date(local);
  return isNaN(d) ? '' : d.toISOString();
}

/** toLocalInput turns an RFC 3339 time into a datetime-local input's value. */
export function toLocalInput(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (isNaN(d)) return '';
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** stateBadge shows a state word styled by its meaning. */
export function stateBadge(state) {
  return el('span', {class: `badge state-${state || 'none'}`}, state || '—');
}

/**
 * play attaches url to video: MP4 (and anything the browser plays) directly; HLS through hls.js
 * (loaded on first use) wherever the browser has Media Source Extensions, else natively (iPhone
 * Safari). hls.js comes first because Chromium's native HLS failed on growing live playlists in
 * 2 of 3 runs (DEMUXER_ERROR_COULD_NOT_PARSE) where hls.js played every time; sessionStorage
 * 'liverec.player' = 'native' forces the browser's own player. It returns a function that stops
 * playback and frees the player.
 */
export async function play(video, url, {live = false} = {}) {
  const isHLS = /\.m3u8$/i.test(new URL(url, location.href).pathname);
  const stopNative = () => {
    video.removeAttribute('src');
    video.load();
  };
  if (!isHLS) {
    video.src = url;
    return stopNative;
  }
  const mse = window.MediaSource || window.ManagedMediaSource;
  if (mse && sessionStorage.getItem('liverec.player') !== 'native') {
    const {default: Hls} = await import('./vendor/hls.light.min.mjs');
    if (Hls.isSupported()) {
      const hls = new Hls({enableWorker: false, liveDurationInfinity: live, lowLatencyMode: false});
      hls.on(Hls.Events.ERROR, (_e, data) => {
        if (data.fatal) notice(`playback failed: ${data.details}`, 'error');
      });
      hls.loadSource(url);
      hls.attachMedia(video);
      return () => hls.destroy();
    }
  }
  if (!video.canPlayType('application/vnd.apple.mpegurl')) throw new Error('this browser cannot play HLS');
  video.src = url;
  return stopNative;
}

/** copyButton copies text to the clipboard. */
export function copyButton(text, label = 'Copy') {
  return el('button', {type: 'button', 'data-action': 'copy', onclick: async () => {
    try {
      await navigator.clipboard.writeText(text);
      notice('copied');
    } catch {
      notice('copy failed: select and copy by hand', 'error');
    }
  }}, label);
}
