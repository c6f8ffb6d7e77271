// What the call screens share: the names of statuses and end reasons, durations, stars,
// status dots, language names, avatars and the receipt dialog.

import { api } from '../api.js';
import { errorText, h, loading } from '../components.js';
import { currentLanguage, formatDateTime, gettext, interpolate } from '../i18n.js';
import { formatTokens } from '../money.js';

/** Statuses in which a call still holds both people. */
export const LIVE_STATUSES = new Set(['requested', 'ringing', 'accepted', 'active']);

/** @param {object|null} user */
export function isProfessional(user) {
  return Boolean(user && user.account_type === 'professional');
}

/** @param {string} status of a call */
export function callStatusLabel(status) {
  const labels = {
    requested: gettext('Calling…'),
    ringing: gettext('Ringing…'),
    accepted: gettext('Connecting…'),
    active: gettext('In progress'),
    ended: gettext('Ended'),
    rejected: gettext('Declined'),
    missed: gettext('Missed'),
    cancelled: gettext('Cancelled'),
    failed: gettext('Failed'),
  };
  return labels[status] || status;
}

/** @param {string} reason the end_reason of a finished call */
export function endReasonLabel(reason) {
  const labels = {
    client_hung_up: gettext('The client hung up.'),
    professional_hung_up: gettext('The professional hung up.'),
    balance_exhausted: gettext('The balance ran out.'),
    disconnected: gettext('A side lost its connection.'),
    no_answer: gettext('Nobody answered.'),
    declined: gettext('The call was declined.'),
    cancelled: gettext('The client cancelled the call.'),
    media_timeout: gettext('The video never connected. Nothing was charged.'),
    insufficient_funds: gettext('Not enough balance for the minimum fee.'),
    professional_offline: gettext('The professional went offline.'),
  };
  return labels[reason] || '';
}

/** @param {string} status online | busy | offline */
export function presenceLabel(status) {
  const labels = { online: gettext('Online'), busy: gettext('Busy'), offline: gettext('Offline') };
  return labels[status] || status;
}

/** A status dot with its word: colour never says it alone. */
export function statusDot(status) {
  return h(
    'span',
    { class: 'pro-status', dataset: { status }, 'data-testid': 'pro-status' },
    h('span', { class: 'pro-status-dot', 'aria-hidden': 'true' }),
    h('span', { class: 'pro-status-text' }, presenceLabel(status)),
  );
}

/** Update a statusDot() in place. */
export function setStatusDot(element, status) {
  element.dataset.status = status;
  element.querySelector('.pro-status-text').textContent = presenceLabel(status);
}

/** 75 -> "1:15", 3725 -> "1:02:05". @param {number} seconds */
export function formatSeconds(seconds) {
  const total = Math.max(0, Math.floor(seconds || 0));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const rest = String(total % 60).padStart(2, '0');
  return hours ? `${hours}:${String(minutes).padStart(2, '0')}:${rest}` : `${minutes}:${rest}`;
}

/** "4.5 ★ (12)" as text with an accessible wording. */
export function ratingText(average, count) {
  if (!count) return h('span', { class: 'muted' }, gettext('No ratings yet'));
  const value = new Intl.NumberFormat(currentLanguage(), { maximumFractionDigits: 1 }).format(Number(average));
  return h(
    'span',
    { class: 'rating', 'aria-label': interpolate(gettext('Rated %(value)s out of 5 by %(count)s people'), { value, count }) },
    h('span', { 'aria-hidden': 'true' }, `★ ${value} (${count})`),
  );
}

/** Stars given to one call. @param {number} stars */
export function starsText(stars) {
  return h(
    'span',
    { class: 'rating', 'aria-label': interpolate(gettext('%(stars)s out of 5 stars'), { stars }) },
    h('span', { 'aria-hidden': 'true' }, '★'.repeat(stars) + '☆'.repeat(Math.max(0, 5 - stars))),
  );
}

/** "pt" -> "Portuguese" in the page's language. @param {string} code */
export function languageName(code) {
  try {
    const names = new Intl.DisplayNames([currentLanguage()], { type: 'language' });
    return names.of(code) || code;
  } catch {
    return code;
  }
}

