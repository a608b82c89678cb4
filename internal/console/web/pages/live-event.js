// pages/live-event.js: the live page's "Mark event" form (live.js): an event recording of a
// live stream, with the pre-roll its rule keeps.
import {api, clearErrors, el, field, fmtTime, notice, replace, showError} from '../lib.js';

const keyOf = (s) => `${s.domain}/${s.app}/${s.stream}`;
const pathOf = (s) => [s.domain, s.app, s.stream].map(encodeURIComponent).join('/');

// EVENT_PRE_S and EVENT_POST_S are the event form's defaults (pre_s is also capped by the
// rule's pre-roll: the API refuses more).
const EVENT_PRE_S = 10;
const EVENT_POST_S = 10;

// eventPanel is the small form that marks an event of a live stream: one MP4 from pre_s before
// now (out of the rule's pre-roll buffer) to post_s after, stored as a recording of mode event.
export function eventPanel(ctx) {
  const title = el('h2', {id: 'event-title'}, '');
  const preHint = el('small', {class: 'hint', 'data-hint': 'pre-roll'});
  const pre = field('Before (s)', {name: 'pre_s', type: 'number', min: 0, step: 'any', inputmode: 'decimal', value: 0});
  pre.querySelector('.field-error').before(preHint);
  const result = el('div', {'data-result': 'event', 'aria-live': 'polite'});
  const form = el('form', {'data-form': 'event', class: 'card', id: 'event-form', hidden: true, novalidate: true,
    'aria-labelledby': 'event-title'},
  title,
  el('p', {class: 'hint'}, 'Stores one MP4 from a little before now to a little after, cut on keyframes, as a recording of mode "event".'),
  el('div', {class: 'grid'},
    pre,
    field('After (s)', {name: 'post_s', type: 'number', min: 0, max: 600, step: 'any', inputmode: 'decimal', value: EVENT_POST_S},
      '0–600 s after now.'),
    field('Label', {name: 'label', maxlength: 256, spellcheck: 'false', placeholder: 'goal, door opened…'},
      'Carried in the recording and its file_completed event.')),
  field('Merge with an event of this stream still being recorded', {type: 'checkbox', name: 'merge', checked: true},
    'Extends that clip to the new end instead of making a separate one.'),
  el('div', {class: 'actions'},
    el('button', {type: 'submit', class: 'primary', 'data-action': 'record-event'}, 'Record event'),
    el('button', {type: 'button', 'data-action': 'cancel'}, 'Close')),
  result);
  let target = null;
  let gen = 0;

  form.querySelector('[data-action=cancel]').addEventListener('click', () => {
    form.hidden = true;
    target = null;
  });

  // preRollOf reads the pre-roll of the rule recording s (0 when it is not recorded).
  async function preRollOf(s) {
    if (!s.recording_id) return 0;
    const rec = await api('GET', `/recordings/${encodeURIComponent(s.recording_id)}`, {signal: ctx.signal});
    if (!rec.rule_id) return 0;
    const rule = await api('GET', `/rules/${encodeURIComponent(rec.rule_id)}`, {signal: ctx.signal});
    return rule.pre_roll_s || 0;
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!target) return;
    clearErrors(form);
    const num = (name) => {
      const v = form.elements[name].value.trim();
      return v === '' ? undefined : Number(v);
    };
    const body = {pre_s: num('pre_s'), post_s: num('post_s'), merge: form.elements.merge.checked};
    const label = form.elements.label.value.trim();
    if (label) body.label = label;
    const submit = form.querySelector('button[type=submit]');
    submit.disabled = true;
    try {
      const res = await api('POST', `/streams/${pathOf(target)}/events`, {body, signal: ctx.signal});
      const after = body.post_s ?? 0;
      const href = `#/recordings/${encodeURIComponent(res.recording_id)}?pending=1`;
      replace(result, el('p', {},
        `${res.merged ? 'Merged: ' : ''}event recording ${res.recording_id} will be stored in about ${Math.ceil(after)} s`,
        res.from ? ` (from ${fmtTime(res.from)})` : ' (from the next keyframe: no pre-roll)', '. ',
        el('a', {href, 'data-action': 'open-event'}, 'Open it')));
      notice(`event recording ${res.recording_id} started`);
    } catch (e) {
      if (e.name !== 'AbortError') showError(form, e);
    } finally {
      submit.disabled = false;
    }
  });

  return {
    panel: form,
    async open(s) {
      const mine = ++gen;
      target = s;
      title.textContent = `Mark an event of ${keyOf(s)}`;
      // Set by hand: reset() would restore the attributes, and el() sets properties.
      form.elements.pre_s.value = '0';
      form.elements.post_s.value = String(EVENT_POST_S);
      form.elements.label.value = '';
      form.elements.merge.checked = true;
      delete form.dataset.preRoll;
      preHint.textContent = 'Reading the pre-roll of its rule…';
      clearErrors(form);
      replace(result);
      form.hidden = false;
      form.scrollIntoView({block: 'nearest'});
      form.elements.label.focus();
      let preRoll = 0;
      try {
        preRoll = await preRollOf(s);
      } catch (e) {
        if (e.name === 'AbortError' || e.status === 401) return;
        // Unknown pre-roll: offer none, the API would refuse more than the rule keeps.
      }
      if (mine !== gen) return;
      form.elements.pre_s.value = String(Math.min(EVENT_PRE_S, preRoll));
      form.elements.pre_s.max = String(preRoll);
      form.dataset.preRoll = String(preRoll); // the defaults are in place
      preHint.textContent = preRoll ?
        `At most ${preRoll} s: the pre-roll its rule keeps.` :
        (s.recording_id ? 'Its rule keeps no pre-roll (pre_roll_s), so the clip starts at the next keyframe.' :
          'This publication is not being recorded, so no event can be recorded.');
    },
  };
}
