// Messages: one message as an <article> (author, time, the server's rendering of the text,
// attachments, reactions, thread summary, edited/deleted traces, actions), and a room's
// timeline: scrolling up loads older pages, a divider marks where the unread messages
// start, "Seen" shows under my last message of a direct conversation.
//
// Only `message.html` is inserted as HTML: the server built it from escaped text
// (chat/markup.py). Every other value (names, file names, the text of a message still being
// sent) goes in as text.

import { api } from '../api.js';
import { confirmDialog, errorText, h, toast } from '../components.js';
import { gettext, interpolate, ngettext } from '../i18n.js';
import { emojiChar, pickEmoji } from './emoji.js';
import { icon } from './icons.js';
import {
  avatar,
  dayKey,
  dayOf,
  debounce,
  formatDuration,
  formatSize,
  fullDateTime,
  isAbort,
  isDirect,
  mentionsToTokens,
  roomTitle,
  timeOf,
  tokensToMentions,
} from './util.js';

// Two messages from the same person this close together share one header.
const GROUP_WINDOW_MS = 5 * 60_000;
// Closer than this to the top, the previous page is loaded.
const LOAD_OLDER_MARGIN_PX = 400;
const AT_BOTTOM_MARGIN_PX = 60;

/** The key a message keeps from "sending" to "sent": its client id, else its id. */
function keyOf(message) {
  return message.client_id ? `c:${message.client_id}` : `m:${message.id}`;
}

/**
 * Build a message's <article>.
 * @param {object} message
 * @param {{store: import('./store.js').ChatStore, room: object|undefined, continued: boolean,
 *          inThread: boolean, emoji: object|null, canModerate: boolean,
 *          onOpenThread?: (message: object) => void, attachmentNodes: Map<number, HTMLElement>}} context
 */
export function messageElement(message, context) {
  const { store, continued, inThread } = context;
  const me = store.me;
  const mine = message.author && message.author.id === me.id;
  const classes = ['message'];
  if (continued) classes.push('continued');
  if (mine) classes.push('mine');
  if (message.pending) classes.push('pending');
  if (message.failed) classes.push('failed');
  if (message.deleted) classes.push('deleted');
  if (!message.deleted && !mine && store.mentionsMe(message)) classes.push('mentioned');
  if (message.kind === 'system') classes.push('system');

  const authorName = message.author ? message.author.name : gettext('Someone');
  const time = h(
    'time',
    { datetime: message.created_at, title: fullDateTime(message.created_at), class: 'message-time' },
    timeOf(message.created_at),
  );
  const meta = h(
    'div',
    { class: continued ? 'message-meta visually-hidden' : 'message-meta' },
    h('span', { class: 'message-author' }, authorName),
    time,
    message.edited_at && !message.deleted
      ? h('span', { class: 'message-edited', title: fullDateTime(message.edited_at) }, gettext('(edited)'))
      : null,
    message.pinned ? h('span', { class: 'message-pinned' }, icon('pin'), gettext('Pinned')) : null,
  );
  if (continued && message.pinned) meta.classList.remove('visually-hidden');

  const body = h('div', { class: 'message-body' });
  if (message.deleted) {
    body.append(h('p', { class: 'message-trace' }, gettext('This message was deleted.')));
  } else if (message.html !== null && message.html !== undefined && !message.pending) {
    // Safe: built by the server from escaped text (chat/markup.py), never from raw input.
    body.innerHTML = message.html;
  } else if (message.body) {
    // Not sent yet, so not rendered yet: show what was typed, as text.
    body.textContent = tokensToMentions(message.body, (id) => store.people.get(id)?.name).text;
  }

  const article = h(
    'article',
    {
      class: classes.join(' '),
      // Focusable by script and by a tap (not by Tab): see keyboardNavigation.
      tabindex: '-1',
      dataset: { messageId: message.id ? String(message.id) : '', clientId: message.client_id || '' },
      'aria-label': interpolate(gettext('%(author)s, %(time)s'), { author: authorName, time: fullDateTime(message.created_at) }),
    },
    continued ? h('span', { class: 'chat-avatar-space', 'aria-hidden': 'true' }) : avatar(message.author),
    h(
      'div',
      { class: 'message-main' },
      meta,
      body,
      message.deleted ? null : attachmentsElement(message, context),
      message.deleted ? null : reactionsElement(message, context),
      !inThread && message.reply_count ? threadSummary(message, context) : null,
      statusElement(message, context),
    ),
  );
  if (message.id && !message.deleted && message.kind !== 'system') article.append(toolbar(message, context, article));
  return article;
}

