// rule-form.js: the one form that creates and edits a recording rule (rules.js lists them).
// Every field of the native model is here; where Alibaba's AddLiveAppRecordConfig or Huawei's
// record rule has a twin, its name is a hint under the field, so users of either cloud's
// console find their setting. Ranges are the native API's (the form writes native rules).
import {ApiError, api, clearErrors, el, field, notice, replace, toLocalInput, toRFC3339} from '../lib.js';
import {cloudDialect, onDemandField, saveOnDemandURL} from './rule-ondemand.js';

// FORMATS are the formats in the order the form sends them; the API's "formats[i]" errors are
// mapped back through the list actually sent.
const FORMATS = ['flv', 'mp4', 'hls'];

// Native defaults (internal/recording/rule_default.go): a format enabled by the user starts there.
const DEFAULTS = {
  flv: {cycle_s: 3600, merge_window_s: 30, object_template: 'record/{AppName}/{StreamName}/{EscapedStartTime}_{EscapedEndTime}'},
  mp4: {cycle_s: 3600, merge_window_s: 30, object_template: 'record/{AppName}/{StreamName}/{EscapedStartTime}_{EscapedEndTime}'},
  hls: {cycle_s: 21600, merge_window_s: 30, object_template: 'record/{AppName}/{StreamName}/{EscapedStartTime}_{EscapedEndTime}',
    slice_s: 10, slice_template: 'record/{AppName}/{StreamName}/{UnixTimestamp}_{Sequence}'},
};

const FORMAT_NAMES = {
  flv: ['FLV', 'Alibaba RecordFormat Format "flv" · Huawei record_format FLV, flv_config'],
  mp4: ['MP4', 'Alibaba RecordFormat Format "mp4" · Huawei record_format MP4, mp4_config'],
  hls: ['HLS (playlist + TS slices)', 'Alibaba RecordFormat Format "m3u8" · Huawei record_format HLS, hls_config'],
};

// MODES: the native mode, its label and what it means in each cloud (internal/api/aliyun
// parseOnDemand, internal/api/huawei modeOfType).
export const MODES = [
  ['auto', 'Automatic: record whenever the stream publishes',
    'Alibaba OnDemand 0 · Huawei record_type CONTINUOUS_RECORD'],
  ['on_demand_http', 'On demand, asked over HTTP: the callback configuration\'s on-demand URL decides per stream',
    'Alibaba OnDemand 1 · Huawei record_type ON_DEMAND_RECORD. liverec sends GET {on-demand URL}?app=&domain=&stream=&vbitrate=&codec= and records when the reply is {"NeedRecord": true}'],
  ['on_demand_param', 'On demand, by publish parameter: the record_config parameter of the publish URL decides',
    'Alibaba OnDemand 2 (Huawei has no twin; it reads as ON_DEMAND_RECORD)'],
  ['manual', 'Manual: record only between start and stop commands',
    'Alibaba OnDemand 7 with RealTimeRecordCommand · Huawei record_type COMMAND_RECORD with record/control'],
  ['plan', 'Plan: record inside a time window',
    'Alibaba OnDemand 0 with StartTime/EndTime · Huawei record_type PLAN_RECORD (windows from plan tasks, Huawei schedule/record/tasks)'],
];

// VARIABLES the templates accept (internal/recording/template.go, rendered by
// internal/upload/template.go); Alibaba's and Huawei's both work in any template.
const VARIABLES = [
  ['{AppName} / {app}', 'app name'],
  ['{StreamName} / {stream}', 'stream name'],
  ['{Domain} / {publish_domain}', 'publishing domain'],
  ['{Sequence} / {ts_sequence_number}', 'file number in the recording (slice number for slices)'],
  ['{StartTime}', 'start, 2006-01-02-15:04:05'],
  ['{EndTime}', 'end, 2006-01-02-15:04:05 ("live" while unknown)'],
  ['{EscapedStartTime} / {file_start_time}', 'start, 2006-01-02-15-04-05'],
  ['{EscapedEndTime}', 'end, 2006-01-02-15-04-05'],
  ['{UnixTimestamp} / {file_start_time_unix}', 'start, Unix seconds'],
  ['{file_end_time_unix}', 'end, Unix seconds'],
  ['{record_type}', 'Huawei record type of the mode, e.g. CONTINUOUS_RECORD'],
  ['{record_format}', 'FLV, MP4 or HLS'],
];

