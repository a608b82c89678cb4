// pages/keys.js: access keys, tokens, domains and (for admins) projects.
//
// Admins choose whose keys and tokens the page shows (their project, another one, or every
// project), as the API's ?project= takes it; acting on another project's key names its project.
//
// A new key's secret is shown once, in the page only: it is never put in storage, the URL or
// a notice, and a reload loses it, as the API will never return it again.
import {api, ask, clearErrors, copyButton, el, fmtTime, field, notice, replace, session, showError, stateBadge} from '../lib.js';

export async function render(ctx) {
  const admin = !!ctx.who.admin;
  const mine = ctx.who.project || '';
  const state = {keys: [], tokens: [], domains: []};
  // Each list load is numbered so that a slow answer for an old scope cannot overwrite a newer one.
  const seq = {keys: 0, tokens: 0};

  const secretSlot = el('div', {class: 'secret-slot'});
  const keysBox = el('div', {class: 'table-wrap'});
  const tokensBox = el('div', {class: 'table-wrap'});
  const domainsBox = el('div', {class: 'table-wrap'});
  const projectsBox = el('div', {class: 'table-wrap'});

  const keyForm = el('form', {class: 'card', dataset: {form: 'access-key'}, autocomplete: 'off'},
    el('h3', {}, 'New access key'),
    el('div', {class: 'grid'},
      field('Description', {name: 'description', maxlength: 256, placeholder: 'what or who uses it'}),
      admin ? field('Project', {name: 'project', value: mine, spellcheck: 'false'},
        'Empty means your own project.') : null,
      admin ? field('Admin key (acts on every project, assigns domains)', {name: 'admin', type: 'checkbox'}) : null),
    el('div', {class: 'actions'},
      el('button', {type: 'submit', class: 'primary', 'data-action': 'create'}, 'Create key')));
  keyForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    createKey();
  });

  // Admins choose whose keys and tokens to see: their project, every project ("*"), or one named.
  const scopeSelect = el('select', {name: 'scope', 'aria-label': 'Keys and tokens of'},
    el('option', {value: ''}, `This project (${mine})`),
    el('option', {value: '*'}, 'All projects'),
    el('option', {value: 'other'}, 'Another project…'));
  const scopeOther = el('input', {name: 'project', placeholder: 'project', hidden: true,
    'aria-label': 'Project', spellcheck: 'false'});
  const scopeToolbar = admin ? el('form', {class: 'toolbar', dataset: {form: 'project-scope'}},
    el('label', {}, 'Keys and tokens of', scopeSelect), scopeOther,
    el('button', {type: 'submit', 'data-action': 'refresh'}, 'Show'),
    el('span', {class: 'field-error', dataset: {for: 'project'}, role: 'alert'})) : null;
  if (scopeToolbar) {
    scopeSelect.addEventListener('change', () => {
      scopeOther.hidden = scopeSelect.value !== 'other';
      if (scopeSelect.value !== 'other') reloadScoped();
      else scopeOther.focus();
    });
    scopeToolbar.addEventListener('submit', (ev) => {
      ev.preventDefault();
      reloadScoped();
    });
  }
  const keysHeading = el('h2', {id: 'keys-h'}, `Access keys of ${mine}`);

  const domainForm = admin ? el('form', {class: 'card', dataset: {form: 'domain'}, autocomplete: 'off'},
    el('h3', {}, 'Assign a domain to a project'),
    el('p', {class: 'hint'}, 'The project gets the domain whoever owned it: its streams, recordings, ' +
      'rules and callbacks are that project\'s from now on.'),
    el('div', {class: 'grid'},
      field('Domain', {name: 'domain', required: true, spellcheck: 'false', placeholder: 'live.example.com'}),
      field('Project', {name: 'project', required: true, spellcheck: 'false', value: mine})),
    el('div', {class: 'actions'},
      el('button', {type: 'submit', class: 'primary', 'data-action': 'assign'}, 'Assign'))) : null;
  if (domainForm) {
    domainForm.addEventListener('submit', (ev) => {
      ev.preventDefault();
      assignDomain();
    });
  }

  replace(ctx.root,
    el('h1', {}, 'Access keys and tokens'),
    scopeToolbar,
    el('section', {'aria-labelledby': 'keys-h'},
      keysHeading,
      el('p', {class: 'hint'}, 'An access key (id and secret) signs API calls and console sign-ins. ' +
        'Disabling a key ends its tokens until it is enabled again; deleting it is final.'),
      keyForm, secretSlot, keysBox),
    el('section', {'aria-labelledby': 'tokens-h'},
      el('h2', {id: 'tokens-h'}, 'Tokens'),
      el('p', {class: 'hint'}, 'Short-lived tokens minted from access keys (a console sign-in is one). ' +
        'Revoking one signs out whoever uses it.'),
      tokensBox),
    el('section', {'aria-labelledby': 'domains-h'},
      el('h2', {id: 'domains-h'}, 'Domains'),
      domainForm, domainsBox),
    admin ? el('section', {'aria-labelledby': 'projects-h'},
      el('h2', {id: 'projects-h'}, 'Projects'),
      // No projects API exists: a project is just a name on keys, tokens and domains, so this
      // lists the names seen in what this page loaded.
      el('p', {class: 'hint'}, 'Projects exist by name only: these are the ones seen in the keys, ' +
        'domains and tokens above (choose "All projects" to count every project\'s keys and tokens).'),
      projectsBox) : null);

  await Promise.all([loadKeys(), loadTokens(), loadDomains()]);

  // scope is the ?project= of the key and token lists: '' (the caller's), '*' or a name.
  function scope() {
    if (!admin) return '';
    if (scopeSelect.value === 'other') return scopeOther.value.trim();
    return scopeSelect.value;
  }

  // shows tells whether the lists show project p's keys and tokens.
  function shows(p) {
    const sc = scope();
    return sc === '*' || (sc || mine) === p;
  }

  // showProject points the lists at project p (its own project is the default scope).
  function showProject(p) {
    if (p === mine) scopeSelect.value = '';
    else {
      scopeSelect.value = 'other';
      scopeOther.value = p;
    }
    scopeOther.hidden = scopeSelect.value !== 'other';
    reloadScoped();
  }

  async function reloadScoped() {
    if (scopeToolbar) clearErrors(scopeToolbar);
    const sc = scope();
    keysHeading.textContent = sc === '*' ? 'Access keys of all projects' : `Access keys of ${sc || mine}`;
    for (const p of secretSlot.querySelectorAll('.scope-hint')) p.hidden = shows(p.dataset.project);
    await Promise.all([loadKeys(), loadTokens()]);
  }

  async function loadKeys() {
    const n = ++seq.keys;
    try {
      const r = await api('GET', '/access-keys', {query: {project: scope()}, signal: ctx.signal});
      if (n !== seq.keys) return;
      state.keys = r.access_keys || [];
      replace(keysBox, keysTable());
    } catch (e) {
      if (n !== seq.keys) return;
      if (scopeToolbar && e.field) showError(scopeToolbar, e);
      failed(keysBox, e);
    }
    projects();
  }

  async function loadTokens() {
    const n = ++seq.tokens;
    try {
      const r = await api('GET', '/tokens', {query: {project: scope()}, signal: ctx.signal});
      if (n !== seq.tokens) return;
      state.tokens = r.tokens || [];
      replace(tokensBox, tokensTable());
    } catch (e) {
      if (n !== seq.tokens) return;
      failed(tokensBox, e);
    }
    projects();
  }

  async function loadDomains() {
    try {
      const r = await api('GET', '/domains', {signal: ctx.signal});
      state.domains = r.domains || [];
      replace(domainsBox, domainsTable());
    } catch (e) {
      failed(domainsBox, e);
    }
    projects();
  }

  function failed(box, e) {
    if (e.name === 'AbortError' || e.status === 401) return;
    replace(box, el('p', {class: 'error'}, `Could not load: ${e.message}`));
  }

  function keysTable() {
    if (!state.keys.length) {
      return el('p', {class: 'empty'}, scope() === '*' ? 'No access keys.' : 'No access keys in this project.');
    }
    return el('table', {class: 'keys'},
      // With every project listed, a phone needs the project column too.
      head(['Access key id', ['Project', narrowProject()], 'Admin', 'Description', ['Created', 'hide-narrow'], 'State', '']),
      el('tbody', {}, state.keys.map(keyRow)));
  }

  function narrowProject() {
    return scope() === '*' ? null : 'hide-narrow';
  }

  function keyRow(k) {
    const self = k.id === ctx.who.access_key_id;
    const st = k.revoked_at ? 'deleted' : k.disabled ? 'disabled' : 'enabled';
    const actions = [];
    if (!k.revoked_at) {
      if (k.disabled) {
        actions.push(el('button', {type: 'button', 'data-action': 'enable', onclick: () => setEnabled(k, true)}, 'Enable'));
      } else {
        // The API refuses to disable the key behind the request, which would lock this console out.
        actions.push(el('button', {type: 'button', 'data-action': 'disable', disabled: self,
          title: self ? 'This console is signed in with this key: sign in with another key to disable it.' : null,
          onclick: () => setEnabled(k, false)}, 'Disable'));
      }
      actions.push(el('button', {type: 'button', class: 'danger', 'data-action': 'delete', onclick: () => deleteKey(k)}, 'Delete'));
    }
    return el('tr', {dataset: {id: k.id}, class: self ? 'self' : null},
      el('td', {}, el('code', {}, k.id), self ? [' ', el('span', {class: 'badge mark'}, 'this console')] : null),
      el('td', {class: narrowProject()}, k.project),
      el('td', {}, k.admin ? 'admin' : '—'),
      el('td', {}, k.description || ''),
      el('td', {class: 'hide-narrow'}, fmtTime(k.created_at)),
      el('td', {}, stateBadge(st), k.revoked_at ? el('small', {class: 'hint'}, fmtTime(k.revoked_at)) : null),
      el('td', {}, el('div', {class: 'row-actions'}, actions)));
  }

  async function createKey() {
    clearErrors(keyForm);
    const body = {description: keyForm.description.value.trim()};
    if (admin) {
      body.project = keyForm.project.value.trim();
      body.admin = keyForm.admin.checked;
    }
    const button = keyForm.querySelector('[data-action=create]');
    button.disabled = true;
    try {
      const k = await api('POST', '/access-keys', {body, signal: ctx.signal});
      keyForm.reset();
      if (admin) keyForm.project.value = mine;
      showSecret(k);
      notice(`access key ${k.id} created`);
      await loadKeys();
    } catch (e) {
      if (e.name !== 'AbortError') showError(keyForm, e);
    } finally {
      button.disabled = false;
    }
  }

  // showSecret shows the one answer that carries a secret; dismissing it drops it for good.
  function showSecret(k) {
    const box = el('div', {class: 'secret', role: 'alert', dataset: {id: k.id}},
      el('h3', {}, `New access key of ${k.project}${k.admin ? ' (admin)' : ''}`),
      el('p', {}, el('strong', {}, 'Copy the secret now: it is shown only this once. '),
        'liverec keeps it sealed and will never show it again; if it is lost, create a new key.'),
      // An admin's key for another project is listed only while that project is shown.
      admin ? el('p', {class: 'hint scope-hint', hidden: shows(k.project), dataset: {project: k.project}},
        `It belongs to project ${k.project}, which the list below does not show. `,
        el('button', {type: 'button', 'data-action': 'show-project', onclick: () => showProject(k.project)},
          `Show ${k.project}`)) : null,
      el('dl', {class: 'props'},
        el('dt', {}, 'Access key id'), el('dd', {}, el('code', {class: 'key-id'}, k.id), ' ', copyButton(k.id, 'Copy id')),
        el('dt', {}, 'Secret'), el('dd', {}, el('code', {class: 'key-secret'}, k.secret), ' ', copyButton(k.secret, 'Copy secret'))),
      el('div', {class: 'actions'},
        el('button', {type: 'button', 'data-action': 'dismiss', onclick: () => replace(secretSlot)}, 'I have copied it')));
    replace(secretSlot, box);
    box.querySelector('[data-action=copy]').focus();
  }

  // keyQuery names the key's project when it is not the caller's (an admin acting on it).
  function keyQuery(k) {
    return k.project !== mine ? {project: k.project} : undefined;
  }

  async function setEnabled(k, enabled) {
    try {
      await api('PATCH', `/access-keys/${encodeURIComponent(k.id)}`, {body: {enabled}, query: keyQuery(k), signal: ctx.signal});
      notice(`access key ${k.id} ${enabled ? 'enabled' : 'disabled'}`);
    } catch (e) {
      if (e.name !== 'AbortError') showError(null, e);
    }
    await Promise.all([loadKeys(), loadTokens()]);
  }

  async function deleteKey(k) {
    const self = k.id === ctx.who.access_key_id;
    const msg = self ?
      `Delete ${k.id}? This console is signed in with it: deleting it signs you out, and it cannot be undone.` :
      `Delete access key ${k.id}? Everything using it, and its tokens, stops working. This cannot be undone.`;
    if (!await ask(msg)) return;
    try {
      await api('DELETE', `/access-keys/${encodeURIComponent(k.id)}`, {query: keyQuery(k), signal: ctx.signal});
      notice(`access key ${k.id} deleted`);
    } catch (e) {
      if (e.name !== 'AbortError') showError(null, e);
      return;
    }
    // With this console's own key gone, the next call answers 401 and the shell signs out.
    await Promise.all([loadKeys(), loadTokens()]);
  }

  function tokensTable() {
    if (!state.tokens.length) return el('p', {class: 'empty'}, 'No live tokens.');
    const current = (session() || {}).id;
    return el('table', {class: 'tokens'},
      head(['Token id', ['Project', 'hide-narrow'], 'Access key', ['Created', 'hide-narrow'], 'Expires', '']),
      el('tbody', {}, state.tokens.map((t) => {
        const self = t.id === current;
        return el('tr', {dataset: {id: t.id}, class: self ? 'self' : null},
          el('td', {}, el('code', {}, t.id), self ? [' ', el('span', {class: 'badge mark'}, 'this session')] : null),
          el('td', {class: 'hide-narrow'}, t.project, t.admin ? ' (admin)' : ''),
          el('td', {}, el('code', {}, t.key_id)),
          el('td', {class: 'hide-narrow'}, fmtTime(t.created_at)),
          el('td', {}, fmtTime(t.expires_at)),
          el('td', {}, el('button', {type: 'button', class: 'danger', 'data-action': 'revoke-token',
            onclick: () => revokeToken(t, self)}, 'Revoke')));
      })));
  }

  async function revokeToken(t, self) {
    const msg = self ? 'Revoke this session\'s token? It signs this console out.' :
      `Revoke token ${t.id}? Whoever uses it is signed out.`;
    if (!await ask(msg)) return;
    try {
      // An admin revoking another project's token names the project.
      const query = t.project !== mine ? {project: t.project} : undefined;
      await api('DELETE', `/tokens/${encodeURIComponent(t.id)}`, {query, signal: ctx.signal});
      notice(`token ${t.id} revoked`);
    } catch (e) {
      if (e.name !== 'AbortError') showError(null, e);
    }
    await loadTokens();
  }

  function domainsTable() {
    if (!state.domains.length) {
      return el('p', {class: 'empty'}, 'No domains yet: a domain becomes this project\'s when the project ' +
        'is the first to configure it (a rule or callback naming it), or when an admin assigns it.');
    }
    return el('table', {class: 'domains'},
      head(['Domain', 'Project', 'Since']),
      el('tbody', {}, state.domains.map((d) => el('tr', {dataset: {id: d.domain}},
        el('td', {}, el('code', {}, d.domain)),
        el('td', {}, d.project),
        el('td', {}, fmtTime(d.created_at))))));
  }

  async function assignDomain() {
    clearErrors(domainForm);
    const domain = domainForm.domain.value.trim().toLowerCase();
    const project = domainForm.project.value.trim();
    const button = domainForm.querySelector('[data-action=assign]');
    button.disabled = true;
    try {
      await api('PUT', `/domains/${encodeURIComponent(domain)}`, {body: {domain, project}, signal: ctx.signal});
      notice(`${domain} now belongs to ${project}`);
      domainForm.domain.value = '';
      await loadDomains();
    } catch (e) {
      if (e.name !== 'AbortError') showError(domainForm, e);
    } finally {
      button.disabled = false;
    }
  }

  function projects() {
    if (!admin) return;
    const seen = new Map();
    const count = (p, what) => {
      if (!p) return;
      const c = seen.get(p) || {keys: 0, tokens: 0, domains: 0};
      c[what]++;
      seen.set(p, c);
    };
    if (mine) seen.set(mine, {keys: 0, tokens: 0, domains: 0});
    const sc = scope();
    if (sc && sc !== '*') seen.set(sc, {keys: 0, tokens: 0, domains: 0});
    for (const k of state.keys) if (!k.revoked_at) count(k.project, 'keys');
    for (const t of state.tokens) count(t.project, 'tokens');
    for (const d of state.domains) count(d.project, 'domains');
    const names = [...seen.keys()].sort();
    replace(projectsBox, el('table', {class: 'projects'},
      head(['Project', ['Active keys', 'num'], ['Live tokens', 'num'], ['Domains', 'num'], '']),
      el('tbody', {}, names.map((p) => {
        const c = seen.get(p);
        // Keys and tokens are loaded for the chosen scope only: other projects' are not known.
        const known = shows(p);
        const num = (n) => el('td', {class: 'num', title: known ? null : 'Choose "All projects" to count them'},
          known ? String(n) : '—');
        return el('tr', {dataset: {id: p}},
          el('td', {}, p, p === mine ? [' ', el('span', {class: 'badge mark'}, 'yours')] : null),
          num(c.keys),
          num(c.tokens),
          el('td', {class: 'num'}, String(c.domains)),
          el('td', {}, el('button', {type: 'button', 'data-action': 'show-project', disabled: shows(p) && scope() !== '*',
            title: `Show the keys and tokens of ${p}`, onclick: () => showProject(p)}, 'Show')));
      }))));
  }
}

// head builds a table head; a column is a title or [title, class].
function head(cols) {
  return el('thead', {}, el('tr', {}, cols.map((c) => {
    const [title, cls] = Array.isArray(c) ? c : [c, null];
    return el('th', {scope: 'col', class: cls}, title);
  })));
}
