// pages/callbacks.js: the callback configurations of the project — list, add, edit, delete,
// enable/disable and "send a test event" (#/callbacks). Generate asks the server for a key of
// the chosen dialect's form.
import {api, ask, clearErrors, el, field, notice, replace, showError, stateBadge} from '../lib.js';

// EVENTS is the API's Event enum (openapi.json), with what each means to a reader.
const EVENTS = [
  ['record_started', 'Recording started'],
  ['record_paused', 'Recording paused'],
  ['record_resumed', 'Recording resumed'],
  ['file_started', 'File started'],
  ['file_completed', 'File completed'],
  ['record_over', 'Recording over'],
  ['record_failed', 'Recording failed'],
  ['ondemand_failed', 'On-demand decision failed'],
  // Only the standard dialect carries it: neither cloud has a file-deleted callback.
  ['file_deleted', 'File deleted (retention, disk full, API)'],
];

const STATUS_EVENTS = ['record_started', 'record_paused', 'record_resumed'];

// DIALECTS says, per dialect, who the receiver was written for, which events it can be sent
// (internal/notify/dialect Subscribed), what an empty event list means, and which
// authentication modes it has: Huawei signs in the body (sign_type MD5 or HMACSHA256), Alibaba
// signs with an MD5 header, the standard dialect with Standard Webhooks' HMAC-SHA256 header.
const DIALECTS = {
  standard: {
    label: 'Standard (liverec / Standard Webhooks)',
    who: 'For a receiver written for liverec or any Standard Webhooks library: a JSON envelope {type, timestamp, data}.',
    sends: (ev) => EVENTS.some(([v]) => v === ev),
    defaults: 'every event',
    modes: ['none', 'webhooks'],
  },
  aliyun: {
    label: 'Alibaba Cloud (ApsaraVideo Live)',
    who: 'For a server written for Alibaba Cloud Live recording callbacks: their body fields and ALI-LIVE-* headers.',
    sends: (ev, statusNotify) => ev === 'file_completed' || (statusNotify && STATUS_EVENTS.includes(ev)),
    defaults: 'file completed, and recording started/paused/resumed when status notifications are on',
    modes: ['none', 'MD5'],
  },
  huawei: {
    label: 'Huawei Cloud (Live)',
    who: 'For a server written for Huawei Cloud Live recording callbacks: RECORD_* event_type bodies, signed in auth_sign.',
    sends: (ev) => ['record_started', 'file_started', 'file_completed', 'record_over', 'record_failed'].includes(ev),
    defaults: 'file completed only (Huawei\'s default)',
    modes: ['none', 'MD5', 'HMACSHA256'],
  },
};

const MODE_LABELS = {
  none: 'None (unsigned)',
  MD5: 'MD5',
  HMACSHA256: 'HMACSHA256',
  webhooks: 'Standard Webhooks (HMAC-SHA256)',
};

// modeHelp explains what a receiver checks for each dialect and mode.
function modeHelp(dialect, mode) {
  if (mode === 'none') return 'Deliveries carry no signature.';
  if (dialect === 'huawei' && mode === 'MD5') return 'auth_sign = MD5(key + auth_timestamp) in the body; auth_timestamp is the signature\'s expiry.';
  if (dialect === 'huawei') return 'auth_sign = HMAC-SHA256(key, auth_timestamp + event_type + publish_domain + app + stream + download_url + play_url) in the body (Huawei\'s recommended mode).';
  if (dialect === 'aliyun') return 'ALI-LIVE-SIGNATURE = MD5("<callback host>|<ALI-LIVE-TIMESTAMP>|<key>") in the headers.';
  return 'webhook-signature = "v1," + base64(HMAC-SHA256(key, webhook-id "." webhook-timestamp "." body)) in the headers.';
}

// modeOf is the authentication mode a stored configuration uses.
function modeOf(c) {
  if (!c.has_key) return 'none';
  if (c.dialect === 'huawei') return c.sign_type || 'HMACSHA256';
  return c.dialect === 'aliyun' ? 'MD5' : 'webhooks';
}

