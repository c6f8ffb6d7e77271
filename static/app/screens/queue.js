// /queue: the client's places in professionals' queues, with the live position and estimated
// wait (`queueing.entry.updated`), a way to leave, and to take a turn that is offered. Read
// again after a reconnect (DESIGN §5).

import { api } from '../api.js';
import { confirmDialog, errorText, h, loading, toast, whileBusy } from '../components.js';
import { formatDateTime, gettext, interpolate } from '../i18n.js';
import { formatTokens, serialized, statusBadge } from '../money.js';
import { socket } from '../socket.js';
import { formatSeconds, personPicture } from '../calls/common.js';

function entryStatus(status) {
  const labels = {
    waiting: [gettext('Waiting'), null],
    offered: [gettext('Your turn'), 'success'],
    accepted: [gettext('Call started'), 'success'],
    left: [gettext('Left the queue'), null],
    expired: [gettext('Turn not taken'), 'warning'],
    cancelled: [gettext('Queue closed'), 'warning'],
  };
  const [text, tone] = labels[status] || [status, null];
  return statusBadge(text, tone);
}

export function render({ main, setTitle, signal, onCleanup, onResync, navigate }) {
  setTitle(gettext('My queues'));
  const body = h('div', null, loading());
  main.append(
    h('h1', null, gettext('My queues')),
    h('p', { class: 'muted' }, gettext('When it is your turn you have a short time to start the call. Keep this app open so you do not miss it.')),
    body,
  );

  const row = (entry) =>
    h(
      'li',
      { class: 'queue-entry card', dataset: { entryId: String(entry.id) }, 'data-testid': 'queue-entry' },
      personPicture(entry.professional.display_name, entry.professional.avatar_url),
      h(
        'div',
        { class: 'item-main' },
        h('h2', null, h('a', { href: `/professionals/${entry.professional.id}` }, entry.professional.display_name)),
        h('p', null, entryStatus(entry.status)),
        entry.position
          ? h('p', { 'data-testid': 'queue-position' }, interpolate(gettext('Position %(position)s'), { position: entry.position }))
          : null,
        entry.estimated_wait_seconds !== null && entry.estimated_wait_seconds !== undefined && entry.status === 'waiting'
          ? h('p', { class: 'muted' }, interpolate(gettext('Estimated wait: %(time)s'), { time: formatSeconds(entry.estimated_wait_seconds) }))
          : null,
        h(
          'p',
          { class: 'muted' },
          interpolate(gettext('Fee held: %(fee)s. Joined %(when)s.'), {
            fee: formatTokens(entry.fee),
            when: formatDateTime(new Date(entry.joined_at)),
          }),
        ),
      ),
      h('div', { class: 'actions' }, actionsFor(entry)),
    );

  const actionsFor = (entry) => {
    const buttons = [];
    if (entry.status === 'offered') {
      buttons.push(
        h('button', { type: 'button', class: 'button primary', onclick: (event) => accept(entry, event.currentTarget) }, gettext('Start the call')),
      );
    }
    if (entry.status === 'waiting' || entry.status === 'offered') {
      buttons.push(
        h(
          'button',
          {
            type: 'button',
            class: 'button',
            'aria-label': interpolate(gettext('Leave the queue of %(name)s'), { name: entry.professional.display_name }),
            onclick: (event) => leave(entry, event.currentTarget),
          },
          gettext('Leave the queue'),
        ),
      );
    }
    return buttons;
  };

  async function accept(entry, button) {
    try {
      const answer = await whileBusy(button, () => api.post(`/queue/entries/${entry.id}/accept/`, {}, { signal }));
      if (answer && answer.call) navigate(`/calls/${answer.call.id}`);
    } catch (error) {
      if (error.name === 'AbortError') return;
      toast(errorText(error), { kind: 'error' });
      load();
    }
  }

  async function leave(entry, button) {
    const confirmed = await confirmDialog({
      title: gettext('Leave the queue?'),
      message: gettext('You lose your place. The held fee is given back.'),
      confirmLabel: gettext('Leave the queue'),
      danger: true,
    });
    if (!confirmed) return;
    try {
      await whileBusy(button, () => api.post(`/queue/entries/${entry.id}/leave/`, {}, { signal }));
      toast(gettext('You left the queue.'), { kind: 'success' });
    } catch (error) {
      if (error.name !== 'AbortError') toast(errorText(error), { kind: 'error' });
    }
    load();
  }

  const load = serialized(async () => {
    try {
      const answer = await api.get('/queue/mine/', { signal });
      const entries = Array.isArray(answer) ? answer : answer.results || [];
      body.replaceChildren(
        entries.length
          ? h('ul', { class: 'queue-list' }, entries.map(row))
          : h('p', { class: 'muted' }, gettext('You are not in any queue.'), ' ', h('a', { href: '/professionals' }, gettext('Find a professional'))),
      );
    } catch (error) {
      if (error.name === 'AbortError') return;
      body.replaceChildren(h('p', { class: 'error-text', role: 'alert' }, errorText(error)));
    }
  });

  const stop = socket.on('queueing.entry.updated', () => load());
  onCleanup(stop);
  onResync(load);
  load();
}
