// Search: the messages I may read in the organization, filtered by room, author and dates.
// The headline is the server's: escaped text with the matches in <mark>, so it is the one
// value here inserted as HTML.

import { api } from '../api.js';
import { errorText, h } from '../components.js';
import { gettext, interpolate, ngettext } from '../i18n.js';
import { icon } from './icons.js';
import { fullDateTime, isAbort, roomName, roomTitle } from './util.js';

let counter = 0;

/**
 * @param {{store: import('./store.js').ChatStore, organizationId: number, signal: AbortSignal,
 *          roomId: number|null, onOpen: (result: object) => void, onClose: () => void}} options
 */
export function searchPanel({ store, organizationId, signal, roomId, onOpen, onClose }) {
  const id = ++counter;
  let page = 1;
  const input = h('input', { type: 'search', id: `search-q-${id}`, autocomplete: 'off', required: true, minlength: '2' });
  const room = h(
    'select',
    { id: `search-room-${id}`, class: 'compact' },
    h('option', { value: '' }, gettext('All rooms')),
    [...store.rooms.values()]
      .sort((a, b) => roomName(a).localeCompare(roomName(b)))
      .map((item) => h('option', { value: String(item.id) }, roomName(item))),
  );
  if (roomId) room.value = String(roomId);
  const author = h('select', { id: `search-author-${id}`, class: 'compact' }, h('option', { value: '' }, gettext('Anyone')));
  const since = h('input', { type: 'date', id: `search-since-${id}` });
  const until = h('input', { type: 'date', id: `search-until-${id}` });
  const status = h('p', { class: 'muted', role: 'status' });
  const results = h('ol', { class: 'search-results plain-list', 'aria-label': gettext('Search results') });
  const more = h('button', { type: 'button', class: 'button', hidden: true }, gettext('Load more'));
  const heading = h('h2', { id: `search-title-${id}`, tabindex: '-1' }, gettext('Search messages'));
  const close = h(
    'button',
    { type: 'button', class: 'toolbar-button', 'aria-label': gettext('Close search'), title: gettext('Close search') },
    icon('close'),
  );
  const form = h(
    'form',
    { class: 'search-form', role: 'search', novalidate: true },
    h('div', { class: 'field' }, h('label', { for: input.id }, gettext('Words to find')), input),
    h(
      'details',
      { class: 'search-filters' },
      h('summary', null, gettext('Filters')),
      h('div', { class: 'field' }, h('label', { for: room.id }, gettext('Room')), room),
      h('div', { class: 'field' }, h('label', { for: author.id }, gettext('Author')), author),
      h(
        'div',
        { class: 'search-dates' },
        h('div', { class: 'field' }, h('label', { for: since.id }, gettext('From')), since),
        h('div', { class: 'field' }, h('label', { for: until.id }, gettext('Until')), until),
      ),
    ),
    h('button', { type: 'submit', class: 'button primary' }, gettext('Search')),
  );
  const element = h(
    'aside',
    { class: 'chat-search', 'aria-labelledby': heading.id, 'data-testid': 'search-panel' },
    h('div', { class: 'pane-header' }, heading, close),
    h('div', { class: 'search-body' }, form, status, results, h('div', { class: 'pagination' }, more)),
  );
  close.addEventListener('click', onClose);
  element.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && !event.defaultPrevented) onClose();
  });

  // The authors: the organization's people (first page is plenty for a filter).
  api
    .get(`/organizations/${organizationId}/chat/people/?page_size=200`, { signal })
    .then((answer) => {
      const people = (Array.isArray(answer) ? answer : answer.results || []).sort((a, b) => a.name.localeCompare(b.name));
      author.append(...people.map((person) => h('option', { value: String(person.id) }, person.name)));
    })
    .catch(() => {});

  const result = (item) => {
    const headline = h('p', { class: 'search-headline' });
    // Safe: the server escaped the text before marking the matches (chat/search.py).
    headline.innerHTML = item.headline;
    // A direct conversation has no name of its own: the store knows who is in it.
    const known = store.rooms.get(item.room.id);
    const channel = item.room.kind === 'channel' || item.room.kind === 'private';
    const where = known ? roomTitle(known) : channel ? `#${item.room.name}` : item.room.name || gettext('Direct message');
    return h(
      'li',
      { class: 'search-result' },
      h(
        'button',
        { type: 'button', class: 'search-open', onclick: () => onOpen(item) },
        h(
          'span',
          { class: 'search-meta' },
          h('strong', null, item.message.author ? item.message.author.name : gettext('Someone')),
          h('span', { class: 'muted' }, ` · ${where} · `),
          h('time', { datetime: item.message.created_at, class: 'muted' }, fullDateTime(item.message.created_at)),
          item.message.parent_id ? h('span', { class: 'badge subtle' }, gettext('in a thread')) : null,
        ),
        headline,
      ),
    );
  };

  const run = async ({ append = false } = {}) => {
    const q = input.value.trim();
    if (q.length < 2) {
      status.textContent = gettext('Type at least two letters.');
      input.focus();
      return;
    }
    page = append ? page + 1 : 1;
    const params = new URLSearchParams({ q, page: String(page) });
    if (room.value) params.set('room', room.value);
    if (author.value) params.set('author', author.value);
    if (since.value) params.set('since', since.value);
    if (until.value) params.set('until', until.value);
    status.textContent = gettext('Searching…');
    try {
      const answer = await api.get(`/organizations/${organizationId}/chat/search/?${params}`, { signal });
      const rows = (answer.results || []).map(result);
      if (append) results.append(...rows);
      else results.replaceChildren(...rows);
      more.hidden = !answer.next;
      status.textContent = answer.count
        ? interpolate(ngettext('%(count)s message found.', '%(count)s messages found.', answer.count), { count: answer.count })
        : gettext('No messages found.');
    } catch (error) {
      if (isAbort(error)) return;
      status.textContent = errorText(error);
    }
  };
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    run();
  });
  more.addEventListener('click', () => run({ append: true }));

  return {
    element,
    focus: () => input.focus(),
    destroy() {},
  };
}