// keyHint says which keys a dialect takes (service.ValidateCallbackKey).
function keyHint(dialect) {
  const plain = '32 to 64 letters and digits';
  const forms = dialect === 'standard' ?
    `a Standard Webhooks secret ("whsec_" and the base64 of 24 to 64 bytes) or ${plain}` : plain;
  return `${forms[0].toUpperCase()}${forms.slice(1)}; press Generate for a new one, and give the same key to the receiving server.`;
}

// COLUMNS head the list; on a phone each cell shows its column's name (table.stack).
const COLUMNS = ['Domain / app', 'Dialect', 'URL', 'On-demand URL', 'Events', 'Auth', 'Key', 'State', 'Actions'];

function cell(i, attrs, ...children) {
  return el('td', {...attrs, 'data-label': COLUMNS[i]}, ...children);
}

// TEST_POLL_MS and TEST_POLL_FOR bound how long a test event's delivery is watched here.
const TEST_POLL_MS = 500;
const TEST_POLL_FOR = 15000;

function sleep(ms, signal) {
  return new Promise((resolve) => {
    const id = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(id);
      resolve();
    }, {once: true});
  });
}

export async function render(ctx) {
  const {root, signal} = ctx;
  let callbacks = [];
  const tests = new Map(); // callback id → {delivery_id, delivery, error}

  const listSlot = el('div', {class: 'table-wrap'});
  const formCard = el('section', {class: 'card', hidden: true, 'aria-labelledby': 'callback-form-title'});
  replace(root,
    el('div', {class: 'toolbar'},
      el('h1', {}, 'Callbacks'),
      el('button', {type: 'button', class: 'primary', 'data-action': 'add', onclick: () => openForm(null)}, 'Add callback')),
    el('p', {class: 'hint'}, 'Where liverec sends recording events, in the dialect the receiving server was written for. ' +
      'Every delivery is logged on the Deliveries page.'),
    formCard,
    listSlot);

  async function load() {
    const r = await api('GET', '/callbacks', {query: {limit: 1000}, signal});
    callbacks = r.callbacks || [];
    renderList();
  }

  function renderList() {
    if (!callbacks.length) {
      replace(listSlot, el('p', {class: 'empty'}, 'No callbacks yet: add one to receive recording events.'));
      return;
    }
    replace(listSlot, el('table', {class: 'stack'},
      el('thead', {}, el('tr', {}, COLUMNS.map((c) => el('th', {}, c)))),
      el('tbody', {}, callbacks.map(row))));
  }

  function row(c) {
    const d = DIALECTS[c.dialect] || DIALECTS.standard;
    const events = c.events && c.events.length ?
      c.events.map((e) => (EVENTS.find(([v]) => v === e) || [e, e])[1]).join(', ') :
      `default: ${d.defaults}`;
    const slot = el('div', {class: 'test-result', 'aria-live': 'polite'});
    renderTest(slot, c.id);
    return el('tr', {dataset: {id: c.id}},
      cell(0, {}, el('span', {class: 'mono'}, `${c.domain}/${c.app}`)),
      cell(1, {}, c.dialect),
      cell(2, {}, el('span', {class: 'mono'}, c.url || '—')),
      cell(3, {}, el('span', {class: 'mono'}, c.on_demand_url || '—')),
      cell(4, {}, events),
      cell(5, {}, MODE_LABELS[modeOf(c)]),
      cell(6, {}, c.has_key ? 'set' : 'none'),
      cell(7, {}, stateBadge(c.enabled ? 'enabled' : 'disabled'),
        c.disabled_reason ? el('small', {class: 'hint'}, c.disabled_reason) : null),
      cell(8, {},
        el('div', {class: 'row-actions'},
          el('button', {type: 'button', 'data-action': 'edit', onclick: () => openForm(c)}, 'Edit'),
          el('button', {type: 'button', 'data-action': 'test', disabled: !c.enabled || !c.url,
            title: !c.enabled ? 'enable it first' : !c.url ? 'it has no event URL' : 'send one sample event to this URL',
            onclick: (ev) => sendTest(c, ev.currentTarget)}, 'Send test event'),
          c.enabled ?
            el('button', {type: 'button', 'data-action': 'disable', onclick: () => setEnabled(c, false)}, 'Disable') :
            el('button', {type: 'button', 'data-action': 'enable', onclick: () => setEnabled(c, true)}, 'Enable'),
          el('button', {type: 'button', class: 'danger', 'data-action': 'delete', onclick: () => remove(c)}, 'Delete')),
        slot));
  }

  // renderTest shows the last test event of callback id: its delivery's state and a link to it.
  function renderTest(slot, id) {
    const t = tests.get(id);
    if (!t) {
      replace(slot);
      return;
    }
    slot.dataset.delivery = t.delivery_id;
    const d = t.delivery;
    const link = el('a', {href: `#/deliveries?callback_id=${encodeURIComponent(id)}`}, 'see deliveries');
    if (!d) {
      replace(slot, 'Test event sent… ', link);
      return;
    }
    const detail = [];
    if (d.last_status) detail.push(`HTTP ${d.last_status}`);
    if (d.last_error) detail.push(d.last_error);
    replace(slot, `Test event${t.event ? ` (${t.event})` : ''}: `, stateBadge(d.state), ' ',
      detail.length ? el('span', {}, detail.join(' · ')) : null, ' ',
      d.state === 'pending' && t.done ? el('span', {class: 'hint'}, 'still retrying ') : null, link);
  }

  function updateTest(id) {
    const slot = root.querySelector(`tr[data-id="${CSS.escape(id)}"] .test-result`);
    if (slot) renderTest(slot, id);
  }

  async function sendTest(c, button) {
    button.disabled = true;
    try {
      const r = await api('POST', `/callbacks/${encodeURIComponent(c.id)}/test`, {body: {}, signal});
      const t = {delivery_id: r.delivery_id, event: r.event, delivery: null, done: false};
      tests.set(c.id, t);
      updateTest(c.id);
      notice('test event sent');
      // Watch the delivery for a while: the notifier sends it within a moment.
      const until = Date.now() + TEST_POLL_FOR;
      while (!signal.aborted && tests.get(c.id) === t) {
        t.delivery = await api('GET', `/deliveries/${encodeURIComponent(r.delivery_id)}`, {signal});
        t.done = Date.now() >= until;
        updateTest(c.id);
        if (t.delivery.state !== 'pending' || t.done) break;
        await sleep(TEST_POLL_MS, signal);
      }
    } catch (e) {
      if (e.name !== 'AbortError') showError(null, e);
    } finally {
      button.disabled = false;
    }
  }

  async function setEnabled(c, on) {
    try {
      await api('PUT', `/callbacks/${encodeURIComponent(c.id)}`, {body: {...writable(c), enabled: on}, signal});
      notice(on ? 'callback enabled' : 'callback disabled');
      await load();
    } catch (e) {
      if (e.name !== 'AbortError') showError(null, e);
    }
  }

  async function remove(c) {
    if (!await ask(`Delete the ${c.dialect} callback of ${c.domain}/${c.app} (${c.url || c.on_demand_url})? ` +
      'Its deliveries stay in the log.')) return;
    try {
      await api('DELETE', `/callbacks/${encodeURIComponent(c.id)}`, {signal});
      notice('callback deleted');
      tests.delete(c.id);
      await load();
    } catch (e) {
      if (e.name !== 'AbortError') showError(null, e);
    }
  }

  function openForm(c) {
    replace(formCard, callbackForm(c, ctx.who, {
      saved: async (msg) => {
        formCard.hidden = true;
        replace(formCard);
        notice(msg);
        await load();
      },
      cancel: () => {
        formCard.hidden = true;
        replace(formCard);
      },
      signal,
    }));
    formCard.hidden = false;
    formCard.querySelector('[name=domain]').focus();
  }

  await load();
}

