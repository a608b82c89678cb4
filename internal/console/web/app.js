// app.js: the console shell — sign-in and sign-out, the hash router, and the page lifecycle.
// Each page is an ES module in pages/ exporting render(ctx); it is loaded when first visited.
import {api, clearSession, el, notice, onUnauthorized, replace, saveSession, session, showError} from './lib.js';

// TOKEN_TTL_S is how long a console sign-in lasts; the API caps tokens at its own maximum.
const TOKEN_TTL_S = 8 * 3600;

// pages maps a route's first segment to its module.
const pages = {
  live: './pages/live.js',
  recordings: './pages/recordings.js',
  rules: './pages/rules.js',
  callbacks: './pages/callbacks.js',
  deliveries: './pages/deliveries.js',
  keys: './pages/keys.js',
};

let current = null; // {controller, cleanups}

function parseHash() {
  const h = location.hash.replace(/^#\/?/, '');
  const [path, qs] = h.split('?', 2);
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const name = pages[parts[0]] ? parts[0] : 'live';
  return {name, params: parts.slice(1), query: new URLSearchParams(qs || '')};
}

function leave() {
  if (!current) return;
  current.controller.abort();
  for (const fn of current.cleanups.splice(0)) {
    try {
      fn();
    } catch (e) {
      console.warn('page cleanup', e);
    }
  }
  current = null;
}

async function route() {
  leave();
  const view = document.getElementById('view');
  const s = session();
  if (!s) {
    showSignIn();
    return;
  }
  showShell(s);
  const {name, params, query} = parseHash();
  for (const a of document.querySelectorAll('#nav a')) {
    if (a.dataset.route === name) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  const controller = new AbortController();
  const cleanups = [];
  current = {controller, cleanups};
  const ctx = {
    root: view,
    params,
    query,
    who: s.who || {},
    signal: controller.signal,
    // every runs fn now and then every ms until the page is left; a failing run is reported
    // once and retried, so a brief outage does not stop the updates.
    every(ms, fn) {
      let failed = false;
      const tick = async () => {
        if (controller.signal.aborted) return;
        try {
          await fn();
          failed = false;
        } catch (e) {
          if (!failed && e.name !== 'AbortError' && e.status !== 401) notice(`update failed: ${e.message}`, 'error');
          failed = true;
        }
      };
      const id = setInterval(tick, ms);
      cleanups.push(() => clearInterval(id));
      return tick();
    },
    onLeave(fn) {
      cleanups.push(fn);
    },
    navigate(hash) {
      location.hash = hash;
    },
  };
  replace(view, el('p', {class: 'loading'}, 'Loading…'));
  document.title = `${name[0].toUpperCase()}${name.slice(1)} · liverec`;
  try {
    const mod = await import(pages[name]);
    if (controller.signal.aborted) return;
    replace(view);
    await mod.render(ctx);
  } catch (e) {
    if (controller.signal.aborted || e.status === 401) return;
    replace(view, el('p', {class: 'error'}, `This page failed to load: ${e.message}`));
  }
}

function showSignIn() {
  document.getElementById('top').hidden = true;
  replace(document.getElementById('view'));
  const v = document.getElementById('signin-view');
  v.hidden = false;
  document.querySelector('#signin [name=key_id]').focus();
}

function showShell(s) {
  document.getElementById('signin-view').hidden = true;
  document.getElementById('top').hidden = false;
  const who = s.who || {};
  const label = `${who.project || ''}${who.admin ? ' · admin' : ''}`;
  document.getElementById('whoami').textContent = label;
  document.getElementById('whoami').title = `signed in with ${who.access_key_id || who.key_id || ''}`;
}

async function signIn(ev) {
  ev.preventDefault();
  const form = ev.target;
  const id = form.key_id.value.trim();
  const secret = form.secret.value;
  const button = form.querySelector('button[type=submit]');
  button.disabled = true;
  try {
    const t = await api('POST', '/tokens', {basic: {id, secret}, body: {ttl_s: TOKEN_TTL_S}});
    // From here on only the token is kept; the secret leaves the page.
    form.secret.value = '';
    saveSession({token: t.token, id: t.id, expires_at: t.expires_at});
    const who = await api('GET', '/whoami');
    saveSession({token: t.token, id: t.id, expires_at: t.expires_at, who});
    form.reset();
    if (!location.hash || location.hash === '#' || location.hash === '#/') location.hash = '#/live';
    else route();
  } catch (e) {
    clearSession();
    const slot = form.querySelector('.field-error[data-for=signin]');
    slot.textContent = e.status === 401 ? 'Wrong access key id or secret, or the key is disabled.' :
      e.status === 429 ? 'Too many failed sign-ins: wait a little and try again.' : e.message;
    if (e.status !== 401 && e.status !== 429) showError(null, e);
  } finally {
    button.disabled = false;
  }
}

async function signOut() {
  const s = session();
  if (s && s.id) {
    try {
      await api('DELETE', `/tokens/${encodeURIComponent(s.id)}`);
    } catch (e) {
      if (e.status !== 401 && e.status !== 404) notice(`sign-out: ${e.message}`, 'error');
    }
  }
  clearSession();
  leave();
  showSignIn();
  notice('signed out');
}

onUnauthorized(() => {
  if (!session()) return;
  clearSession();
  leave();
  showSignIn();
  notice('your session ended: sign in again', 'error');
});

document.getElementById('signin').addEventListener('submit', signIn);
document.querySelector('[data-action=signout]').addEventListener('click', signOut);
window.addEventListener('hashchange', route);
route();
