// The inbox supervisor's view (/inbox/supervisor, org admins): each queue's load (waiting,
// open, the oldest wait, SLA breaches) and each agent's state (availability, connected,
// conversations against capacity). It follows `queueing.supervisor.<org>`, whose events carry
// the whole snapshot, and reads it again through REST after a reconnect.

import { api } from '../api.js';
import { activeMembership, getUser } from '../auth.js';
import { errorText, h, loading, setChildren } from '../components.js';
import { gettext } from '../i18n.js';
import { socket } from '../socket.js';
import { availabilityLabel, inboxPath, isAbort, waitingChip, tickClocks } from '../inbox/util.js';

export function render(context) {
  const { main, setTitle, signal, onCleanup, onResync } = context;
  const membership = activeMembership(getUser());
  setTitle(gettext('Supervisor'));
  const heading = h('h1', null, gettext('Supervisor'));
  main.append(heading, h('p', null, h('a', { href: '/inbox' }, gettext('Back to the inbox'))));
  if (!membership || membership.role !== 'org_admin') {
    main.append(h('p', { class: 'card' }, gettext('Only organization admins supervise the inbox.')));
    return;
  }
  const organizationId = membership.organization.id;
  const body = h('div', { class: 'supervisor', 'data-testid': 'supervisor', dataset: { live: 'false' } }, loading());
  main.append(body);

  function draw(snapshot) {
    const queues = snapshot.queues || [];
    const agents = snapshot.agents || [];
    setChildren(
      body,
      h('h2', { id: 'supervisor-queues' }, gettext('Queues')),
      h(
        'div',
        { class: 'table-scroll' },
        h(
          'table',
          { class: 'data-table', 'aria-labelledby': 'supervisor-queues', 'data-testid': 'supervisor-queues' },
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              h('th', { scope: 'col' }, gettext('Queue')),
              h('th', { scope: 'col' }, gettext('Department')),
              h('th', { scope: 'col', class: 'number' }, gettext('Waiting')),
              h('th', { scope: 'col', class: 'number' }, gettext('Unresolved')),
              h('th', { scope: 'col' }, gettext('Longest wait')),
              h('th', { scope: 'col', class: 'number' }, gettext('SLA breached')),
            ),
          ),
          h(
            'tbody',
            null,
            queues.map((queue) =>
              h(
                'tr',
                { dataset: { queueId: String(queue.id) } },
                h('th', { scope: 'row' }, queue.name),
                h('td', null, typeof queue.department === 'object' && queue.department ? queue.department.name : queue.department || ''),
                h('td', { class: 'number' }, String(queue.waiting)),
                h('td', { class: 'number' }, String(queue.open)),
                h('td', null, queue.oldest_waiting_since ? waitingChip(queue.oldest_waiting_since) : '—'),
                h('td', { class: queue.breached ? 'number sla-breached' : 'number' }, String(queue.breached || 0)),
              ),
            ),
          ),
        ),
      ),
      h('h2', { id: 'supervisor-agents' }, gettext('Agents')),
      h(
        'div',
        { class: 'table-scroll' },
        h(
          'table',
          { class: 'data-table', 'aria-labelledby': 'supervisor-agents', 'data-testid': 'supervisor-agents' },
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              h('th', { scope: 'col' }, gettext('Agent')),
              h('th', { scope: 'col' }, gettext('Availability')),
              h('th', { scope: 'col' }, gettext('Connected')),
              h('th', { scope: 'col', class: 'number' }, gettext('Conversations')),
            ),
          ),
          h(
            'tbody',
            null,
            agents.map((agent) =>
              h(
                'tr',
                { dataset: { userId: String(agent.user_id) } },
                h('th', { scope: 'row' }, agent.name),
                h('td', null, h('span', { class: `availability availability-${agent.availability}` }, availabilityLabel(agent.availability))),
                h('td', null, agent.connected ? gettext('Yes') : gettext('No')),
                h('td', { class: 'number' }, `${agent.open_count}/${agent.capacity}`),
              ),
            ),
          ),
        ),
      ),
    );
  }

  const load = async () => {
    try {
      draw(await api.get(inboxPath(organizationId, 'supervisor/'), { signal }));
    } catch (error) {
      if (!isAbort(error)) setChildren(body, h('p', { class: 'error-text', role: 'alert' }, errorText(error)));
    }
  };

  const topic = `queueing.supervisor.${organizationId}`;
  const release = socket.subscribe(topic);
  const stops = [
    socket.on('inbox.supervisor.updated', (data) => {
      if (data && (!data.organization_id || data.organization_id === organizationId)) draw(data);
    }),
    socket.on('realtime.subscribed', (data) => {
      if (data.topic === topic) body.dataset.live = 'true';
    }),
    socket.onStatus((status) => {
      if (status !== 'connected') body.dataset.live = 'false';
    }),
  ];
  const ticker = setInterval(() => tickClocks(body), 1000);
  onCleanup(() => {
    clearInterval(ticker);
    stops.forEach((stop) => stop());
    release();
  });
  onResync(load);
  load();
}