function attachmentsElement(message, { attachmentNodes }) {
  const attachments = message.attachments || [];
  if (!attachments.length) return null;
  return h(
    'ul',
    { class: 'message-attachments', 'aria-label': gettext('Attachments') },
    attachments.map((attachment) => {
      // Keep the same node across redraws, so a voice message keeps playing when someone reacts.
      let node = attachment.id ? attachmentNodes.get(attachment.id) : null;
      if (!node) {
        node = attachmentNode(attachment, message);
        if (attachment.id && attachment.url) attachmentNodes.set(attachment.id, node);
      }
      return h('li', null, node);
    }),
  );
}

function attachmentNode(attachment, message) {
  if (!attachment.url) {
    return h('span', { class: 'attachment-file' }, attachment.name, ' ', h('span', { class: 'muted' }, gettext('Uploading…')));
  }
  if (attachment.kind === 'image') {
    const img = h('img', {
      src: attachment.thumbnail_url || attachment.url,
      alt: attachment.name,
      loading: 'lazy',
      width: attachment.width ? String(Math.min(attachment.width, 360)) : null,
      height: attachment.width && attachment.height ? String(Math.round((attachment.height * Math.min(attachment.width, 360)) / attachment.width)) : null,
    });
    return h(
      'a',
      {
        class: 'attachment-image',
        href: attachment.url,
        target: '_blank',
        rel: 'noopener',
        'aria-label': interpolate(gettext('Open image %(name)s'), { name: attachment.name }),
      },
      img,
    );
  }
  if (attachment.kind === 'audio') {
    const label =
      message.kind === 'voice'
        ? interpolate(gettext('Voice message, %(duration)s'), { duration: formatDuration(attachment.duration_ms) })
        : attachment.name;
    return h(
      'figure',
      { class: 'attachment-audio' },
      h('audio', { controls: true, preload: 'metadata', src: attachment.url, 'aria-label': label }),
      h(
        'figcaption',
        { class: 'muted' },
        message.kind === 'voice' ? icon('mic') : null,
        label,
      ),
    );
  }
  return h(
    'a',
    {
      class: 'attachment-file',
      href: attachment.url,
      download: attachment.name,
      'aria-label': interpolate(gettext('Download %(name)s (%(size)s)'), { name: attachment.name, size: formatSize(attachment.size) }),
    },
    icon('file'),
    h('span', { class: 'attachment-name' }, attachment.name),
    ' ',
    h('span', { class: 'muted' }, formatSize(attachment.size)),
  );
}

function reactionsElement(message, { store, emoji }) {
  const reactions = message.reactions || [];
  if (!reactions.length) return null;
  return h(
    'div',
    { class: 'message-reactions', role: 'group', 'aria-label': gettext('Reactions') },
    reactions.map((reaction) => {
      const mine = (reaction.user_ids || []).includes(store.me.id);
      const names = (reaction.user_ids || []).map((id) => store.people.get(id)?.name).filter(Boolean);
      const char = reaction.char || emojiChar(reaction.emoji, emoji);
      return h(
        'button',
        {
          type: 'button',
          class: 'reaction',
          'aria-pressed': String(mine),
          title: names.join(', '),
          'aria-label': interpolate(
            ngettext('%(emoji)s: %(count)s reaction', '%(emoji)s: %(count)s reactions', reaction.count),
            { emoji: `:${reaction.emoji}:`, count: reaction.count },
          ),
          onclick: () => toggleReaction(message, reaction.emoji, mine),
        },
        h('span', { 'aria-hidden': 'true' }, char),
        h('span', { class: 'reaction-count', 'aria-hidden': 'true' }, String(reaction.count)),
      );
    }),
  );
}

