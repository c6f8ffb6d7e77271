// The list of my rooms: channels, then direct messages (newest first), each with its unread
// and mention counts, and a presence dot for one-to-one conversations.

import { h } from '../components.js';
import { gettext, interpolate, ngettext } from '../i18n.js';
import { icon } from './icons.js';
import { reconcile } from './messages.js';
import { presenceDot } from './presence.js';
import { isDirect, roomName } from './util.js';

/**
 * @param {{store: import('./store.js').ChatStore, onCreateChannel: () => void, onBrowse: () => void,
 *          onNewDirect: () => void}} options
 */
export function roomList({ store, onCreateChannel, onBrowse, onNewDirect }) {
  let current = null;
  const cache = new Map();
  const channels = h('ul', { class: 'room-items', 'aria-labelledby': 'rooms-channels' });
  const directs = h('ul', { class: 'room-items', 'aria-labelledby': 'rooms-direct' });
  const archived = h('ul', { class: 'room-items', 'aria-labelledby': 'rooms-archived' });
  const archivedSection = h(
    'details',
    { class: 'room-section archived-rooms', hidden: true },
    h('summary', { id: 'rooms-archived' }, gettext('Archived')),
    archived,
  );
  const addButton = (label, onclick, testid) =>
    h(
      'button',
      { type: 'button', class: 'toolbar-button', 'aria-label': label, title: label, onclick, 'data-testid': testid },
      icon('plus'),
    );
  const element = h(
    'nav',
    { class: 'room-list', 'aria-label': gettext('Rooms') },
    h(
      'section',
      { class: 'room-section' },
      h(
        'div',
        { class: 'room-section-header' },
        h('h2', { id: 'rooms-channels' }, gettext('Channels')),
        addButton(gettext('Create a channel'), onCreateChannel, 'create-channel'),
      ),
      channels,
      h('button', { type: 'button', class: 'link-button browse-channels', onclick: onBrowse }, gettext('Browse channels')),
    ),
    h(
      'section',
      { class: 'room-section' },
      h(
        'div',
        { class: 'room-section-header' },
        h('h2', { id: 'rooms-direct' }, gettext('Direct messages')),
        addButton(gettext('New direct message'), onNewDirect, 'new-direct'),
      ),
      directs,
    ),
    archivedSection,
  );

  const item = (room) => {
    const signature = JSON.stringify([room.name, room.kind, room.unread_count, room.mention_count, room.archived, room.direct_members, room.id === current]);
    const cached = cache.get(room.id);
    if (cached && cached.signature === signature) return cached.node;
    const name = roomName(room);
    const counts = [];
    if (room.unread_count) {
      counts.push(interpolate(ngettext('%(count)s unread message', '%(count)s unread messages', room.unread_count), { count: room.unread_count }));
    }
    if (room.mention_count) {
      counts.push(interpolate(ngettext('%(count)s mention', '%(count)s mentions', room.mention_count), { count: room.mention_count }));
    }
    const marker =
      room.kind === 'direct' && room.direct_members && room.direct_members[0]
        ? presenceDot(room.direct_members[0].id)
        : roomIcon(room);
    const node = h(
      'li',
      { dataset: { roomId: String(room.id) } },
      h(
        'a',
        {
          href: `/chat/${room.id}`,
          class: `room-link${room.unread_count ? ' unread' : ''}`,
          'aria-current': room.id === current ? 'page' : null,
          'data-testid': 'room-link',
        },
        marker,
        h('span', { class: 'room-name' }, name),
        room.kind === 'private' ? h('span', { class: 'visually-hidden' }, gettext('(private)')) : null,
        counts.length ? h('span', { class: 'visually-hidden' }, `, ${counts.join(', ')}`) : null,
        room.mention_count
          ? h('span', { class: 'room-badge mention', 'aria-hidden': 'true', 'data-testid': 'mention-badge' }, `@${room.mention_count}`)
          : null,
        room.unread_count && !room.mention_count
          ? h('span', { class: 'room-badge', 'aria-hidden': 'true', 'data-testid': 'unread-badge' }, String(room.unread_count))
          : null,
      ),
    );
    cache.set(room.id, { signature, node });
    return node;
  };

  const draw = () => {
    const rooms = [...store.rooms.values()];
    const live = rooms.filter((room) => !room.archived);
    const channelRooms = live.filter((room) => !isDirect(room)).sort((a, b) => a.name.localeCompare(b.name));
    const directRooms = live
      .filter((room) => isDirect(room))
      .sort((a, b) => String(b.last_message_at || b.created_at).localeCompare(String(a.last_message_at || a.created_at)));
    const archivedRooms = rooms.filter((room) => room.archived).sort((a, b) => roomName(a).localeCompare(roomName(b)));
    reconcile(channels, channelRooms.map(item));
    reconcile(directs, directRooms.map(item));
    reconcile(archived, archivedRooms.map(item));
    archivedSection.hidden = archivedRooms.length === 0;
    if (store.roomsLoaded && !channelRooms.length) {
      channels.append(h('li', { class: 'muted room-empty' }, gettext('You are in no channel yet.')));
    }
    if (store.roomsLoaded && !directRooms.length) {
      directs.append(h('li', { class: 'muted room-empty' }, gettext('No conversations yet.')));
    }
  };

  return {
    element,
    draw,
    /** @param {number|null} roomId the room on screen */
    setCurrent(roomId) {
      current = roomId;
      draw();
    },
  };
}

/** "#" for a public channel, a lock for a private one, people for a group conversation. */
export function roomIcon(room) {
  if (room.kind === 'private') return h('span', { class: 'room-icon' }, icon('lock'));
  if (room.kind === 'group') return h('span', { class: 'room-icon' }, icon('people'));
  return h('span', { class: 'room-icon', 'aria-hidden': 'true' }, '#');
}
