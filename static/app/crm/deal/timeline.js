// A deal's timeline: notes, stage changes, edits, tasks, linked conversations and calls, each
// with who and when, newest first, a page at a time; and the form that adds a note.

import { api } from '../../api.js';
import { errorText, h, setChildren, toast, whileBusy } from '../../components.js';
import { formatRelative, gettext, interpolate } from '../../i18n.js';
import { crmPath, formatWhen, isAbort, nextPath, resultsOf } from '../board/util.js';

/** @param {string} kind of an activity */
export function activityKindLabel(kind) {
  switch (kind) {
    case 'created':
      return gettext('Created');
    case 'note':
      return gettext('Note');
    case 'stage_change':
      return gettext('Stage change');
    case 'field_change':
      return gettext('Edit');
    case 'won':
      return gettext('Won');
    case 'lost':
      return gettext('Lost');
    case 'reopened':
      return gettext('Reopened');
    case 'task':
      return gettext('Task');
    case 'task_done':
      return gettext('Task done');
    case 'conversation':
      return gettext('Support conversation');
    case 'call':
      return gettext('Call');
    case 'merge':
      return gettext('Merge');
    case 'conversion':
      return gettext('Lead converted');
    case 'import':
      return gettext('Imported');
    case 'botconversa':
      return gettext('BotConversa');
    default:
      return kind;
  }
}

function activityText(activity) {
  const data = activity.data || {};
  if (activity.kind === 'stage_change' && data.from && data.to) {
    return interpolate(gettext('Moved from %(from)s to %(to)s'), { from: data.from.name, to: data.to.name });
  }
  if (activity.kind === 'field_change' && data.changes) {
    return interpolate(gettext('Changed: %(fields)s'), { fields: Object.keys(data.changes).join(', ') });
  }
  if (activity.task) return activity.task.title;
  if (activity.conversation) return activity.conversation.subject || gettext('Support conversation');
  return '';
}

function activityItem(activity) {
  const when = activity.created_at ? new Date(activity.created_at) : null;
  const text = activityText(activity);
  return h(
    'li',
    { class: `crm-deal-activity crm-deal-activity-${activity.kind}`, 'data-testid': 'crm-activity', dataset: { kind: activity.kind } },
    h(
      'p',
      { class: 'crm-deal-activity-head' },
      h('strong', null, activityKindLabel(activity.kind)),
      ' · ',
      h('span', null, activity.actor ? activity.actor.name : gettext('System')),
      ' · ',
      when ? h('time', { datetime: activity.created_at, title: formatWhen(activity.created_at) }, formatRelative(when)) : null,
    ),
    activity.body ? h('p', { class: 'crm-deal-activity-body' }, activity.body) : null,
    text ? h('p', { class: 'crm-deal-activity-text muted' }, text) : null,
    activity.conversation ? h('a', { href: `/inbox/${activity.conversation.id}` }, gettext('Open the conversation')) : null,
  );
}

/**
 * @param {{dealId: number, canWrite: boolean, signal: AbortSignal}} options
 * @returns {{element: HTMLElement, reload: () => Promise<void>}}
 */
export function timelineView({ dealId, canWrite, signal }) {
  const list = h('ol', { class: 'crm-deal-timeline-list', 'data-testid': 'crm-deal-timeline-list', 'aria-label': gettext('Timeline') });
  const more = h('button', { type: 'button', class: 'button', hidden: true }, gettext('Older activity'));
  let next = null;
  let items = [];

  async function readPage(path) {
    const answer = await api.get(path, { signal });
    const page = resultsOf(answer);
    next = answer && !Array.isArray(answer) ? (answer.next ? nextPath(answer.next) : answer.next_cursor ? crmPath(`/deals/${dealId}/timeline/?cursor=${encodeURIComponent(answer.next_cursor)}`) : null) : null;
    return page;
  }

  function draw() {
    setChildren(list, items.length ? items.map(activityItem) : h('li', { class: 'muted' }, gettext('Nothing yet.')));
    more.hidden = !next;
  }

  async function reload() {
    try {
      items = await readPage(crmPath(`/deals/${dealId}/timeline/`));
      draw();
    } catch (error) {
      if (!isAbort(error)) setChildren(list, h('li', { class: 'error-text' }, errorText(error)));
    }
  }

  more.addEventListener('click', async () => {
    if (!next) return;
    try {
      const page = await whileBusy(more, () => readPage(next));
      const seen = new Set(items.map((item) => item.id));
      items = items.concat(page.filter((item) => !seen.has(item.id)));
      draw();
    } catch (error) {
      if (!isAbort(error)) toast(errorText(error), { kind: 'error' });
    }
  });

  const noteInput = h('textarea', { id: `crm-note-${dealId}`, rows: '3', required: true, maxlength: '5000', 'data-testid': 'crm-note-input' });
  const noteButton = h('button', { type: 'submit', class: 'button primary', 'data-testid': 'crm-note-submit' }, gettext('Add note'));
  const noteForm = canWrite
    ? h(
        'form',
        { class: 'crm-deal-note-form stack' },
        h('div', { class: 'field' }, h('label', { for: noteInput.id }, gettext('New note')), noteInput),
        h('div', null, noteButton),
      )
    : null;
  if (noteForm) {
    noteForm.addEventListener('submit', async (event) => {
      event.preventDefault();
      const body = noteInput.value.trim();
      if (!body) return;
      try {
        await whileBusy(noteButton, () => api.post(crmPath(`/deals/${dealId}/notes/`), { body }));
        noteInput.value = '';
        toast(gettext('Note added.'), { kind: 'success' });
        await reload();
      } catch (error) {
        toast(errorText(error), { kind: 'error' });
      }
    });
  }

  const element = h(
    'section',
    { class: 'card crm-deal-timeline', 'aria-labelledby': 'crm-timeline-title' },
    h('h2', { id: 'crm-timeline-title' }, gettext('Timeline')),
    noteForm,
    list,
    more,
  );
  return { element, reload };
}