async function toggleReaction(message, code, mine) {
  try {
    if (mine) await api.delete(`/chat/messages/${message.id}/reactions/${encodeURIComponent(code)}/`);
    else await api.post(`/chat/messages/${message.id}/reactions/`, { emoji: code });
  } catch (error) {
    toast(errorText(error), { kind: 'error' });
  }
}

function threadSummary(message, { onOpenThread }) {
  return h(
    'button',
    {
      type: 'button',
      class: 'link-button thread-summary',
      onclick: () => onOpenThread && onOpenThread(message),
    },
    interpolate(ngettext('%(count)s reply', '%(count)s replies', message.reply_count), { count: message.reply_count }),
    message.last_reply_at ? h('span', { class: 'muted' }, ` · ${timeOf(message.last_reply_at)}`) : null,
  );
}

function statusElement(message, { store }) {
  if (message.pending) return h('p', { class: 'message-status', role: 'status' }, gettext('Sending…'));
  if (!message.failed) return null;
  return h(
    'div',
    { class: 'message-status failed', role: 'alert' },
    h('span', null, interpolate(gettext('Not sent: %(reason)s'), { reason: errorText(message.failed) })),
    h('button', { type: 'button', class: 'link-button', onclick: () => store.deliver(message) }, gettext('Retry')),
    h('button', { type: 'button', class: 'link-button', onclick: () => store.discard(message) }, gettext('Discard')),
  );
}

function toolbar(message, context, article) {
  const { store, canModerate, inThread, onOpenThread } = context;
  const mine = message.author && message.author.id === store.me.id;
  // Out of the tab order until the message has focus (see keyboardNavigation): a long
  // history would otherwise be hundreds of stops between the room's header and the composer.
  const button = (name, label, onclick) =>
    h('button', { type: 'button', class: 'toolbar-button', tabindex: '-1', 'aria-label': label, title: label, onclick }, icon(name));
  return h(
    'div',
    { class: 'message-toolbar', role: 'toolbar', 'aria-label': gettext('Message actions') },
    button('smile', gettext('Add reaction'), async (event) => {
      const opener = event.currentTarget;
      const picked = await pickEmoji({ title: gettext('Add reaction') });
      if (picked) {
        const existing = (message.reactions || []).find((reaction) => reaction.emoji === picked.code);
        await toggleReaction(message, picked.code, Boolean(existing && existing.user_ids.includes(store.me.id)));
      }
      if (opener.isConnected) opener.focus();
    }),
    !inThread ? button('reply', gettext('Reply in thread'), () => onOpenThread && onOpenThread(message)) : null,
    button('pin', message.pinned ? gettext('Unpin') : gettext('Pin'), async () => {
      try {
        if (message.pinned) await api.delete(`/chat/messages/${message.id}/pin/`);
        else await api.post(`/chat/messages/${message.id}/pin/`, {});
      } catch (error) {
        toast(errorText(error), { kind: 'error' });
      }
    }),
    mine && message.kind === 'text' ? button('edit', gettext('Edit'), () => startEditing(message, context, article)) : null,
    mine || canModerate
      ? button('trash', gettext('Delete'), async () => {
          const sure = await confirmDialog({
            title: gettext('Delete this message?'),
            message: gettext('Everyone in the conversation will see that a message was deleted.'),
            confirmLabel: gettext('Delete'),
            danger: true,
          });
          if (!sure) return;
          try {
            await api.delete(`/chat/messages/${message.id}/`);
          } catch (error) {
            toast(errorText(error), { kind: 'error' });
          }
        })
      : null,
  );
}

