// /calls: the person's calls. Who, when, how long, what it cost (or earned), the rating, the
// receipt in a dialog, and for clients a way to dispute a charge (the wallet's disputes).
// Professionals switch between the calls they took and the ones they made.

import { api } from '../api.js';
import { getUser } from '../auth.js';
import { errorText, h, loading } from '../components.js';
import { formatDateTime, gettext } from '../i18n.js';
import { apiPathOf, formatTokens } from '../money.js';
import { socket } from '../socket.js';
import { callStatusLabel, formatSeconds, isProfessional, LIVE_STATUSES, openCallReceipt, starsText } from '../calls/common.js';

export function render({ main, query, setTitle, signal, onCleanup, onResync }) {
  setTitle(gettext('Your calls'));
  const me = getUser();
  let as = query.get('as') || (isProfessional(me) ? 'professional' : 'client');
  if (as !== 'client' && as !== 'professional') as = 'client';
  let next = null;

  const tabs = isProfessional(me)
    ? h(
        'div',
        { class: 'actions', role: 'group', 'aria-label': gettext('Which calls') },
        [
          ['professional', gettext('Calls I took')],
          ['client', gettext('Calls I made')],
        ].map(([value, label]) => {
          const button = h('button', { type: 'button', class: 'button', 'aria-pressed': String(value === as), dataset: { as: value } }, label);
          button.addEventListener('click', () => {
            as = value;
            tabs.querySelectorAll('button').forEach((other) => other.setAttribute('aria-pressed', String(other.dataset.as === as)));
            history.replaceState(null, '', `/calls?as=${as}`);
            load();
          });
          return button;
        }),
      )
    : null;
  const body = h('div', null, loading());
  const more = h('button', { type: 'button', class: 'button', hidden: true }, gettext('Load more'));
  main.append(h('h1', null, gettext('Your calls')), tabs, body, h('div', { class: 'pagination' }, more));

  const tbody = h('tbody');
  const table = () =>
    h(
      'div',
      { class: 'table-scroll' },
      h(
        'table',
        { class: 'data-table call-history', 'data-testid': 'call-history' },
        h(
          'thead',
          null,
          h(
            'tr',
            null,
            h('th', { scope: 'col' }, as === 'client' ? gettext('Professional') : gettext('Client')),
            h('th', { scope: 'col' }, gettext('When')),
            h('th', { scope: 'col' }, gettext('Status')),
            h('th', { scope: 'col', class: 'number' }, gettext('Duration')),
            h('th', { scope: 'col', class: 'number' }, as === 'client' ? gettext('Charged') : gettext('Earned')),
            h('th', { scope: 'col' }, gettext('Rating')),
            h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, gettext('Actions'))),
          ),
        ),
        tbody,
      ),
    );

  const row = (item) => {
    const amount = as === 'client' ? item.charged : item.earned;
    return h(
      'tr',
      { dataset: { callId: String(item.id) } },
      h('th', { scope: 'row' }, item.other ? item.other.display_name : '—'),
      h('td', null, formatDateTime(new Date(item.requested_at))),
      h('td', null, LIVE_STATUSES.has(item.status) ? h('a', { href: `/calls/${item.id}` }, callStatusLabel(item.status)) : callStatusLabel(item.status)),
      h('td', { class: 'number' }, formatSeconds(item.duration_seconds)),
      h('td', { class: 'number' }, formatTokens(amount || 0)),
      h('td', null, item.rating ? starsText(item.rating.stars) : '—'),
      h(
        'td',
        { class: 'row-actions' },
        amount
          ? h(
              'button',
              { type: 'button', class: 'link-button', onclick: (event) => openCallReceipt(item.id, { opener: event.currentTarget }) },
              gettext('Receipt'),
            )
          : null,
        as === 'client' && item.dispute_reference
          ? h('a', { href: `/wallet?dispute=${encodeURIComponent(item.dispute_reference)}#disputes-title` }, gettext('Dispute the charge'))
          : null,
      ),
    );
  };

  const load = async () => {
    try {
      const page = await api.get(`/calls/history/?as=${as}`, { signal });
      const results = page.results || [];
      next = page.next || null;
      more.hidden = !next;
      tbody.replaceChildren(...results.map(row));
      body.replaceChildren(results.length ? table() : h('p', { class: 'muted' }, gettext('No calls yet.')));
    } catch (error) {
      if (error.name === 'AbortError') return;
      body.replaceChildren(h('p', { class: 'error-text', role: 'alert' }, errorText(error)));
    }
  };
  more.addEventListener('click', async () => {
    if (!next) return;
    more.disabled = true;
    try {
      const page = await api.get(apiPathOf(next), { signal });
      next = page.next || null;
      tbody.append(...(page.results || []).map(row));
      more.hidden = !next;
    } catch (error) {
      if (error.name !== 'AbortError') body.append(h('p', { class: 'error-text', role: 'alert' }, errorText(error)));
    } finally {
      more.disabled = false;
    }
  });

  const stop = socket.on('calls.call.updated', (call) => {
    if (!LIVE_STATUSES.has(call.status)) load();
  });
  onCleanup(stop);
  onResync(load);
  load();
}
