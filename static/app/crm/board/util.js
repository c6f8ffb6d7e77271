// What the CRM's board, deal and settings screens share: API paths, money in centavos, the
// words for statuses, labels as chips, and small list helpers.

import { api } from '../../api.js';
import { h } from '../../components.js';
import { config } from '../../config.js';
import { currentLanguage, formatDateTime, gettext } from '../../i18n.js';
import { formatMoney } from '../../money.js';
import { crmPath } from '../nav.js';

export { crmPath };

/** A list answer may be a plain array or a page ({results, next}). */
export function resultsOf(answer) {
  if (Array.isArray(answer)) return answer;
  return (answer && answer.results) || [];
}

/** Leaving a screen aborts its requests: not a failure to show. */
export function isAbort(error) {
  return Boolean(error && error.name === 'AbortError');
}

/** The API path of a page's `next` link (absolute or relative) for api.get. */
export function nextPath(next) {
  if (!next) return null;
  const url = new URL(next, window.location.origin);
  const path = url.pathname.startsWith(config.api_base) ? url.pathname.slice(config.api_base.length) : url.pathname;
  return path + url.search;
}

/** GET every page of a list (bounded), e.g. members or labels for a picker. */
export async function getAll(path, { signal, maxPages = 10 } = {}) {
  const items = [];
  let url = crmPath(path);
  for (let page = 0; url && page < maxPages; page += 1) {
    const answer = await api.get(url, { signal });
    items.push(...resultsOf(answer));
    url = answer && !Array.isArray(answer) && answer.next ? nextPath(answer.next) : null;
  }
  return items;
}

// --- Money ------------------------------------------------------------------------------------

/** "R$ 1.234,56" from integer centavos, in the pipeline's currency (BRL by default). */
export function formatAmount(centavos, currency = 'BRL') {
  const amount = Number(centavos) || 0;
  if (!currency || currency === 'BRL') return formatMoney(amount);
  try {
    return new Intl.NumberFormat(currentLanguage(), { style: 'currency', currency }).format(amount / 100);
  } catch {
    return formatMoney(amount);
  }
}

/** Centavos as reais for an input ("1234,56" in Portuguese, "1234.56" in English). */
export function centavosToInput(centavos) {
  const amount = Number(centavos) || 0;
  const text = (amount / 100).toFixed(2);
  return currentLanguage().startsWith('pt') ? text.replace('.', ',') : text;
}

/**
 * Reais typed by a person ("1.234,56", "1234.56", "1234,5", "R$ 20") as integer centavos, or
 * null when it is not an amount. Integers end to end: no float money.
 * @param {string} text
 */
export function parseReais(text) {
  let value = String(text || '').replace(/[R$\s\u00a0]/g, '');
  if (!value) return 0;
  if (value.includes(',')) value = value.replace(/\./g, '').replace(',', '.');
  else if (/\.\d{3}$/.test(value) && !/\.\d{1,2}$/.test(value)) value = value.replace(/\./g, '');
  const match = /^(\d+)(?:\.(\d{1,2}))?$/.exec(value);
  if (!match) return null;
  return Number(match[1]) * 100 + Number((match[2] || '0').padEnd(2, '0'));
}

// --- Words --------------------------------------------------------------------------------------

/** @param {string} status open / won / lost */
export function dealStatusLabel(status) {
  switch (status) {
    case 'open':
      return gettext('Open deal');
    case 'won':
      return gettext('Won');
    case 'lost':
      return gettext('Lost');
    default:
      return status;
  }
}

/** @param {string} kind of a custom field */
export function fieldKindLabel(kind) {
  switch (kind) {
    case 'text':
      return gettext('Text');
    case 'number':
      return gettext('Number');
    case 'date':
      return gettext('Date');
    case 'choice':
      return gettext('Choice');
    default:
      return kind;
  }
}

export const FIELD_KINDS = ['text', 'number', 'date', 'choice'];

/** A date without time ("2026-03-05") in the page's language, read as a calendar day. */
export function formatDay(isoDate) {
  if (!isoDate) return '';
  const [year, month, day] = isoDate.split('-').map(Number);
  try {
    return new Intl.DateTimeFormat(currentLanguage(), { dateStyle: 'medium' }).format(new Date(year, month - 1, day));
  } catch {
    return isoDate;
  }
}

export function formatWhen(iso) {
  return iso ? formatDateTime(new Date(iso)) : '';
}

/** A label as a chip: its name says it, the colour only marks it. */
export function labelChip(label) {
  return h(
    'span',
    { class: 'crm-chip', style: `--label-color: ${safeColor(label.color)}` },
    h('span', { class: 'crm-chip-dot', 'aria-hidden': 'true' }),
    label.name,
  );
}

/** Only "#rgb"/"#rrggbb" ever reach a style attribute. */
export function safeColor(color) {
  return /^#[0-9a-f]{3}(?:[0-9a-f]{3})?$/i.test(color || '') ? color : '#64748b';
}

/** Where a card goes in a column kept in (position, id) order: bytewise keys, ties by id. */
export function comesBefore(a, b) {
  if (a.position !== b.position) return a.position < b.position;
  return a.id < b.id;
}