/** Edit in place: Enter saves, Escape cancels. */
function startEditing(message, { store }, article) {
  const body = article.querySelector('.message-body');
  if (!body || article.querySelector('.message-editor')) return;
  const { text, chosen } = tokensToMentions(message.body, (id) => store.people.get(id)?.name);
  const textarea = h('textarea', { class: 'message-editor', rows: '3', 'aria-label': gettext('Edit message') }, text);
  const save = async () => {
    const value = textarea.value.trim();
    if (!value) return;
    textarea.disabled = true;
    try {
      const updated = await api.patch(`/chat/messages/${message.id}/`, { body: mentionsToTokens(value, chosen) });
      store.messageChanged(updated);
    } catch (error) {
      textarea.disabled = false;
      toast(errorText(error), { kind: 'error' });
    }
  };
  // The message node is cached until the message changes: put its body back by hand.
  const cancel = () => {
    editor.replaceWith(body);
    article.focus();
  };
  textarea.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      save();
    } else if (event.key === 'Escape') {
      event.preventDefault();
      event.stopPropagation();
      cancel();
    }
  });
  const editor = h(
    'div',
    { class: 'message-edit' },
    textarea,
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'button', class: 'button', onclick: cancel }, gettext('Cancel')),
      h('button', { type: 'button', class: 'button primary', onclick: save }, gettext('Save')),
    ),
    h('p', { class: 'field-hint' }, gettext('Enter to save, Escape to cancel.')),
  );
  body.replaceWith(editor);
  article.tabIndex = -1;
  textarea.focus();
  textarea.setSelectionRange(textarea.value.length, textarea.value.length);
}

/**
 * Arrow keys move between the messages of a list (Home/End to the first and last); the
 * focused message's actions join the tab order, so Tab reaches them, then the next control.
 * @param {HTMLElement} scroller
 */
export function keyboardNavigation(scroller) {
  scroller.addEventListener('keydown', (event) => {
    const moves = ['ArrowUp', 'ArrowDown', 'Home', 'End'];
    if (!moves.includes(event.key) || event.altKey || event.ctrlKey || event.metaKey) return;
    if (event.target.closest('textarea, input, select, audio, .message-edit')) return;
    const articles = [...scroller.querySelectorAll('article.message')];
    if (!articles.length) return;
    const current = event.target.closest('article.message');
    let index = current ? articles.indexOf(current) : articles.length;
    if (event.key === 'ArrowUp') index = Math.max(0, index - 1);
    else if (event.key === 'ArrowDown') index = Math.min(articles.length - 1, current ? index + 1 : articles.length - 1);
    else if (event.key === 'Home') index = 0;
    else index = articles.length - 1;
    event.preventDefault();
    articles[index].focus();
  });
  scroller.addEventListener('focusin', (event) => {
    const article = event.target.closest('article.message');
    if (article) article.querySelectorAll('.message-toolbar button').forEach((button) => (button.tabIndex = 0));
  });
  scroller.addEventListener('focusout', (event) => {
    const article = event.target.closest('article.message');
    if (article && !article.contains(event.relatedTarget)) {
      article.querySelectorAll('.message-toolbar button').forEach((button) => (button.tabIndex = -1));
    }
  });
}

/**
 * Put `nodes` in `parent` in that order, touching only what changed, so a focused button or
 * a playing audio element is not pulled out of the page by a redraw.
 */
export function reconcile(parent, nodes, before = null) {
  let cursor = before ? before.nextSibling : parent.firstChild;
  for (const node of nodes) {
    if (node === cursor) {
      cursor = cursor.nextSibling;
      continue;
    }
    parent.insertBefore(node, cursor);
  }
  while (cursor) {
    const next = cursor.nextSibling;
    cursor.remove();
    cursor = next;
  }
}

/**
 * Draws a list of messages with cached nodes: a message is rebuilt only when it changed.
 * @param {{store: object, inThread: boolean, context: () => object}} options
 */
