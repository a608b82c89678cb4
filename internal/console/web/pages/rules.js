// rules.js: the Recording rules page (#/rules): the project's rules and the form that adds and
// edits them (rule-form.js). The default rule (domain "*") is an admin's to change.
import {api, ask, el, fmtTime, notice, replace} from '../lib.js';
import {MODES, fmtRetention, ruleForm} from './rule-form.js';
import {onDemandCell} from './rule-ondemand.js';

const MODE_WORDS = {auto: 'automatic', on_demand_http: 'on demand (HTTP)', on_demand_param: 'on demand (parameter)',
  manual: 'manual', plan: 'plan'};

export async function render(ctx) {
  const formSlot = el('div', {class: 'rule-form-slot'});
  const list = el('div', {class: 'table-wrap'});
  let rules = [];
  // The callback configurations hold the on-demand URLs: loaded once with each load of the list.
  let callbacks = null;

  const closeForm = () => replace(formSlot);
  const openForm = (rule) => {
    const form = ruleForm({
      rule,
      callbacks: callbacks || [],
      signal: ctx.signal,
      onCancel: closeForm,
      onSaved: async () => {
        closeForm();
        await load();
      },
      // The rule was saved but its URL was not: the form stays open, the list shows the rule.
      onRuleOnly: () => load().catch((e) => {
        if (e.name !== 'AbortError' && e.status !== 401) notice(e.message, 'error');
      }),
    });
    replace(formSlot, form);
    form.scrollIntoView({block: 'start'});
    form.querySelector(rule && rule.domain === '*' ? '[name=mode]' : '[name=domain]').focus();
  };

  const canChange = (r) => r.domain !== '*' || !!ctx.who.admin;

  const remove = async (r) => {
    if (!await ask(`Delete the rule ${key(r)}? Streams it matched fall back to the next rule that matches.`)) return;
    try {
      await api('DELETE', `/rules/${encodeURIComponent(r.id)}`, {signal: ctx.signal});
      notice('rule deleted');
      await load();
    } catch (e) {
      if (e.name !== 'AbortError' && e.status !== 401) notice(e.message, 'error');
    }
  };

  const row = (r) => el('tr', {dataset: {id: r.id}},
    el('td', {}, el('code', {}, key(r)), r.domain === '*' ? el('small', {class: 'hint'}, 'default rule') : null),
    el('td', {class: 'mode', title: (MODES.find(([v]) => v === r.mode) || [])[2] || ''}, MODE_WORDS[r.mode] || r.mode,
      onDemandCell(r, callbacks)),
    el('td', {}, (r.formats || []).map((f) => el('div', {}, formatSummary(f)))),
    el('td', {}, el('code', {}, storageSummary(r.storage || {})), retentionSummary(r)),
    el('td', {class: 'hide-narrow'}, r.dialect || 'native'),
    el('td', {class: 'hide-narrow'}, fmtTime(r.updated_at)),
    el('td', {class: 'row-actions'}, canChange(r) ? [
      el('button', {type: 'button', dataset: {action: 'edit'}, 'aria-label': `Edit rule ${key(r)}`, onclick: () => openForm(r)}, 'Edit'),
      ' ',
      el('button', {type: 'button', class: 'danger', dataset: {action: 'delete'}, 'aria-label': `Delete rule ${key(r)}`,
        onclick: () => remove(r)}, 'Delete'),
    ] : el('small', {class: 'hint'}, 'admins only')));

  const load = async () => {
    const [res, cbs] = await Promise.all([
      api('GET', '/rules', {query: {limit: 1000}, signal: ctx.signal}),
      // Without them the list still shows the rules, only not their on-demand URLs.
      api('GET', '/callbacks', {query: {limit: 1000}, signal: ctx.signal}).catch((e) => {
        if (e.name !== 'AbortError' && e.status !== 401) notice(`on-demand URLs not shown: ${e.message}`, 'error');
        return null;
      }),
    ]);
    rules = res.rules || [];
    callbacks = cbs ? cbs.callbacks || [] : null;
    if (!rules.length) {
      replace(list, el('p', {class: 'empty'}, 'No recording rules yet: streams are recorded by no rule. Add one with "New rule".'));
      return;
    }
    replace(list, el('table', {class: 'rules'},
      el('thead', {}, el('tr', {},
        el('th', {}, 'Domain / app / stream'), el('th', {}, 'Mode'), el('th', {}, 'Formats'),
        el('th', {}, 'Storage'), el('th', {class: 'hide-narrow'}, 'Written through'), el('th', {class: 'hide-narrow'}, 'Updated'),
        el('th', {}, 'Actions'))),
      el('tbody', {}, rules.map(row))));
  };

  replace(ctx.root,
    el('h1', {}, 'Recording rules'),
    el('p', {class: 'hint'}, 'A publishing stream is recorded by the most specific rule: an exact domain beats "*", then an exact app, then an exact stream. Changes apply to streams that start publishing afterwards.'),
    el('div', {class: 'toolbar'},
      el('button', {type: 'button', class: 'primary', dataset: {action: 'new'}, onclick: () => openForm(null)}, 'New rule')),
    formSlot,
    list);
  await load();
}

function key(r) {
  return `${r.domain}/${r.app}/${r.stream || '*'}`;
}

function formatSummary(f) {
  const cycle = f.cycle_s ? `${f.cycle_s} s files` : 'one file';
  const slice = f.format === 'hls' ? `, ${f.slice_s} s slices` : '';
  return `${f.format.toUpperCase()}: ${cycle}${slice}`;
}

// retentionSummary lists the retention, disk and pre-roll settings a rule has, or nothing.
function retentionSummary(r) {
  const parts = [];
  if (r.retention_s) parts.push(`kept ${fmtRetention(r.retention_s)}`);
  if (r.overwrite_when_full) parts.push('overwritten when full');
  if (r.pre_roll_s) parts.push(`${r.pre_roll_s} s pre-roll`);
  return parts.length ? el('div', {class: 'hint', dataset: {retention: r.retention_s || 0}}, parts.join(' · ')) : null;
}

function storageSummary(s) {
  return [s.endpoint, s.bucket, s.base_path].filter(Boolean).join('/');
}
