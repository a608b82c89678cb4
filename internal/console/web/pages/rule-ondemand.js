// rule-ondemand.js: the on-demand URL of the rule form (rule-form.js) and of the rules list.
// It is not a rule field: an on_demand_http stream asks the on_demand_url of the callback
// configuration that matches its domain and app (internal/ondemand Decider through
// recording.MatchCallback; Alibaba keeps OnDemandUrl in the notify config too). So the form
// reads it from that configuration and writes it back to the rule's own one.
import {api, el, field} from '../lib.js';

const HINT = 'Asked whether to record each stream; Alibaba OnDemandUrl (notify config) · Huawei —';

function sameDomain(a, b) {
  return String(a || '').toLowerCase() === String(b || '').toLowerCase();
}

/**
 * decisionCallback returns the configuration whose on_demand_url the streams of domain/app ask,
 * picked as recording.MatchCallback picks it: only configurations with an on-demand URL, an
 * exact domain beats "*", then an exact app beats "*", and of equals the first listed (the API
 * lists in creation order). Disabled configurations count: the decision ignores that flag too.
 * null when none serves.
 */
export function decisionCallback(callbacks, domain, app) {
  let best = null;
  let bestRank = -1;
  for (const c of callbacks || []) {
    if (!c.on_demand_url) continue;
    if (!(sameDomain(c.domain, domain) || c.domain === '*') || !(c.app === app || c.app === '*')) continue;
    const rank = (c.domain !== '*' || domain === '*' ? 2 : 0) + (c.app === app ? 1 : 0);
    if (rank > bestRank) {
      best = c;
      bestRank = rank;
    }
  }
  return best;
}

/**
 * ownCallback returns the configuration for exactly domain/app that the URL is written to: the
 * one the decision already asks, else one of dialect, else the first; null when there is none.
 */
function ownCallback(callbacks, domain, app, dialect) {
  const exact = (callbacks || []).filter((c) => sameDomain(c.domain, domain) && c.app === app);
  return exact.find((c) => c.on_demand_url) || exact.find((c) => c.dialect === dialect) || exact[0] || null;
}

/** cloudDialect is the callback dialect a rule's new configuration gets: its cloud's, else standard. */
export function cloudDialect(rule) {
  return rule && (rule.dialect === 'aliyun' || rule.dialect === 'huawei') ? rule.dialect : 'standard';
}

/**
 * onDemandField builds the on_demand_url field of the rule form. callbacks are the project's
 * configurations (GET /callbacks). refresh(domain, app) says which configuration the URL comes
 * from and, until the user types in the field, fills it from there.
 */
export function onDemandField(callbacks) {
  const source = el('small', {class: 'hint ondemand-source', id: 'rule-ondemand-source'});
  const label = field('On-demand URL', {name: 'on_demand_url', type: 'url', inputmode: 'url', maxlength: 2048,
    spellcheck: 'false', class: 'mono', placeholder: 'https://decide.example.com/record', 'aria-describedby': 'rule-ondemand-source'}, HINT);
  label.insertBefore(source, label.querySelector('.field-error'));
  const box = el('div', {class: 'ondemand'}, label);
  const input = label.querySelector('input');
  let touched = false;
  input.addEventListener('input', () => {
    touched = true;
  });

  const refresh = (domain, app) => {
    const used = decisionCallback(callbacks, domain, app);
    if (!touched) input.value = used ? used.on_demand_url : '';
    const parts = [];
    if (!domain) {
      parts.push('Saved to the callback configuration of the rule\'s domain and app.');
    } else if (used && sameDomain(used.domain, domain) && used.app === app) {
      parts.push(`From the callback configuration of ${used.domain}/${used.app} (${used.dialect}); saving writes it there.`);
    } else if (used) {
      parts.push(`From the callback configuration of ${used.domain}/${used.app} (${used.dialect}), which serves other streams too;` +
        ` a different URL here is saved to a configuration of ${domain}/${app} instead.`);
    } else {
      parts.push(`No callback configuration of ${domain}/${app} has one yet: saving adds it there.`);
    }
    if (domain && app === '*') {
      // An exact app's configuration beats "*": say which apps ask elsewhere.
      const others = (callbacks || []).filter((c) => c.on_demand_url && sameDomain(c.domain, domain) && c.app !== '*');
      for (const c of others) parts.push(`Streams of app ${c.app} ask ${c.on_demand_url} (configuration ${c.domain}/${c.app}).`);
    }
    source.textContent = parts.join(' ');
  };
  return {box, input, refresh};
}

/**
 * saveOnDemandURL makes the streams of the saved rule ask url: nothing when the configuration
 * they ask already has it; else PUT to the configuration of exactly the rule's domain and app
 * (every other field sent back as stored, since PUT replaces; the key is left out, which keeps
 * it, and so is enabled); else POST a configuration with only the on-demand URL, of dialect.
 * It reads the configurations afresh so that a PUT never sends back stale fields.
 * It resolves to 'unchanged', 'updated' or 'created' and throws the API's error.
 */
export async function saveOnDemandURL(rule, url, {dialect, signal}) {
  const res = await api('GET', '/callbacks', {query: {limit: 1000}, signal});
  const cs = (res && res.callbacks || []).filter((c) => !rule.project || c.project === rule.project);
  const used = decisionCallback(cs, rule.domain, rule.app);
  if (used && used.on_demand_url === url) return 'unchanged';
  const own = ownCallback(cs, rule.domain, rule.app, dialect);
  if (own) {
    await api('PUT', `/callbacks/${encodeURIComponent(own.id)}`, {signal, body: {
      dialect: own.dialect, domain: own.domain, app: own.app, url: own.url || '', on_demand_url: url,
      events: own.events || [], need_status_notify: !!own.need_status_notify, sign_type: own.sign_type || ''}});
    return 'updated';
  }
  await api('POST', '/callbacks', {signal, body: {dialect, domain: rule.domain, app: rule.app, on_demand_url: url}});
  return 'created';
}

/** onDemandCell shows, in the rules list, the URL an on_demand_http rule's streams ask. */
export function onDemandCell(rule, callbacks) {
  if (rule.mode !== 'on_demand_http' || !callbacks) return null;
  const used = decisionCallback(callbacks, rule.domain, rule.app);
  if (!used) return el('small', {class: 'ondemand-url missing'}, 'No on-demand URL: its streams are not recorded');
  return el('small', {class: 'ondemand-url', title: `from the callback configuration of ${used.domain}/${used.app}`},
    el('code', {}, used.on_demand_url));
}