export function messageRenderer({ store, inThread, context }) {
  const cache = new Map(); // key -> {signature, node}
  const attachmentNodes = new Map();
  return {
    attachmentNodes,
    /** @param {object} message @param {boolean} continued */
    node(message, continued) {
      const key = keyOf(message);
      const signature = JSON.stringify([message, continued, store.people.get(message.author?.id)?.name]);
      const cached = cache.get(key);
      if (cached && cached.signature === signature) return cached.node;
      const node = messageElement(message, { store, inThread, continued, attachmentNodes, ...context() });
      cache.set(key, { signature, node });
      return node;
    },
    /** Forget the nodes of messages no longer listed. @param {Set<string>} keep */
    prune(keep) {
      for (const key of cache.keys()) if (!keep.has(key)) cache.delete(key);
    },
    keyOf,
  };
}

/** Whether `message` continues the previous one's header (same person, a few minutes later). */
export function continues(previous, message) {
  return Boolean(
    previous &&
      previous.author &&
      message.author &&
      previous.author.id === message.author.id &&
      previous.kind !== 'system' &&
      message.kind !== 'system' &&
      !previous.deleted &&
      new Date(message.created_at) - new Date(previous.created_at) < GROUP_WINDOW_MS &&
      dayKey(previous.created_at) === dayKey(message.created_at),
  );
}

/**
 * A room's timeline.
 * @param {{store: import('./store.js').ChatStore, roomId: number, canModerate: () => boolean,
 *          emoji: () => object|null, onOpenThread: (message: object) => void,
 *          isShown: () => boolean}} options
 */