/** "Ana Lima" -> "AL". */
function initials(name) {
  const words = String(name || '?').trim().split(/\s+/).filter(Boolean);
  const letters = words.length > 1 ? words[0][0] + words[words.length - 1][0] : (words[0] || '?').slice(0, 2);
  return letters.toLocaleUpperCase();
}

/** A decorative picture or initials (the name is always written next to it). */
export function personPicture(name, url, { size = 'normal' } = {}) {
  const classes = `call-avatar ${size}`;
  if (url) return h('img', { class: classes, src: url, alt: '', loading: 'lazy' });
  return h('span', { class: classes, 'aria-hidden': 'true' }, initials(name));
}

/** "12 tokens per minute". @param {number} price */
export function pricePerMinute(price) {
  return interpolate(gettext('%(price)s per minute'), { price: formatTokens(price) });
}

let dialogCounter = 0;

/**
 * Show a call's receipt (`GET calls/<id>/receipt/`) in a modal dialog; focus goes back to the
 * opener when it closes.
 * @param {number} callId @param {{opener?: HTMLElement}} [options]
 */
export function openCallReceipt(callId, { opener } = {}) {
  const titleId = `call-receipt-title-${++dialogCounter}`;
  const body = h('div', null, loading());
  const dialog = h(
    'dialog',
    { class: 'dialog receipt-dialog', 'aria-labelledby': titleId, 'data-testid': 'call-receipt' },
    h('h2', { id: titleId }, interpolate(gettext('Receipt of call %(id)s'), { id: callId })),
    body,
    h(
      'form',
      { method: 'dialog', class: 'dialog-actions' },
      h('button', { type: 'button', class: 'button', onclick: () => window.print() }, gettext('Print')),
      h('button', { type: 'submit', class: 'button primary', autofocus: true }, gettext('Close')),
    ),
  );
  const controller = new AbortController();
  dialog.addEventListener('close', () => {
    controller.abort();
    dialog.remove();
    opener?.focus();
  });
  document.body.append(dialog);
  dialog.showModal();
  api
    .get(`/calls/${callId}/receipt/`, { signal: controller.signal })
    .then((receipt) => body.replaceChildren(receiptList(receipt)))
    .catch((error) => {
      if (error.name !== 'AbortError') body.replaceChildren(h('p', { class: 'error-text', role: 'alert' }, errorText(error)));
    });
}

/** The receipt's fields as a definition list; the labels we know are translated. */
function receiptList(receipt) {
  const labels = {
    reference: gettext('Reference'),
    call_id: gettext('Call'),
    client: gettext('Client'),
    professional: gettext('Professional'),
    issued_to: gettext('Issued to'),
    started_at: gettext('Started'),
    connected_at: gettext('Connected'),
    ended_at: gettext('Ended'),
    duration_seconds: gettext('Duration'),
    billed_units: gettext('Billed units'),
    billing_unit_seconds: gettext('Billing unit (seconds)'),
    price_per_minute: gettext('Price per minute'),
    minimum_fee: gettext('Minimum fee'),
    total: gettext('Total'),
    charged: gettext('Charged'),
    billed_amount: gettext('Charged'),
    professional_share: gettext('Professional share'),
    platform_share: gettext('Platform share'),
    earned: gettext('Earned'),
    status: gettext('Status'),
    end_reason: gettext('How it ended'),
  };
  const show = (key, value) => {
    if (value === null || value === undefined || value === '') return '—';
    if (key.endsWith('_at') && typeof value === 'string') return formatDateTime(new Date(value));
    if (key === 'duration_seconds') return formatSeconds(value);
    if (key === 'status') return callStatusLabel(value);
    if (key === 'end_reason') return endReasonLabel(value) || value;
    if (Array.isArray(value)) return value.map((item) => (typeof item === 'object' ? Object.values(item).join(' · ') : String(item))).join('; ');
    if (typeof value === 'object') return value.display_name || value.name || Object.values(value).join(' · ');
    return String(value);
  };
  return h(
    'dl',
    { class: 'facts' },
    Object.entries(receipt || {}).flatMap(([key, value]) => [h('dt', null, labels[key] || key.replace(/_/g, ' ')), h('dd', null, show(key, value))]),
  );
}
