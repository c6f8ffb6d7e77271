// The support inbox (/inbox and /inbox/<conversation id>): on the left my availability, "Pull
// next", the views (mine, unassigned, all) and the filters by queue, department and status
// with their counts; in the middle the conversations with their SLA countdowns; on the right
// the open conversation (inbox/conversation.js).
//
// The unresolved conversations this person can see are kept in the store and followed live
// on `queueing.inbox.<org>`, so the counts and the list move without reloading; resolved
// ones and searches come from the server. Opening another conversation keeps the screen
// (router onAddressChange).

import { activeMembership, getUser, onUserChange } from '../auth.js';
import { errorText, h, setChildren, toast, whileBusy } from '../components.js';
import { gettext, interpolate } from '../i18n.js';
import { playSound } from '../chat/notifications.js';
import { debounce } from '../chat/util.js';
import { conversationView } from '../inbox/conversation.js';
import { InboxStore } from '../inbox/store.js';
import {
  AVAILABILITIES,
  availabilityLabel,
  isAbort,
  priorityLabel,
  slaChip,
  STATUSES,
  statusLabel,
  tickClocks,
  UNRESOLVED,
  waitingChip,
} from '../inbox/util.js';

export function render(context) {
  const { main, params, setTitle, signal, onCleanup, onResync, onAddressChange, navigate } = context;
  const user = getUser();
  const membership = activeMembership(user);
  setTitle(gettext('Inbox'));
  if (!membership) {
    main.append(
      h('h1', null, gettext('Inbox')),
      h('p', { class: 'card' }, gettext('The support inbox belongs to an organization: join one to answer its customers.')),
    );
    return;
  }
  const organizationId = membership.organization.id;
  const role = membership.role;
  const isAdmin = role === 'org_admin';
  const me = { id: user.id, name: user.display_name || user.email };
  const store = new InboxStore({ organizationId, me, signal });
  const filters = { view: role === 'agent' ? 'mine' : 'all', queue: null, department: null, status: null, q: '' };

  // --- layout ----------------------------------------------------------------------------

  main.classList.add('chat-main');
  const siteHeader = document.querySelector('.site-header');
  const fit = () => main.style.setProperty('--chat-top', `${siteHeader ? siteHeader.getBoundingClientRect().height : 0}px`);
  const resize = new ResizeObserver(fit);
  if (siteHeader) resize.observe(siteHeader);
  fit();
  onCleanup(() => {
    resize.disconnect();
    main.classList.remove('chat-main');
    main.style.removeProperty('--chat-top');
  });

  const availability = h(
    'select',
    { id: 'inbox-availability', class: 'compact', 'data-testid': 'availability', disabled: true },
    AVAILABILITIES.map((value) => h('option', { value }, availabilityLabel(value))),
  );
  const pullButton = h('button', { type: 'button', class: 'button primary', 'data-testid': 'pull-next' }, gettext('Pull next'));
  const filtersNav = h('nav', { class: 'inbox-filters', 'aria-label': gettext('Conversation views') });
  const adminLinks = isAdmin
    ? h(
        'p',
        { class: 'inbox-admin-links' },
        h('a', { href: '/inbox/supervisor' }, gettext('Supervisor')),
        ' · ',
        h('a', { href: '/inbox/settings' }, gettext('Inbox settings')),
      )
    : null;
  const sidebar = h(
    'aside',
    { class: 'chat-sidebar inbox-sidebar', 'aria-labelledby': 'inbox-title' },
    h('div', { class: 'sidebar-header' }, h('h1', { id: 'inbox-title' }, gettext('Inbox'))),
    role === 'viewer'
      ? h('p', { class: 'muted' }, gettext('Viewers read conversations without taking part.'))
      : [h('div', { class: 'field' }, h('label', { for: availability.id }, gettext('My availability')), availability), pullButton],
    filtersNav,
    adminLinks,
  );
  const search = h('input', { type: 'search', id: 'inbox-search', placeholder: gettext('Search name, e-mail or message'), 'data-testid': 'inbox-search' });
  const listHeading = h('h2', { id: 'inbox-list-title', class: 'visually-hidden' }, gettext('Conversations'));
  const list = h('ul', { class: 'inbox-list', 'aria-labelledby': listHeading.id, 'data-testid': 'inbox-list' });
  const listPane = h(
    'section',
    { class: 'inbox-list-pane', 'aria-labelledby': listHeading.id },
    listHeading,
    h('label', { for: search.id, class: 'visually-hidden' }, gettext('Search conversations')),
    search,
    list,
  );
  const conversationSlot = h('div', { class: 'inbox-conversation-slot' });
  const workspace = h('div', { class: 'inbox', dataset: { pane: 'list', live: 'false' }, 'data-testid': 'inbox' }, sidebar, listPane, conversationSlot);
  main.append(workspace);

  // --- filters and list --------------------------------------------------------------------

  const unresolved = () => [...store.conversations.values()].filter((item) => UNRESOLVED.has(item.status) && !item.merged_into_id);
  const inView = (item, view) =>
    view === 'mine'
      ? item.assignee && item.assignee.id === me.id
      : view === 'unassigned'
        ? !item.assignee && item.status === 'open'
        : true;

  function filterButton(text, count, pressed, onclick, testid) {
    return h(
      'li',
      null,
      h(
        'button',
        { type: 'button', class: 'filter-button', 'aria-pressed': String(pressed), onclick, 'data-testid': testid },
        h('span', { class: 'filter-label' }, text),
        count === null ? null : h('span', { class: 'filter-count', 'data-testid': `${testid}-count` }, String(count)),
      ),
    );
  }

  function drawFilters() {
    const items = unresolved();
    const viewItems = items.filter((item) => inView(item, filters.view));
    const group = (key) => {
      const found = new Map();
      for (const item of viewItems) {
        const value = item[key];
        if (!value) continue;
        const entry = found.get(value.id) || { id: value.id, name: value.name, count: 0 };
        entry.count += 1;
        found.set(value.id, entry);
      }
      return [...found.values()].sort((a, b) => a.name.localeCompare(b.name));
    };
    const choose = (changes) => () => {
      Object.assign(filters, changes);
      drawFilters();
      drawList();
    };
    const views = [
      ['mine', gettext('Mine')],
      ['unassigned', gettext('Unassigned')],
      ['all', gettext('All')],
    ];
    const queues = group('queue');
    const departments = group('department');
    setChildren(
      filtersNav,
      h(
        'ul',
        { class: 'filter-group' },
        views.map(([view, text]) =>
          filterButton(text, items.filter((item) => inView(item, view)).length, filters.view === view, choose({ view }), `view-${view}`),
        ),
      ),
      queues.length ? h('h2', { class: 'filter-heading' }, gettext('Queues')) : null,
      h(
        'ul',
        { class: 'filter-group' },
        queues.map((queue) =>
          filterButton(queue.name, queue.count, filters.queue === queue.id, choose({ queue: filters.queue === queue.id ? null : queue.id }), `queue-${queue.id}`),
        ),
      ),
      departments.length ? h('h2', { class: 'filter-heading' }, gettext('Departments')) : null,
      h(
        'ul',
        { class: 'filter-group' },
        departments.map((department) =>
          filterButton(
            department.name,
            department.count,
            filters.department === department.id,
            choose({ department: filters.department === department.id ? null : department.id }),
            `department-${department.id}`,
          ),
        ),
      ),
      h('h2', { class: 'filter-heading' }, gettext('Status')),
      h(
        'ul',
        { class: 'filter-group' },
        STATUSES.map((status) =>
          filterButton(
            statusLabel(status),
            status === 'resolved' ? null : viewItems.filter((item) => item.status === status).length,
            filters.status === status,
            choose({ status: filters.status === status ? null : status }),
            `status-${status}`,
          ),
        ),
      ),
    );
  }

  let searchTicket = 0;

  async function drawList() {
    let items;
    if (filters.status === 'resolved' || filters.q) {
      const ticket = ++searchTicket;
      try {
        items = await store.search({ status: filters.status, q: filters.q });
      } catch (error) {
        if (!isAbort(error)) setChildren(list, h('li', { class: 'error-text' }, errorText(error)));
        return;
      }
      if (ticket !== searchTicket) return;
      items = items.filter((item) => inView(item, filters.view));
    } else {
      items = unresolved().filter((item) => inView(item, filters.view));
      if (filters.status) items = items.filter((item) => item.status === filters.status);
    }
    if (filters.queue) items = items.filter((item) => item.queue && item.queue.id === filters.queue);
    if (filters.department) items = items.filter((item) => item.department && item.department.id === filters.department);
    items.sort(
      (a, b) =>
        (b.priority || 0) - (a.priority || 0) ||
        new Date(b.last_message_at || b.created_at).getTime() - new Date(a.last_message_at || a.created_at).getTime(),
    );
    setChildren(
      list,
      ...(items.length
        ? items.map(listItem)
        : [h('li', { class: 'muted inbox-empty' }, store.loaded ? gettext('No conversations here.') : gettext('Loading…'))]),
    );
  }

  function listItem(item) {
    const current = item.id === openId;
    return h(
      'li',
      { class: 'inbox-item', dataset: { conversationId: String(item.id), status: item.status }, 'data-testid': 'inbox-item' },
      h(
        'a',
        { href: `/inbox/${item.id}`, class: 'inbox-link', 'aria-current': current ? 'page' : null },
        h(
          'span',
          { class: 'inbox-item-top' },
          h('span', { class: 'inbox-contact-name' }, item.contact.name || item.contact.email || gettext('Visitor')),
          item.priority !== 1 ? h('span', { class: `badge priority-${item.priority}` }, priorityLabel(item.priority)) : null,
          item.status !== 'open' ? h('span', { class: 'badge subtle' }, statusLabel(item.status)) : null,
        ),
        h('span', { class: 'inbox-preview muted' }, item.last_message_preview || item.subject || ''),
        h(
          'span',
          { class: 'inbox-item-meta' },
          h('span', { class: 'muted' }, item.queue ? item.queue.name : ''),
          item.assignee ? h('span', { class: 'muted' }, ` · ${item.assignee.name}`) : null,
          item.waiting_since ? waitingChip(item.waiting_since) : null,
          slaChip(item),
        ),
        (item.labels || []).length ? h('span', { class: 'tag-list' }, item.labels.map((label) => h('span', { class: 'tag' }, label))) : null,
      ),
    );
  }

  search.addEventListener(
    'input',
    debounce(() => {
      filters.q = search.value.trim();
      drawList();
    }, 300),
  );

  // --- the open conversation -----------------------------------------------------------------

  let openId = null;
  let view = null;

  function openConversation(conversationId) {
    if (conversationId === openId && view) return;
    if (view) view.destroy();
    view = null;
    openId = conversationId;
    workspace.dataset.pane = conversationId ? 'conversation' : 'list';
    store.follow(conversationId);
    if (!conversationId) {
      setTitle(gettext('Inbox'));
      setChildren(
        conversationSlot,
        h(
          'section',
          { class: 'inbox-conversation inbox-welcome' },
          h('h2', null, gettext('No conversation open')),
          h('p', { class: 'muted' }, gettext('Choose a conversation, or pull the next one waiting.')),
        ),
      );
    } else {
      view = conversationView({ store, conversationId, role, signal });
      setChildren(conversationSlot, view.element);
    }
    drawList();
  }

  // --- availability and pulling -----------------------------------------------------------

  function drawAvailability() {
    if (!store.agentMe) return;
    availability.value = store.agentMe.availability;
    availability.disabled = false;
  }
  availability.addEventListener('change', async () => {
    const previous = store.agentMe ? store.agentMe.availability : 'offline';
    availability.disabled = true;
    try {
      await store.setAvailability(availability.value);
      toast(interpolate(gettext('You are now %(availability)s.'), { availability: availabilityLabel(availability.value) }), { kind: 'success' });
    } catch (error) {
      availability.value = previous;
      toast(errorText(error), { kind: 'error' });
    } finally {
      availability.disabled = false;
    }
  });
  pullButton.addEventListener('click', async () => {
    try {
      const conversation = await whileBusy(pullButton, () => store.pullNext());
      navigate(`/inbox/${conversation.id}`);
    } catch (error) {
      toast(errorText(error), { kind: error.code === 'inbox.nothing_waiting' ? 'info' : 'error' });
    }
  });

  // --- live --------------------------------------------------------------------------------

  const markLive = () => (workspace.dataset.live = String(store.loaded && store.allSubscribed()));
  const redraw = () => {
    drawFilters();
    drawList();
    markLive();
  };
  const stops = [
    store.on('conversations', redraw),
    store.on('subscribed', markLive),
    store.on('me', drawAvailability),
    store.on('created', (conversation) => alertNewConversation(conversation)),
  ];
  onCleanup(() => stops.forEach((stop) => stop()));

  function alertNewConversation(conversation) {
    playSound('message');
    if (!document.hidden || !('Notification' in window) || Notification.permission !== 'granted') return;
    try {
      const popup = new Notification(gettext('New support conversation'), {
        body: conversation.last_message_preview || conversation.contact.name || '',
        tag: `atende-conversation-${conversation.id}`,
      });
      popup.onclick = () => {
        window.focus();
        navigate(`/inbox/${conversation.id}`);
        popup.close();
      };
    } catch {
      // Some browsers only allow notifications from a service worker: the sound is enough.
    }
  }

  const ticker = setInterval(() => tickClocks(workspace), 1000);
  onCleanup(() => clearInterval(ticker));

  store.start();
  onCleanup(() => {
    if (view) view.destroy();
    store.stop();
  });
  let stale = false;
  onAddressChange((nextParams) => {
    if (stale) return false;
    openConversation(nextParams.conversationId ? Number(nextParams.conversationId) : null);
    if (view) view.focusHeading();
    return true;
  });
  onCleanup(
    onUserChange((changed) => {
      const now = activeMembership(changed);
      if (!now || now.organization.id !== organizationId || now.role !== role) {
        stale = true;
        if (window.location.pathname.startsWith('/inbox')) navigate('/inbox', { replace: true });
      }
    }),
  );
  onResync(async () => {
    try {
      await store.resync(openId);
    } catch (error) {
      if (!isAbort(error)) console.warn(error);
    }
  });

  // One request after the other (SQLite takes one write at a time; see security.js).
  redraw();
  openConversation(params.conversationId ? Number(params.conversationId) : null);
  (async () => {
    try {
      await store.loadConversations();
    } catch (error) {
      if (isAbort(error)) return;
      setChildren(list, h('li', { class: 'error-text', role: 'alert' }, errorText(error)));
    }
    for (const load of [() => store.loadAgents(), () => store.loadCanned(), () => (role === 'viewer' ? null : store.loadMe())]) {
      try {
        await load();
      } catch (error) {
        if (isAbort(error)) return;
      }
    }
  })();
}