// writable is the body that PUT takes for a stored configuration, key left empty (kept).
function writable(c) {
  return {
    dialect: c.dialect, domain: c.domain, app: c.app, url: c.url || '', on_demand_url: c.on_demand_url || '',
    events: c.events || [], need_status_notify: !!c.need_status_notify, sign_type: c.sign_type || '',
  };
}

// callbackForm builds the add/edit form; c is null to add.
function callbackForm(c, who, {saved, cancel, signal}) {
  const editing = !!c;
  const v = c || {dialect: 'standard', domain: '', app: '*', url: '', on_demand_url: '', events: [], need_status_notify: false};
  const dialectHelp = el('small', {class: 'hint'});
  const eventsHelp = el('small', {class: 'hint'});
  const authHelp = el('small', {class: 'hint'});
  const keyHelp = el('small', {class: 'hint', id: 'key-hint'});

  const form = el('form', {'data-form': 'callback', novalidate: true, autocomplete: 'off'},
    el('h2', {id: 'callback-form-title'}, editing ? `Edit callback ${c.id}` : 'Add a callback'),
    el('div', {class: 'grid'},
      field('Domain', {name: 'domain', value: v.domain, required: true, spellcheck: 'false'},
        who.admin ? 'The publishing domain; "*" catches domains without a callback of their own.' : 'The publishing domain.'),
      field('App', {name: 'app', value: v.app, spellcheck: 'false'}, '"*" for every app of the domain.')),
    el('label', {}, 'Dialect',
      el('select', {name: 'dialect'}, Object.entries(DIALECTS).map(([k, d]) =>
        el('option', {value: k, selected: v.dialect === k}, d.label))),
      dialectHelp,
      el('span', {class: 'field-error', dataset: {for: 'dialect'}, role: 'alert'})),
    field('Callback URL', {name: 'url', type: 'url', value: v.url || '', spellcheck: 'false', placeholder: 'https://example.com/liverec'},
      'Receives the events (http or https).'),
    field('On-demand URL', {name: 'on_demand_url', type: 'url', value: v.on_demand_url || '', spellcheck: 'false'},
      'Optional: asked whether to record a stream whose rule records on demand.'),
    el('fieldset', {class: 'events'},
      el('legend', {}, 'Events'),
      eventsHelp,
      el('div', {class: 'grid'}, EVENTS.map(([val, label]) =>
        el('label', {class: 'check'},
          el('input', {type: 'checkbox', name: 'events', value: val, checked: (v.events || []).includes(val)}), ' ', label))),
      el('span', {class: 'field-error', dataset: {for: 'events'}, role: 'alert'})),
    el('div', {class: 'aliyun-only'},
      field('Status notifications (Alibaba NeedStatusNotify)', {name: 'need_status_notify', type: 'checkbox', checked: v.need_status_notify},
        'Also send recording started, paused and resumed.')),
    el('fieldset', {},
      el('legend', {}, 'Authentication'),
      el('label', {}, 'Mode',
        el('select', {name: 'auth'}),
        authHelp,
        el('span', {class: 'field-error', dataset: {for: 'sign_type'}, role: 'alert'})),
      el('div', {class: 'key-row'},
        el('label', {}, 'Key',
          el('span', {class: 'key-input'},
            el('input', {name: 'key', value: '', spellcheck: 'false', autocomplete: 'off', maxlength: 94,
              pattern: '[A-Za-z0-9]{32,64}|whsec_[A-Za-z0-9+/]{32,88}={0,2}', 'aria-describedby': 'key-hint'}),
            el('button', {type: 'button', 'data-action': 'generate', onclick: (ev) => generateKey(ev.currentTarget)},
              'Generate')),
          keyHelp,
          el('span', {class: 'field-error', dataset: {for: 'key'}, role: 'alert'})))),
    el('div', {class: 'actions'},
      el('button', {type: 'submit', class: 'primary', 'data-action': 'save'}, editing ? 'Save' : 'Add callback'),
      el('button', {type: 'button', 'data-action': 'cancel', onclick: cancel}, 'Cancel')));

  let mode = editing ? modeOf(c) : 'none';

  // generateKey fills the key field with a new key of the chosen dialect's form, made by the
  // server (POST /callback-keys stores nothing).
  async function generateKey(button) {
    button.disabled = true;
    try {
      const r = await api('POST', '/callback-keys', {body: {dialect: form.dialect.value}, signal});
      form.key.value = r.key;
      form.key.dispatchEvent(new Event('input', {bubbles: true}));
    } catch (e) {
      if (e.name !== 'AbortError') showError(form, e);
    } finally {
      button.disabled = false;
    }
  }

  // sync shows what the chosen dialect can do: its explanation, the events it sends and its
  // authentication modes.
  function sync() {
    const dialect = form.dialect.value;
    const d = DIALECTS[dialect];
    const statusNotify = form.need_status_notify.checked;
    dialectHelp.textContent = d.who;
    eventsHelp.textContent = `Check none for the dialect's default: ${d.defaults}. Greyed events are not sent in this dialect.`;
    for (const box of form.querySelectorAll('input[name=events]')) {
      const ok = d.sends(box.value, statusNotify);
      box.disabled = !ok;
      if (!ok) box.checked = false;
    }
    form.querySelector('.aliyun-only').hidden = dialect !== 'aliyun';
    // A stored key cannot be removed through the API (an empty key keeps it).
    const keepsKey = editing && c.has_key;
    if (!d.modes.includes(mode) || (mode === 'none' && keepsKey)) mode = d.modes[d.modes.length - 1];
    const sel = form.auth;
    sel.replaceChildren(...d.modes.map((m) => el('option', {value: m, selected: m === mode,
      disabled: m === 'none' && keepsKey}, MODE_LABELS[m])));
    sel.value = mode;
    authHelp.textContent = modeHelp(dialect, mode) +
      (keepsKey ? ' A stored key cannot be removed: delete and re-create the callback to stop signing.' : '');
    form.querySelector('.key-row').hidden = mode === 'none';
    keyHelp.textContent = keepsKey ?
      'A key is stored: leave this empty to keep it, or enter a new one to replace it.' : keyHint(dialect);
  }
  form.dialect.addEventListener('change', sync);
  form.need_status_notify.addEventListener('change', sync);
  form.auth.addEventListener('change', () => {
    mode = form.auth.value;
    sync();
  });
  sync();

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const dialect = form.dialect.value;
    const body = {
      dialect,
      domain: form.domain.value.trim(),
      app: form.app.value.trim() || '*',
      url: form.url.value.trim(),
      on_demand_url: form.on_demand_url.value.trim(),
      events: [...form.querySelectorAll('input[name=events]:checked')].map((b) => b.value),
      need_status_notify: dialect === 'aliyun' && form.need_status_notify.checked,
      sign_type: dialect === 'huawei' && mode !== 'none' ? mode : '',
    };
    const key = form.key.value.trim();
    if (mode !== 'none') {
      if (key) body.key = key;
      else if (!(editing && c.has_key)) {
        const slot = form.querySelector('.field-error[data-for=key]');
        slot.textContent = 'A key is required to sign: type one or press Generate.';
        form.key.setAttribute('aria-invalid', 'true');
        form.key.focus();
        return;
      }
    }
    const submit = form.querySelector('button[type=submit]');
    submit.disabled = true;
    try {
      if (editing) await api('PUT', `/callbacks/${encodeURIComponent(c.id)}`, {body, signal});
      else await api('POST', '/callbacks', {body, signal});
      await saved(editing ? 'callback saved' : 'callback added');
    } catch (e) {
      if (e.name !== 'AbortError') showError(form, e);
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}