export function timelineView({ store, roomId, canModerate, emoji, onOpenThread, isShown }) {
  const room = () => store.rooms.get(roomId) || store.details.get(roomId);
  // Where the unread messages started when the room was opened; kept while it stays open,
  // so the divider does not jump as messages are read.
  const dividerAfter = room()?.last_read_message_id ?? null;
  let loadingOlder = false;
  let firstDraw = true;

  const older = h('button', { type: 'button', class: 'button load-older', hidden: true }, gettext('Load older messages'));
  const beginning = h('p', { class: 'timeline-start muted', hidden: true });
  const list = h('div', {
    class: 'message-list',
    role: 'log',
    'aria-live': 'polite',
    'aria-relevant': 'additions',
    'aria-label': interpolate(gettext('Messages in %(room)s'), { room: roomTitle(room()) }),
  });
  const scroller = h(
    'div',
    {
      class: 'message-scroller',
      tabindex: '0',
      'data-testid': 'message-scroller',
      'aria-label': gettext('Message history: the arrow keys move between messages'),
    },
    beginning,
    older,
    list,
  );
  keyboardNavigation(scroller);
  const divider = h(
    'div',
    { class: 'new-divider', role: 'separator', 'data-testid': 'new-messages' },
    h('span', null, gettext('New messages')),
  );
  const seen = h('p', { class: 'read-receipt', 'data-testid': 'read-receipt' });
  const days = new Map();
  const renderer = messageRenderer({
    store,
    inThread: false,
    context: () => ({ canModerate: canModerate(), emoji: emoji(), onOpenThread, room: room() }),
  });

  const atBottom = () => scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < AT_BOTTOM_MARGIN_PX;

  const dayNode = (iso) => {
    const key = dayKey(iso);
    if (!days.has(key)) days.set(key, h('div', { class: 'day-divider', role: 'separator' }, h('span', null, dayOf(iso))));
    return days.get(key);
  };

  const receiptText = (messages) => {
    const current = room();
    if (!isDirect(current)) return '';
    const lastMine = [...messages].reverse().find((message) => message.id && message.author?.id === store.me.id);
    if (!lastMine) return { text: '', after: null };
    const detail = store.details.get(roomId);
    const others = ((detail && detail.members) || []).filter((member) => member.id !== store.me.id);
    const readers = others.filter((member) => (member.last_read_message_id || 0) >= lastMine.id);
    if (!readers.length) return { text: '', after: lastMine };
    const text =
      current.kind === 'direct'
        ? gettext('Seen')
        : readers.length === others.length
          ? gettext('Seen by everyone')
          : interpolate(gettext('Seen by %(names)s'), { names: readers.map((member) => member.name).join(', ') });
    return { text, after: lastMine };
  };

  /** @param {{keepBottom?: boolean, anchor?: {height: number, top: number}}} [options] */
  const draw = ({ anchor } = {}) => {
    const timeline = store.timeline(roomId);
    const wasAtBottom = firstDraw || atBottom();
    const messages = timeline.messages;
    older.hidden = !timeline.hasMore;
    beginning.hidden = timeline.hasMore || !timeline.loaded;
    beginning.textContent = interpolate(gettext('This is the beginning of %(room)s.'), { room: roomTitle(room()) });
    const nodes = [];
    const keep = new Set();
    const receipt = receiptText(messages);
    let previous = null;
    let dividerPlaced = false;
    for (const message of messages) {
      if (!previous || dayKey(previous.created_at) !== dayKey(message.created_at)) nodes.push(dayNode(message.created_at));
      const unreadStart =
        !dividerPlaced &&
        dividerAfter !== null &&
        message.id &&
        message.id > dividerAfter &&
        message.author?.id !== store.me.id;
      if (unreadStart) {
        nodes.push(divider);
        dividerPlaced = true;
      }
      const key = renderer.keyOf(message);
      keep.add(key);
      nodes.push(renderer.node(message, !unreadStart && continues(previous, message)));
      if (receipt && receipt.after === message && receipt.text) {
        seen.textContent = receipt.text;
        nodes.push(seen);
      }
      previous = message;
    }
    renderer.prune(keep);
    reconcile(list, nodes);
    if (!timeline.loaded) list.append(h('p', { class: 'loading', role: 'status' }, gettext('Loading…')));
    else if (!messages.length) list.append(h('p', { class: 'muted empty-room' }, gettext('No messages yet. Say hello!')));

    if (anchor) {
      scroller.scrollTop = scroller.scrollHeight - anchor.height + anchor.top;
    } else if (firstDraw && timeline.loaded) {
      firstDraw = false;
      if (dividerPlaced) divider.scrollIntoView({ block: 'center' });
      else scroller.scrollTop = scroller.scrollHeight;
    } else if (wasAtBottom) {
      scroller.scrollTop = scroller.scrollHeight;
    }
    readIfSeen();
  };

  const readIfSeen = debounce(() => {
    if (!isShown() || document.visibilityState !== 'visible' || !document.hasFocus() || !atBottom()) return;
    store.markRead(roomId).catch((error) => {
      if (!isAbort(error)) console.warn(error);
    });
  }, 400);

  const loadOlder = async () => {
    const timeline = store.timeline(roomId);
    if (loadingOlder || !timeline.hasMore || !timeline.loaded) return;
    loadingOlder = true;
    older.disabled = true;
    const anchor = { height: scroller.scrollHeight, top: scroller.scrollTop };
    try {
      await store.loadOlder(roomId);
      draw({ anchor });
    } catch (error) {
      if (!isAbort(error)) toast(errorText(error), { kind: 'error' });
    } finally {
      loadingOlder = false;
      older.disabled = false;
    }
  };
  older.addEventListener('click', loadOlder);
  scroller.addEventListener('scroll', () => {
    if (scroller.scrollTop < LOAD_OLDER_MARGIN_PX) loadOlder();
    if (atBottom()) readIfSeen();
  });
  // Images and audio players take their height when they load: stay at the bottom if there.
  let stuck = true;
  scroller.addEventListener('scroll', () => (stuck = atBottom()), { passive: true });
  scroller.addEventListener(
    'load',
    () => {
      if (stuck) scroller.scrollTop = scroller.scrollHeight;
    },
    true,
  );

  return {
    element: scroller,
    draw,
    readIfSeen,
  };
}
