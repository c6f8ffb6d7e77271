// Small helpers shared by the support inbox screens: the words for statuses, priorities and
// routing strategies, the SLA chip and its countdown, waiting times, and the API paths.

import { h } from '../components.js';
import { gettext, interpolate } from '../i18n.js';

/** The staff inbox API of one organization, e.g. inboxPath(5, 'conversations/') */
export function inboxPath(organizationId, rest = '') {
  return `/inbox/${organizationId}/${rest}`;
}

/** A list answer may be a plain array or a page ({results, next}). */
export function resultsOf(answer) {
  if (Array.isArray(answer)) return answer;
  return (answer && answer.results) || [];
}

export const STATUSES = ['open', 'pending', 'snoozed', 'resolved'];
export const UNRESOLVED = new Set(['open', 'pending', 'snoozed']);

/** @param {string} status */
export function statusLabel(status) {
  switch (status) {
    case 'open':
      // Not "Open": the catalog's "Open" is the verb (a button), "Abrir" in Portuguese.
      return gettext('Ongoing');
    case 'pending':
      return gettext('Pending');
    case 'snoozed':
      return gettext('Snoozed');
    case 'resolved':
      return gettext('Resolved');
    default:
      return status;
  }
}

export const PRIORITIES = [0, 1, 2, 3];

/** @param {number} priority */
export function priorityLabel(priority) {
  switch (priority) {
    case 0:
      return gettext('Low');
    case 1:
      return gettext('Normal');
    case 2:
      return gettext('High');
    case 3:
      return gettext('Urgent');
    default:
      return String(priority);
  }
}

export const STRATEGIES = ['round_robin', 'load_balance', 'manual', 'skills_based'];

/** @param {string} strategy */
export function strategyLabel(strategy) {
  switch (strategy) {
    case 'round_robin':
      return gettext('Round robin');
    case 'load_balance':
      return gettext('Load balance');
    case 'manual':
      return gettext('Manual (agents pull)');
    case 'skills_based':
      return gettext('Skills based');
    default:
      return strategy;
  }
}

export const AVAILABILITIES = ['online', 'busy', 'offline'];

/** @param {string} availability */
export function availabilityLabel(availability) {
  switch (availability) {
    case 'online':
      return gettext('Online');
    case 'busy':
      return gettext('Busy');
    case 'offline':
      return gettext('Offline');
    default:
      return availability;
  }
}

/** The days of weekly_hours, Monday = 0 as the server counts them. */
export function weekdayLabel(day) {
  return [
    gettext('Monday'),
    gettext('Tuesday'),
    gettext('Wednesday'),
    gettext('Thursday'),
    gettext('Friday'),
    gettext('Saturday'),
    gettext('Sunday'),
  ][day];
}

/** "1:05:09" or "4:07": a duration in seconds, as a clock. @param {number} seconds */
export function clock(seconds) {
  const total = Math.max(0, Math.floor(Math.abs(seconds)));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const rest = String(total % 60).padStart(2, '0');
  return hours ? `${hours}:${String(minutes).padStart(2, '0')}:${rest}` : `${minutes}:${rest}`;
}

/** Warn this long before a target is missed (the queue's own margin is not in the payload). */
const WARNING_SECONDS = 10 * 60;

/**
 * The SLA timer that matters now: the first response while it runs, else the resolution.
 * @param {object} conversation @returns {{timer: string, due: Date}|null}
 */
export function activeTimer(conversation) {
  const sla = conversation.sla || {};
  for (const timer of ['first_response', 'resolution']) {
    const state = sla[timer];
    if (state && (state.status === 'active' || state.status === 'breached') && state.due_at && !state.at) {
      return { timer, due: new Date(state.due_at), breached: state.status === 'breached' };
    }
  }
  return null;
}

/**
 * A chip counting down to the SLA due time; tickClocks() keeps it current. Red once the
 * target is missed, amber in the last minutes before.
 * @param {object} conversation
 */
export function slaChip(conversation) {
  const active = activeTimer(conversation);
  if (!active || conversation.status === 'resolved') return null;
  const chip = h('span', {
    class: 'sla-chip',
    'data-testid': 'sla-chip',
    dataset: { due: active.due.toISOString(), timer: active.timer, breached: active.breached ? 'true' : 'false' },
  });
  drawSlaChip(chip);
  return chip;
}

function drawSlaChip(chip) {
  const left = (new Date(chip.dataset.due).getTime() - Date.now()) / 1000;
  const first = chip.dataset.timer === 'first_response';
  const breached = chip.dataset.breached === 'true' || left <= 0;
  chip.dataset.state = breached ? 'breached' : left <= WARNING_SECONDS ? 'warning' : 'ok';
  if (breached) {
    chip.textContent = interpolate(first ? gettext('Reply overdue %(time)s') : gettext('Resolution overdue %(time)s'), {
      time: clock(left),
    });
  } else {
    chip.textContent = interpolate(first ? gettext('Reply in %(time)s') : gettext('Resolve in %(time)s'), {
      time: clock(left),
    });
  }
}

/** "Waiting 4:07", ticking with tickClocks(). @param {string} since ISO time */
export function waitingChip(since) {
  const chip = h('span', { class: 'waiting-chip', dataset: { since } });
  drawWaitingChip(chip);
  return chip;
}

function drawWaitingChip(chip) {
  const seconds = (Date.now() - new Date(chip.dataset.since).getTime()) / 1000;
  chip.textContent = interpolate(gettext('Waiting %(time)s'), { time: clock(seconds) });
}

/** Redraw every countdown and waiting time under `root` (called once a second). */
export function tickClocks(root) {
  root.querySelectorAll('.sla-chip[data-due]').forEach(drawSlaChip);
  root.querySelectorAll('.waiting-chip[data-since]').forEach(drawWaitingChip);
}

/** A person's name from the shapes the API uses ({name} or {display_name, email}). */
export function personName(person) {
  if (!person) return '';
  return person.name || person.display_name || person.email || '';
}

/** Whether an error is the abort of a request whose screen was left. */
export function isAbort(error) {
  return error && error.name === 'AbortError';
}

/** A datetime-local input's value for a Date, in the browser's zone. @param {Date} date */
export function localInputValue(date) {
  const pad = (value) => String(value).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}
