// The thread panel: a message and its replies (oldest first), with its own composer. It
// follows the store (replies arrive live) and is read again after a reconnect (store.resync).

import { api } from '../api.js';
import { h } from '../components.js';
import { gettext, interpolate, ngettext } from '../i18n.js';
import { composer } from './composer.js';
import { icon } from './icons.js';
import { continues, keyboardNavigation, messageRenderer, reconcile } from './messages.js';
import { isAbort, roomTitle } from './util.js';

/**
 * @param {{store: import('./store.js').ChatStore, roomId: number, parentId: number, organizationId: number,
 *          canModerate: () => boolean, emoji: () => object|null, canPost: () => boolean,
 *          signal: AbortSignal, onClose: () => void}} options
 */
export function threadPanel({ store, roomId, parentId, organizationId, canModerate, emoji, canPost, signal, onClose }) {
  const room = () => store.rooms.get(roomId) || store.details.get(roomId);
  const heading = h('h2', { id: 'thread-title', tabindex: '-1' }, gettext('Thread'));
  const subtitle = h('p', { class: 'muted thread-room' }, roomTitle(room()));
  const close = h(
    'button',
    { type: 'button', class: 'toolbar-button', 'aria-label': gettext('Close thread'), title: gettext('Close thread') },
    icon('close'),
  );
  const parentArea = h('div', { class: 'thread-parent' });
  const count = h('p', { class: 'thread-count muted' });
  const list = h('div', {
    class: 'message-list',
    role: 'log',
    'aria-live': 'polite',
    'aria-relevant': 'additions',
    'aria-label': gettext('Replies'),
  });
  const scroller = h(
    'div',
    {
      class: 'message-scroller thread-scroller',
      tabindex: '0',
      'aria-label': gettext('Message history: the arrow keys move between messages'),
    },
    parentArea,
    count,
    list,
  );
  keyboardNavigation(scroller);
  const typing = h('p', { class: 'typing-line', 'aria-live': 'polite' });
  const write = composer({
    store,
    roomId,
    parentId,
    organizationId,
    signal,
    label: gettext('Reply in thread'),
    placeholder: gettext('Reply…'),
  });
  const element = h(
    'aside',
    { class: 'chat-thread', 'aria-labelledby': 'thread-title', 'data-testid': 'thread-panel' },
    h('div', { class: 'pane-header' }, h('div', null, heading, subtitle), close),
    scroller,
    typing,
    write.element,
  );
  close.addEventListener('click', onClose);
  element.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && !event.defaultPrevented && !event.target.closest('dialog')) onClose();
  });

  const context = () => ({ canModerate: canModerate(), emoji: emoji(), room: room() });
  const parentRenderer = messageRenderer({ store, inThread: true, context });
  const replyRenderer = messageRenderer({ store, inThread: true, context });

  const draw = () => {
    const thread = store.threads.get(parentId);
    if (!thread || !thread.parent) {
      list.replaceChildren(h('p', { class: 'loading', role: 'status' }, gettext('Loading…')));
      return;
    }
    const atBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 60;
    reconcile(parentArea, [parentRenderer.node(thread.parent, false)]);
    const replies = thread.messages;
    const sent = replies.filter((reply) => reply.id).length;
    count.textContent = sent
      ? interpolate(ngettext('%(count)s reply', '%(count)s replies', sent), { count: sent })
      : gettext('No replies yet.');
    const nodes = [];
    const keep = new Set();
    let previous = null;
    for (const reply of replies) {
      keep.add(replyRenderer.keyOf(reply));
      nodes.push(replyRenderer.node(reply, continues(previous, reply)));
      previous = reply;
    }
    replyRenderer.prune(keep);
    reconcile(list, nodes);
    if (atBottom) scroller.scrollTop = scroller.scrollHeight;
    const allowed = canPost() && !thread.parent.deleted;
    write.setEnabled(allowed, allowed ? '' : gettext('You cannot reply here.'));
  };

  const drawTyping = () => {
    const names = store.typingIn(roomId, parentId);
    typing.textContent = typingText(names);
  };

  // Reading the thread reads the notifications about its replies (the room's own read
  // position covers only its top-level messages). Asked again when a reply arrives while the
  // panel is open and the page is visible; the newest reply id seen avoids repeating it.
  let markedUpTo = 0;
  const markThreadRead = () => {
    const thread = store.threads.get(parentId);
    const newest = thread ? Math.max(0, ...thread.messages.map((reply) => reply.id || 0)) : 0;
    if (document.visibilityState !== 'visible' || newest <= markedUpTo) return;
    markedUpTo = newest;
    api.post('/notifications/read-all/', { thread_id: parentId }, { quiet: true }).catch(() => {
      markedUpTo = 0; // try again with the next reply
    });
  };

  const stops = [
    store.on('thread', (event) => {
      if (event.parentId === parentId) {
        draw();
        markThreadRead();
      }
    }),
    store.on('typing', (event) => {
      if (event.roomId === roomId && event.threadId === parentId) drawTyping();
    }),
    store.on('detail', () => draw()),
  ];

  draw();
  store
    .openThread(parentId)
    .then(() => {
      draw();
      scroller.scrollTop = scroller.scrollHeight;
      markThreadRead();
    })
    .catch((error) => {
      if (isAbort(error)) return;
      list.replaceChildren(h('p', { class: 'error-text', role: 'alert' }, gettext('This thread could not be loaded.')));
    });

  return {
    element,
    parentId,
    focus: () => write.focus(),
    focusHeading: () => heading.focus(),
    destroy() {
      stops.forEach((stop) => stop());
      write.destroy();
      store.closeThread(parentId);
    },
  };
}

/** "Ana is typing…", "Ana and Bruno are typing…", "Several people are typing…". @param {string[]} names */
export function typingText(names) {
  if (names.length === 0) return '';
  if (names.length === 1) return interpolate(gettext('%(name)s is typing…'), { name: names[0] });
  if (names.length === 2) return interpolate(gettext('%(first)s and %(second)s are typing…'), { first: names[0], second: names[1] });
  return gettext('Several people are typing…');
}
