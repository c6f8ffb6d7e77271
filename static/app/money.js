// What the wallet screens share: amounts in tokens and reais, the names of what the ledger
// records, requests that move money (each with an Idempotency-Key, DESIGN §6), and paging by
// the API's `next` links.

import { api } from './api.js';
import { h } from './components.js';
import { config } from './config.js';
import { currentLanguage, gettext, interpolate, ngettext } from './i18n.js';

// --- Amounts -----------------------------------------------------------------------------------

/** R$ 12,34 from centavos (integers end to end, no float money). @param {number} centavos */
export function formatMoney(centavos) {
  return new Intl.NumberFormat(currentLanguage(), { style: 'currency', currency: 'BRL' }).format(centavos / 100);
}

/** A whole number in the page's language ("1.500"). @param {number} count */
export function formatNumber(count) {
  return new Intl.NumberFormat(currentLanguage()).format(count);
}

/** "1 token", "1.500 tokens". @param {number} count */
export function formatTokens(count) {
  return interpolate(ngettext('%(count)s token', '%(count)s tokens', count), { count: formatNumber(count) });
}

/** A statement amount with its sign: "+50", "−20". @param {number} amount */
export function formatSigned(amount) {
  return new Intl.NumberFormat(currentLanguage(), { signDisplay: 'exceptZero' }).format(amount);
}

// --- Names of ledger things --------------------------------------------------------------------

/** @param {string} kind a transfer kind of the statement */
export function transferKindLabel(kind) {
  const labels = {
    top_up: gettext('Token purchase'),
    charge: gettext('Call charge'),
    queue_fee: gettext('Queue fee'),
    release: gettext('Earnings released'),
    payout: gettext('Withdrawal'),
    refund: gettext('Refund'),
    coin_award: gettext('Coins awarded'),
    adjustment: gettext('Adjustment'),
  };
  return labels[kind] || kind; // a kind newer than this screen: its code rather than nothing
}

/** @param {string} kind the account kind of a receipt line */
export function accountLabel(kind) {
  const labels = {
    client_wallet: gettext('Wallet'),
    earnings_pending: gettext('Earnings in clearing'),
    earnings: gettext('Available earnings'),
    coins: gettext('Coins'),
  };
  return labels[kind] || kind;
}

/** @param {string} status of a PIX charge */
export function chargeStatusLabel(status) {
  const labels = {
    creating: gettext('Being created'),
    pending: gettext('Waiting for payment'),
    paid: gettext('Paid'),
    review: gettext('Under review'),
    expired: gettext('Expired'),
    failed: gettext('Failed'),
  };
  return labels[status] || status;
}

/**
 * What a reference points at, in words: "Call 12", "Withdrawal 3", "PIX top-up"; the raw
 * reference for kinds this app does not know.
 * @param {string} reference e.g. "call:12"
 */
export function referenceLabel(reference) {
  const [kind, id] = String(reference || '').split(/:(.*)/s);
  if (kind === 'call' && id) return interpolate(gettext('Call %(id)s'), { id });
  if (kind === 'payout' && id) return interpolate(gettext('Withdrawal %(id)s'), { id });
  if (kind === 'pix' && id) return gettext('PIX top-up');
  return reference;
}

/** A status as a badge: the word says it, the colour only repeats it. */
export function statusBadge(text, tone) {
  return h('span', { class: tone ? `badge ${tone}` : 'badge' }, text);
}

// --- Requests ----------------------------------------------------------------------------------

/** A random UUID; crypto.randomUUID needs a secure context, getRandomValues does not. */
function newKey() {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((byte) => byte.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * A POST that moves money, sent with an Idempotency-Key. The key is made once per action and
 * kept while that same request is tried again after a failure: when a try did reach the server
 * (the answer was lost on the way back), the retry gets its answer instead of paying twice.
 * A success, or a different request, starts a new key. Make one per form, when it is drawn.
 * @param {string} path e.g. "/wallet/topups/"
 * @returns {(json: object, options?: {signal?: AbortSignal}) => Promise<any>}
 */
export function moneyAction(path) {
  let attempt = null; // {body, key} of the action not yet answered with a success
  return async (json, options = {}) => {
    const body = JSON.stringify(json);
    if (!attempt || attempt.body !== body) attempt = { body, key: newKey() };
    const result = await api.post(path, json, { ...options, headers: { 'Idempotency-Key': attempt.key } });
    attempt = null;
    return result;
  };
}

/**
 * The API path of a `next` link (an absolute URL) for api.get, which takes paths under
 * `api_base`.
 * @param {string} url
 */
export function apiPathOf(url) {
  const { pathname, search } = new URL(url, window.location.origin);
  return (pathname.startsWith(config.api_base) ? pathname.slice(config.api_base.length) : pathname) + search;
}

/**
 * Wrap a loader so it never runs twice at once: a call while it runs asks for one more run
 * after it (events often come in bursts, and one fresh read covers them all).
 * @param {() => Promise<void>} load
 * @returns {() => Promise<void>}
 */
export function serialized(load) {
  let running = null;
  let again = false;
  return () => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        do {
          again = false;
          await load();
        } while (again);
      } finally {
        running = null;
      }
    })();
    return running;
  };
}

/** Download an API file (e.g. a statement as CSV) through a temporary link. */
export function saveBlob(blob, filename) {
  const url = URL.createObjectURL(blob);
  const link = h('a', { href: url, download: filename, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  // Give the browser a moment to start the download before the URL goes.
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