/**
 * ruleForm builds form[data-form=rule] for rule (null: a new rule). callbacks are the project's
 * callback configurations, which hold the on-demand URL. onSaved(rule) runs after a successful
 * save, onRuleOnly(rule) when the rule was saved but its on-demand URL was not (the form stays
 * open), onCancel when the user closes the form. signal ends pending previews.
 */
export function ruleForm({rule, callbacks, onSaved, onRuleOnly, onCancel, signal}) {
  let editing = !!(rule && rule.id);
  let r = rule || {domain: '', app: '*', stream: '', mode: 'auto',
    formats: [{format: 'mp4', ...DEFAULTS.mp4}], storage: {endpoint: 'local', bucket: 'recordings', base_path: ''}};
  const storage = r.storage || {};

  const modeHint = el('small', {class: 'hint', id: 'rule-mode-hint'});
  const mode = field('Mode', {tag: 'select', name: 'mode', value: r.mode || 'auto', 'aria-describedby': 'rule-mode-hint',
    options: MODES.map(([v, label]) => [v, label])});
  mode.append(modeHint);
  // A rule written through a cloud's API gets its configuration in that cloud's dialect.
  const dialect = cloudDialect(rule);
  const onDemand = onDemandField(callbacks || []);

  const plan = el('fieldset', {class: 'plan'},
    el('legend', {}, 'Plan window'),
    el('p', {class: 'hint'}, 'In your browser\'s time zone. Leave both empty to record only inside the windows of plan tasks (/api/v1/plan-tasks, Huawei schedule/record/tasks).'),
    el('div', {class: 'grid'},
      field('Start', {name: 'start_time', type: 'datetime-local', step: 1, value: toLocalInput(r.start_time)}, 'Alibaba StartTime'),
      field('End', {name: 'end_time', type: 'datetime-local', step: 1, value: toLocalInput(r.end_time)}, 'Alibaba EndTime; must be after the start')));

  const fieldsets = FORMATS.map((f) => formatFieldset(f, (r.formats || []).find((x) => x.format === f)));
  const previewFor = el('p', {class: 'hint preview-for'});
  const previewError = el('p', {class: 'hint preview-error', role: 'status'});

  const heading = el('h2', {}, editing ? `Edit rule ${r.domain}/${r.app}/${r.stream}` : 'New recording rule');
  const form = el('form', {class: 'card rule-form', dataset: {form: 'rule'}, novalidate: true, autocomplete: 'off'},
    heading,
    editing && r.dialect && r.dialect !== 'native' ?
      el('p', {class: 'hint'}, `Written through the ${r.dialect} API; saving here rewrites it as a native rule (native ranges).`) : null,
    el('fieldset', {},
      el('legend', {}, 'Streams'),
      el('div', {class: 'grid'},
        field('Domain', {name: 'domain', value: r.domain, required: true, maxlength: 253, spellcheck: 'false',
          placeholder: 'live.example.com', readonly: editing && r.domain === '*'},
        'Host name the stream publishes to ("*" only for the default rule). Alibaba DomainName · Huawei publish_domain'),
        field('App', {name: 'app', value: r.app, maxlength: 128, spellcheck: 'false'},
          '"*" = any app. Alibaba AppName · Huawei app'),
        field('Stream', {name: 'stream', value: r.stream === '*' ? '' : r.stream, maxlength: 128, spellcheck: 'false', placeholder: '*'},
          'Empty or "*" = any stream. Alibaba StreamName · Huawei stream'))),
    mode,
    onDemand.box,
    el('p', {class: 'field-error', dataset: {for: 'formats'}, role: 'alert'}),
    plan,
    el('fieldset', {},
      el('legend', {}, 'Storage'),
      el('div', {class: 'grid'},
        field('Endpoint', {name: 'endpoint', value: storage.endpoint || 'local', maxlength: 255, spellcheck: 'false', list: 'rule-endpoints'},
          '"local" or an endpoint name or alias from the config file. Alibaba OssEndpoint · Huawei obs_addr.location'),
        field('Bucket', {name: 'bucket', value: storage.bucket || 'recordings', maxlength: 63, spellcheck: 'false'},
          '1–63 of a–z A–Z 0–9 . _ -. Alibaba OssBucket · Huawei obs_addr.bucket'),
        field('Base path', {name: 'base_path', value: storage.base_path || '', maxlength: 255, spellcheck: 'false', placeholder: '(none)'},
          'Prefix of every object key. Huawei obs_addr.object')),
      el('datalist', {id: 'rule-endpoints'}, el('option', {value: 'local'}))),
    retentionFieldset(r),
    el('h3', {}, 'Formats'),
    el('p', {class: 'hint'}, 'Tick each format to record. Merge window: how long a recording waits for its publisher to come back and continue the same file (Alibaba DelayTime applies one value to every format).'),
    previewFor,
    previewError,
    fieldsets,
    variablesHint(),
    el('p', {class: 'field-error', dataset: {for: 'form'}, role: 'alert'}),
    el('div', {class: 'actions'},
      el('button', {type: 'submit', class: 'primary'}, editing ? 'Save rule' : 'Create rule'),
      el('button', {type: 'button', dataset: {action: 'cancel'}, onclick: () => onCancel()}, 'Cancel')));

  const select = form.querySelector('select[name=mode]');
  const syncMode = () => {
    const m = MODES.find(([v]) => v === select.value);
    modeHint.textContent = m ? m[2] : '';
    plan.hidden = select.value !== 'plan';
    onDemand.box.hidden = select.value !== 'on_demand_http';
    onDemand.input.required = select.value === 'on_demand_http';
  };
  select.addEventListener('change', syncMode);
  syncMode();
  // The URL comes from the configuration of the domain and app typed (the API's defaults).
  const streamKey = () => [form.querySelector('[name=domain]').value.trim().toLowerCase(),
    form.querySelector('[name=app]').value.trim() || '*'];
  const syncOnDemand = () => onDemand.refresh(...streamKey());
  syncOnDemand();
  for (const fs of fieldsets) syncFormat(fs);

  // Preview: debounced, and only the latest request may write.
  let timer = 0;
  let pending = null;
  const preview = async () => {
    if (pending) pending.abort();
    if (!form.isConnected && timer) return; // closed: a late keystroke needs no preview
    const ctl = new AbortController();
    pending = ctl;
    const {body} = readRule(form);
    try {
      const res = await api('POST', '/rules/preview', {body, signal: ctl.signal});
      if (ctl !== pending) return;
      previewError.textContent = '';
      const s = res.stream || {};
      previewFor.textContent = s.domain ? `Object names for stream ${s.domain}/${s.app}/${s.stream} started now:` : '';
      showPreview(form, res.objects || {});
    } catch (e) {
      if (e.name === 'AbortError' || ctl !== pending) return;
      previewError.textContent = `No preview: ${e.message}`;
      showPreview(form, {});
    }
  };
  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(preview, 300);
  };
  form.addEventListener('input', (ev) => {
    if (ev.target.name === 'domain' || ev.target.name === 'app') syncOnDemand();
    if (ev.target.name !== 'on_demand_url') schedule(); // not part of the rule: no new preview
  });
  form.addEventListener('change', (ev) => {
    if (ev.target.name === 'enabled') syncFormat(ev.target.closest('fieldset'));
    if (ev.target.name !== 'on_demand_url') schedule();
  });
  signal.addEventListener('abort', () => {
    clearTimeout(timer);
    if (pending) pending.abort();
  }, {once: true});
  preview();

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const {body, sent} = readRule(form);
    const wantURL = body.mode === 'on_demand_http';
    const url = onDemand.input.value.trim();
    const urlError = form.querySelector('.field-error[data-for=on_demand_url]');
    if (wantURL && !url) {
      // Checked first: without a URL such a rule records nothing, so nothing is saved.
      urlError.textContent = 'An on-demand URL is required in this mode: liverec asks it whether to record each stream.';
      onDemand.input.setAttribute('aria-invalid', 'true');
      onDemand.input.focus();
      return;
    }
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    try {
      let saved;
      try {
        saved = editing ?
          await api('PUT', `/rules/${encodeURIComponent(r.id)}`, {body, signal}) :
          await api('POST', '/rules', {body, signal});
      } catch (e) {
        if (e.name !== 'AbortError') showRuleError(form, e, sent);
        return;
      }
      if (wantURL) {
        try {
          await saveOnDemandURL(saved, url, {dialect, signal});
        } catch (e) {
          if (e.name === 'AbortError' || e.status === 401) return;
          // The rule stands: from now on the form edits it, so saving again does not add it twice.
          const was = editing ? 'saved' : 'created';
          editing = true;
          r = saved;
          heading.textContent = `Edit rule ${r.domain}/${r.app}/${r.stream}`;
          button.textContent = 'Save rule';
          urlError.textContent = `The rule was ${was}, but its on-demand URL was not saved: ${e.message}`;
          onDemand.input.setAttribute('aria-invalid', 'true');
          onDemand.input.focus();
          notice(`rule ${was}; on-demand URL not saved: ${e.message}`, 'error');
          if (onRuleOnly) onRuleOnly(saved);
          return;
        }
      }
      notice(editing ? 'rule saved' : 'rule created');
      onSaved(saved);
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

// UNITS are the retention units the form offers, in seconds, largest last.
const UNITS = [['s', 1, 's'], ['min', 60, 'min'], ['h', 3600, 'h'], ['days', 86400, 'days']];

// PREROLL_MB_PER_S is what one second of pre-roll of a 2 Mbit/s stream holds in memory (plus
// audio and the buffer's own bookkeeping): about 0.37 MB.
const PREROLL_MB_PER_S = 0.37;

/** fmtRetention says a retention in the largest unit that divides it: 172800 → "2 days". */
export function fmtRetention(s) {
  const [n, unit] = splitRetention(s);
  return n ? `${n} ${unit === 's' ? 's' : unit}` : 'forever';
}

// splitRetention turns seconds into the number and unit the form shows (0 → ['', 'days']).
function splitRetention(s) {
  if (!s) return ['', 'days'];
  for (let i = UNITS.length - 1; i >= 0; i--) {
    const [unit, mul] = UNITS[i];
    if (s % mul === 0) return [String(s / mul), unit];
  }
  return [String(s), 's'];
}

// retentionFieldset holds the issue-17 fields: none has a twin in Alibaba's or Huawei's rules.
function retentionFieldset(r) {
  const [n, unit] = splitRetention(r.retention_s || 0);
  const preRoll = r.pre_roll_s || 0;
  const cost = el('small', {class: 'hint', 'data-hint': 'pre-roll-cost', 'aria-live': 'polite'});
  const keep = field('Keep files for', {name: 'retention_s', type: 'number', min: 0, step: 'any', inputmode: 'decimal',
    value: n, placeholder: 'forever'},
  'Counted from the end of the recording; empty or 0 keeps them forever. Locked recordings are never deleted. No Alibaba or Huawei counterpart.');
  const unitSelect = el('select', {name: 'retention_unit', 'aria-label': 'Retention unit'},
    UNITS.map(([v, , label]) => el('option', {value: v, selected: v === unit}, label)));
  keep.querySelector('input').after(unitSelect);
  const pre = field('Pre-roll (s)', {name: 'pre_roll_s', type: 'number', min: 0, max: 120, step: 1, inputmode: 'numeric',
    value: preRoll || ''},
  '0–120; empty or 0 is off. Seconds of recent video kept in memory per live stream, so an event recording can start before the moment it is marked. No Alibaba or Huawei counterpart.');
  pre.querySelector('.field-error').before(cost); // the API's error stays last
  const syncCost = () => {
    const s = Number(pre.querySelector('input').value) || 0;
    cost.textContent = s > 0 ?
      `Costs about ${(s * PREROLL_MB_PER_S).toFixed(1)} MB of memory per live stream of 2 Mbit/s (≈${PREROLL_MB_PER_S} MB per second; more for higher bitrates).` :
      'Off: event recordings start at the next keyframe after they are marked.';
  };
  pre.querySelector('input').addEventListener('input', syncCost);
  syncCost();
  return el('fieldset', {class: 'retention', dataset: {fieldset: 'retention'}},
    el('legend', {}, 'Retention and disk'),
    el('div', {class: 'grid'}, keep, pre),
    field('Overwrite when full', {type: 'checkbox', name: 'overwrite_when_full', checked: !!r.overwrite_when_full},
      'When a local volume falls below its low free-space mark, delete this rule\'s oldest unlocked stored files to make room (the surveillance mode) instead of refusing new recordings. No Alibaba or Huawei counterpart.'));
}

// readRetention reads the retention fieldset; an empty number is 0 (keep, off), so clearing a
// field in an edit turns the setting off.
function readRetention(form) {
  const fs = form.querySelector('fieldset[data-fieldset=retention]');
  const raw = fs.querySelector('[name=retention_s]').value.trim();
  const mul = (UNITS.find(([u]) => u === fs.querySelector('[name=retention_unit]').value) || UNITS[0])[1];
  const pre = fs.querySelector('[name=pre_roll_s]').value.trim();
  const secs = raw === '' ? 0 : Number(raw) * mul;
  return {
    // A positive entry never rounds to 0, which would mean keep forever.
    retention_s: secs > 0 && secs < 1 ? 1 : Math.round(secs),
    overwrite_when_full: fs.querySelector('[name=overwrite_when_full]').checked,
    pre_roll_s: pre === '' ? 0 : Number(pre),
  };
}

function formatFieldset(f, fc) {
  const enabled = !!fc;
  const v = {...DEFAULTS[f], ...(fc || {})};
  const [title, cloud] = FORMAT_NAMES[f];
  const hls = f === 'hls';
  return el('fieldset', {class: 'format', dataset: {format: f}},
    el('legend', {}, field(`Record ${title}`, {type: 'checkbox', name: 'enabled', checked: enabled})),
    el('small', {class: 'hint'}, cloud),
    el('div', {class: 'grid'},
      field('Cycle (s)', {name: 'cycle_s', type: 'number', min: 0, max: 43200, step: 1, inputmode: 'numeric', value: v.cycle_s},
        '5–43200, or 0 for one file per recording. Alibaba CycleDuration (15–21600) · Huawei record_cycle (60–43200, 0)'),
      field('Merge window (s)', {name: 'merge_window_s', type: 'number', min: 0, max: 21600, step: 1, inputmode: 'numeric', value: v.merge_window_s},
        '0–21600. Alibaba DelayTime (15–21600) · Huawei record_max_duration_to_merge_file (−1..300)'),
      hls ? field('Slice (s)', {name: 'slice_s', type: 'number', min: 1, max: 60, step: 1, inputmode: 'numeric', value: v.slice_s},
        '1–60. Alibaba SliceDuration (5–30) · Huawei record_slice_duration (2–60)') : null),
    field(hls ? 'Playlist name template' : 'File name template',
      {name: 'object_template', value: v.object_template, maxlength: 255, spellcheck: 'false', class: 'mono'},
      `Without extension, at most 255 bytes. Alibaba OssObjectPrefix · Huawei record_prefix`),
    el('p', {class: 'preview'}, 'Preview: ', el('code', {dataset: {preview: f}})),
    hls ? field('Slice name template', {name: 'slice_template', value: v.slice_template, maxlength: 255, spellcheck: 'false', class: 'mono'},
      'Without extension. Alibaba SliceOssObjectPrefix · Huawei record_ts_prefix (placed beside the playlist)') : null,
    hls ? el('p', {class: 'preview'}, 'Preview: ', el('code', {dataset: {preview: 'hls_slice'}})) : null);
}

// syncFormat dims a format that is not recorded; its values stay editable and are kept.
function syncFormat(fs) {
  const on = fs.querySelector('[name=enabled]').checked;
  fs.classList.toggle('off', !on);
}

function variablesHint() {
  return el('details', {class: 'vars'},
    el('summary', {}, 'Template variables'),
    el('p', {class: 'hint'}, 'Times are in the server\'s recording.time_zone (UTC unless configured). Alibaba requires a start and an end time variable in file names and {UnixTimestamp} and {Sequence} in slice names.'),
    el('dl', {class: 'props'}, VARIABLES.map(([name, what]) => [el('dt', {}, el('code', {}, name)), el('dd', {}, what)])));
}

function showPreview(form, objects) {
  for (const code of form.querySelectorAll('[data-preview]')) {
    const fs = code.closest('fieldset');
    const on = fs && fs.querySelector('[name=enabled]').checked;
    code.textContent = on && objects[code.dataset.preview] ? objects[code.dataset.preview] : '—';
  }
}

/**
 * readRule reads the form into the body POST /rules takes, and the formats in the order sent
 * (to map "formats[i]" errors back to their fieldset). Empty numbers are left out, so the API
 * applies its default.
 */
export function readRule(form) {
  // Top-level names never clash with a format fieldset's, so the first match is the field.
  const val = (name) => form.querySelector(`[name=${name}]`).value.trim();
  const body = {domain: val('domain'), app: val('app'), stream: val('stream'), mode: form.querySelector('[name=mode]').value,
    formats: [], storage: {endpoint: val('endpoint'), bucket: val('bucket'), base_path: val('base_path')}};
  const sent = [];
  for (const f of FORMATS) {
    const fs = form.querySelector(`fieldset[data-format=${f}]`);
    if (!fs.querySelector('[name=enabled]').checked) continue;
    const fc = {format: f};
    const nums = f === 'hls' ? ['cycle_s', 'merge_window_s', 'slice_s'] : ['cycle_s', 'merge_window_s'];
    for (const n of nums) {
      const raw = fs.querySelector(`[name=${n}]`).value.trim();
      if (raw !== '') fc[n] = Number(raw);
    }
    const texts = f === 'hls' ? ['object_template', 'slice_template'] : ['object_template'];
    for (const n of texts) {
      const t = fs.querySelector(`[name=${n}]`).value.trim();
      if (t !== '') fc[n] = t;
    }
    body.formats.push(fc);
    sent.push(f);
  }
  Object.assign(body, readRetention(form));
  if (body.mode === 'plan') {
    const start = toRFC3339(val('start_time'));
    const end = toRFC3339(val('end_time'));
    if (start) body.start_time = start;
    if (end) body.end_time = end;
  }
  return {body, sent};
}

/**
 * showRuleError puts the API's message beside the field it names: "formats[1].cycle_s" goes to
 * the cycle_s slot of the second format sent, "storage.bucket" to bucket; a message naming no
 * field shows at the form's end and in #notice.
 */
export function showRuleError(form, err, sent) {
  clearErrors(form);
  if (err instanceof ApiError && err.status === 401) return; // the shell is signing out
  const msg = err && err.message ? err.message : String(err);
  const path = err instanceof ApiError ? err.field : '';
  let scope = form;
  let name = path;
  const m = /^formats\[(\d+)\](?:\.(\w+))?/.exec(path);
  if (m) {
    const fs = form.querySelector(`fieldset[data-format=${sent[Number(m[1])]}]`);
    if (fs) {
      scope = fs;
      name = m[2] && fs.querySelector(`.field-error[data-for=${m[2]}]`) ? m[2] : 'enabled';
    } else {
      name = 'formats';
    }
  } else if (path.startsWith('storage.')) {
    name = path.slice('storage.'.length);
  }
  const slot = name ? scope.querySelector(`.field-error[data-for="${CSS.escape(name)}"]`) : null;
  if (!slot) {
    replace(form.querySelector('.field-error[data-for=form]'), msg);
    notice(msg, 'error');
    return;
  }
  slot.textContent = msg;
  const input = scope.querySelector(`[name="${CSS.escape(name)}"]`);
  if (input) {
    input.setAttribute('aria-invalid', 'true');
    input.focus();
  } else {
    slot.scrollIntoView({block: 'center'});
  }
}
