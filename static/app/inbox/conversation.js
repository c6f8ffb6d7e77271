// One conversation of the inbox: its header (who, where, status) with the actions this
// person may take, the messages (internal notes drawn apart, with their badge), who is
// typing, the composer, and the contact's panel with their past conversations.
//
// What the buttons offer follows the rules of queueing/inbox_access.py; the server checks
// them again, so a stale screen at worst shows a refusal.
//
// Only `message.html` is inserted as HTML: the server built it from escaped text
// (chat/markup.py). Every other value goes in as text.

import { api } from '../api.js';
import { errorText, h, setChildren, toast } from '../components.js';
import { formatDateTime, gettext, interpolate } from '../i18n.js';
import { fullDateTime, timeOf } from '../chat/util.js';
import { inboxComposer } from './composer.js';
import { crmPanel } from './crmpanel.js';
import { assignDialog, mergeDialog, snoozeDialog, transferDialog } from './dialogs.js';
import { inboxPath, isAbort, PRIORITIES, priorityLabel, slaChip, statusLabel, UNRESOLVED } from './util.js';

/**
 * @param {{store: import('./store.js').InboxStore, conversationId: number, role: string,
 *          signal: AbortSignal}} options
 */
export function conversationView({ store, conversationId, role, signal }) {
  const stops = [];
  const heading = h('h2', { id: 'conversation-title', tabindex: '-1', class: 'conversation-title', 'data-testid': 'conversation-title' });
  const facts = h('p', { class: 'conversation-facts muted', 'data-testid': 'conversation-facts' });
  const actions = h('div', { class: 'conversation-actions', role: 'group', 'aria-label': gettext('Conversation actions') });
  const list = h('div', { class: 'inbox-messages', role: 'log', 'aria-label': gettext('Messages'), 'data-testid': 'inbox-messages' });
  const typing = h('p', { class: 'typing-line', 'aria-live': 'polite', 'data-testid': 'inbox-typing' });
  const composerSlot = h('div', { class: 'composer-slot' });
  const contactPanel = h('aside', { class: 'inbox-contact', 'aria-label': gettext('Contact'), 'data-testid': 'contact-panel' });
  const back = h('a', { href: '/inbox', class: 'button back-button' }, gettext('Conversations'));
  const element = h(
    'section',
    { class: 'inbox-conversation', 'aria-labelledby': heading.id, dataset: { conversationId: String(conversationId) } },
    h(
      'div',
      { class: 'inbox-thread' },
      h('header', { class: 'pane-header conversation-header' }, back, h('div', { class: 'conversation-heading' }, heading, facts)),
      actions,
      list,
      typing,
      composerSlot,
    ),
    h('div', { class: 'inbox-side' }, contactPanel, crmPanel({ conversationId, signal }).element),
  );

  let composer = null;
  let composerKey = '';
  let contactLoadedFor = null;

  const conversation = () => store.conversations.get(conversationId);
  const isAdmin = role === 'org_admin';
  const mine = (current) => Boolean(current.assignee && current.assignee.id === store.me.id);

  // --- header and actions ----------------------------------------------------------------

  function drawHeader() {
    const current = conversation();
    if (!current) return;
    const contactName = current.contact.name || current.contact.email || gettext('Visitor');
    heading.textContent = contactName;
    setChildren(
      facts,
      h('span', { class: `status-badge status-${current.status}`, 'data-testid': 'conversation-status' }, statusLabel(current.status)),
      ' ',
      [current.department && current.department.name, current.queue && current.queue.name].filter(Boolean).join(' · '),
      ' · ',
      h(
        'span',
        { 'data-testid': 'conversation-assignee' },
        current.assignee
          ? interpolate(gettext('Assigned to %(name)s'), { name: current.assignee.name })
          : gettext('Unassigned'),
      ),
      ' ',
      slaChip(current),
      current.csat
        ? h(
            'span',
            { class: 'badge csat-badge', 'data-testid': 'conversation-csat' },
            current.csat.comment
              ? interpolate(gettext('Rated %(rating)s/5: “%(comment)s”'), current.csat)
              : interpolate(gettext('Rated %(rating)s/5'), current.csat),
          )
        : null,
    );
    drawActions(current);
    drawComposer(current);
  }

  function button(text, testid, onclick, kind = '') {
    return h('button', { type: 'button', class: `button ${kind}`.trim(), 'data-testid': testid, onclick }, text);
  }

  async function run(work) {
    try {
      await work();
    } catch (error) {
      if (!isAbort(error)) toast(errorText(error), { kind: 'error' });
    }
  }

  function drawActions(current) {
    const unresolved = UNRESOLVED.has(current.status);
    const manage = isAdmin || mine(current);
    const children = [];
    if (unresolved && !current.assignee && role === 'agent') {
      children.push(
        button(gettext('Take'), 'take-conversation', () =>
          run(() => store.command(conversationId, 'assign/', { user_id: store.me.id })),
        'primary'),
      );
    }
    if (unresolved && isAdmin) {
      children.push(button(gettext('Assign…'), 'assign-conversation', () => run(() => assignDialog({ store, conversation: current }))));
    }
    if (unresolved && manage) {
      children.push(
        button(gettext('Transfer…'), 'transfer-conversation', () => run(() => transferDialog({ store, conversation: conversation() }))),
        button(gettext('Snooze…'), 'snooze-conversation', () => run(() => snoozeDialog({ store, conversation: conversation() }))),
        button(gettext('Merge…'), 'merge-conversation', () =>
          run(async () => {
            const merged = await mergeDialog({ store, conversation: conversation() });
            if (merged) await store.loadMessages(conversationId);
          }),
        ),
        button(gettext('Resolve'), 'resolve-conversation', () =>
          run(() => store.command(conversationId, 'status/', { status: 'resolved' })),
        'primary'),
      );
    }
    if (!unresolved && (isAdmin || mine(current)) && !current.merged_into_id) {
      children.push(button(gettext('Reopen'), 'reopen-conversation', () => run(() => store.command(conversationId, 'reopen/', {}))));
    }
    if (manage && unresolved) {
      const priority = h(
        'select',
        { id: `priority-${conversationId}`, class: 'compact', 'data-testid': 'conversation-priority' },
        PRIORITIES.map((value) => h('option', { value: String(value) }, priorityLabel(value))),
      );
      priority.value = String(current.priority);
      priority.addEventListener('change', () =>
        run(() => store.command(conversationId, '', { priority: Number(priority.value) }, 'patch')),
      );
      const labels = h('input', {
        id: `labels-${conversationId}`,
        class: 'compact',
        value: (current.labels || []).join(', '),
        'data-testid': 'conversation-labels',
        placeholder: gettext('billing, urgent'),
      });
      labels.addEventListener('change', () => {
        const values = labels.value.split(',').map((label) => label.trim()).filter(Boolean);
        run(() => store.command(conversationId, '', { labels: values }, 'patch'));
      });
      children.push(
        h('span', { class: 'control' }, h('label', { for: priority.id }, gettext('Priority')), priority),
        h('span', { class: 'control' }, h('label', { for: labels.id }, gettext('Labels')), labels),
      );
    } else if ((current.labels || []).length) {
      children.push(h('ul', { class: 'tag-list' }, current.labels.map((label) => h('li', { class: 'tag' }, label))));
    }
    // Keep the focus where it was when the same controls are drawn again.
    const focused = document.activeElement && actions.contains(document.activeElement) ? document.activeElement.dataset.testid : null;
    setChildren(actions, ...children);
    if (focused) actions.querySelector(`[data-testid="${focused}"]`)?.focus();
  }

  function drawComposer(current) {
    const canReply = UNRESOLVED.has(current.status) && (isAdmin || mine(current));
    const canNote = role !== 'viewer' && !current.merged_into_id;
    const key = `${canReply}:${canNote}`;
    if (key === composerKey) return;
    composerKey = key;
    if (!canReply && !canNote) {
      composer = null;
      setChildren(composerSlot, h('p', { class: 'muted composer-closed' }, gettext('You can read this conversation but not write in it.')));
      return;
    }
    composer = inboxComposer({ store, conversationId, canReply, canNote });
    setChildren(
      composerSlot,
      canReply
        ? null
        : h(
            'p',
            { class: 'muted composer-closed', 'data-testid': 'reply-closed' },
            current.status === 'resolved'
              ? gettext('This conversation is resolved. Reopen it to reply.')
              : gettext('Only the assigned agent replies. Take the conversation to reply, or add an internal note.'),
          ),
      composer.element,
    );
  }

  // --- messages --------------------------------------------------------------------------

  function messageElement(message) {
    const current = conversation();
    const note = message.kind === 'note';
    const system = message.kind === 'system';
    const by = message.by_contact ? 'contact' : system ? 'system' : 'agent';
    const author = message.by_contact
      ? (current && (current.contact.name || current.contact.email)) || gettext('Visitor')
      : message.author
        ? message.author.name
        : gettext('System');
    const body = h('div', { class: 'message-body' });
    // Safe: built by the server from escaped text (chat/markup.py), never from raw input.
    if (message.html !== null && message.html !== undefined) body.innerHTML = message.html;
    else body.textContent = message.body || '';
    const attachments = (message.attachments || []).map((attachment) =>
      h(
        'li',
        null,
        attachment.kind === 'image' && attachment.url
          ? h('a', { href: attachment.url, target: '_blank', rel: 'noopener' }, h('img', { src: attachment.thumbnail_url || attachment.url, alt: attachment.name, class: 'attachment-image' }))
          : h('a', { href: attachment.url || '#', target: '_blank', rel: 'noopener', class: 'attachment-file' }, attachment.name),
      ),
    );
    return h(
      'article',
      {
        class: `inbox-message by-${by}${note ? ' note' : ''}`,
        'data-testid': 'inbox-message',
        dataset: { messageId: String(message.id || ''), by, kind: message.kind || 'text' },
      },
      h(
        'div',
        { class: 'message-meta' },
        h('span', { class: 'message-author' }, author),
        h('time', { datetime: message.created_at, title: fullDateTime(message.created_at), class: 'message-time' }, timeOf(message.created_at)),
        note ? h('span', { class: 'badge note-badge', 'data-testid': 'note-badge' }, gettext('Internal note')) : null,
      ),
      body,
      attachments.length ? h('ul', { class: 'message-attachments', 'aria-label': gettext('Attachments') }, attachments) : null,
    );
  }

  function drawMessages() {
    const messages = store.messages.get(conversationId) || [];
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
    setChildren(
      list,
      ...(messages.length ? messages.map(messageElement) : [h('p', { class: 'muted' }, gettext('No messages yet.'))]),
    );
    if (atBottom || !list.dataset.scrolled) {
      list.scrollTop = list.scrollHeight;
      list.dataset.scrolled = 'true';
    }
  }

  function drawTyping() {
    const people = store.typingIn(conversationId);
    const current = conversation();
    typing.textContent = people
      .map((person) =>
        person.contact
          ? interpolate(gettext('%(name)s is typing…'), { name: (current && current.contact.name) || gettext('Visitor') })
          : interpolate(gettext('%(name)s is typing…'), { name: person.name }),
      )
      .join(' ');
  }

  // --- contact ---------------------------------------------------------------------------

  async function loadContact() {
    const current = conversation();
    if (!current || contactLoadedFor === current.contact.id) return;
    contactLoadedFor = current.contact.id;
    try {
      const contact = await api.get(inboxPath(store.organizationId, `contacts/${current.contact.id}/`), { signal });
      const past = (contact.conversations || []).filter((item) => item.id !== conversationId);
      setChildren(
        contactPanel,
        h('h3', null, gettext('Contact')),
        h('p', { class: 'contact-name' }, contact.name || gettext('Visitor')),
        contact.email ? h('p', null, h('a', { href: `mailto:${contact.email}` }, contact.email)) : null,
        h('h3', null, gettext('Past conversations')),
        past.length
          ? h(
              'ul',
              { class: 'plain-list past-conversations' },
              past.map((item) =>
                h(
                  'li',
                  null,
                  h('a', { href: `/inbox/${item.id}` }, interpolate(gettext('#%(id)s · %(status)s'), { id: item.id, status: statusLabel(item.status) })),
                  h('span', { class: 'muted' }, ` ${formatDateTime(new Date(item.created_at), { dateStyle: 'medium' })}`),
                ),
              ),
            )
          : h('p', { class: 'muted' }, gettext('None before this one.')),
      );
    } catch (error) {
      if (!isAbort(error)) setChildren(contactPanel, h('p', { class: 'error-text' }, errorText(error)));
    }
  }

  // --- wiring ----------------------------------------------------------------------------

  stops.push(
    store.on('conversation', (id) => {
      if (id === conversationId) {
        drawHeader();
        drawMessages();
      }
    }),
    store.on('messages', (id) => {
      if (id === conversationId) drawMessages();
    }),
    store.on('typing', (id) => {
      if (id === conversationId) drawTyping();
    }),
    store.on('agents', () => {
      const current = conversation();
      if (current) drawActions(current);
    }),
  );
  store.follow(conversationId);

  const load = async () => {
    try {
      await store.loadConversation(conversationId);
      drawHeader();
      await store.loadMessages(conversationId);
      loadContact();
    } catch (error) {
      if (isAbort(error)) return;
      setChildren(
        element,
        h(
          'div',
          { class: 'chat-room-error' },
          back,
          h('h2', { id: 'conversation-title', tabindex: '-1' }, gettext('Conversation not available')),
          h('p', null, error.status === 404 ? gettext('This conversation does not exist, or you cannot see it.') : errorText(error)),
        ),
      );
    }
  };
  drawHeader();
  drawMessages();
  load();

  return {
    element,
    focusHeading: () => heading.focus(),
    focusComposer: () => composer && composer.focus(),
    destroy() {
      stops.forEach((stop) => stop());
    },
  };
}
