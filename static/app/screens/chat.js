// The team chat workspace (/chat and /chat/<room id>): my rooms with unread badges on one
// side, the open room (its timeline and the composer) in the middle, and a thread or the
// search on the other side. On a phone the three are separate panes, with a way back.
//
// Opening another room does not draw the screen again (router onAddressChange): the rooms,
// their subscriptions and the loaded messages stay. After a reconnect the store re-reads
// everything that could have changed (store.resync).

import { api } from '../api.js';
import { config } from '../config.js';
import { activeMembership, getUser, onUserChange } from '../auth.js';
import { errorText, h, setChildren, toast, whileBusy } from '../components.js';
import { gettext, interpolate, ngettext } from '../i18n.js';
import { composer } from '../chat/composer.js';
import { browseChannelsDialog, createChannelDialog, directMessageDialog, pinsDialog, roomSettingsDialog } from '../chat/dialogs.js';
import { loadEmoji } from '../chat/emoji.js';
import { timelineView } from '../chat/messages.js';
import { loadPresence, presenceDot, setViewingRoom } from '../chat/presence.js';
import { icon } from '../chat/icons.js';
import { roomIcon, roomList } from '../chat/roomlist.js';
import { searchPanel } from '../chat/search.js';
import { dndSummary, mySettings, onMySettingsChange, openSettingsDialog } from '../chat/settings.js';
import { ChatStore } from '../chat/store.js';
import { threadPanel, typingText } from '../chat/thread.js';
import { isAbort, isDirect, roomName, roomTitle } from '../chat/util.js';

// Members of a group DM besides me (the server's CHAT_GROUP_DM_MAX_MEMBERS counts me too).
const GROUP_DM_MAX_OTHERS = (config.chat_group_dm_max_members || 8) - 1;

export function render(context) {
  const { main, params, setTitle, signal, onCleanup, onResync, onAddressChange, navigate } = context;
  const user = getUser();
  const membership = activeMembership(user);
  setTitle(gettext('Chat'));
  if (!membership) {
    main.append(
      h('h1', null, gettext('Chat')),
      h('p', { class: 'card' }, gettext('The chat is for teams: join or create an organization to talk with its members.')),
    );
    return;
  }
  const organizationId = membership.organization.id;
  const me = { id: user.id, name: user.display_name || user.email, avatar_url: user.avatar_url || null };
  const store = new ChatStore({ organizationId, me, signal });
  let emojiTable = null;
  loadEmoji()
    .then((table) => (emojiTable = table))
    .catch(() => {});

  // --- layout ----------------------------------------------------------------------------

  main.classList.add('chat-main');
  const header = document.querySelector('.site-header');
  const fit = () => main.style.setProperty('--chat-top', `${header ? header.getBoundingClientRect().height : 0}px`);
  const resize = new ResizeObserver(fit);
  if (header) resize.observe(header);
  fit();
  onCleanup(() => {
    resize.disconnect();
    main.classList.remove('chat-main');
    main.style.removeProperty('--chat-top');
  });

  const rooms = roomList({
    store,
    onCreateChannel: () => createChannelDialog({ organizationId, navigate }),
    onBrowse: () => browseChannelsDialog({ organizationId, navigate, onJoined: () => store.loadRooms() }),
    onNewDirect: () =>
      directMessageDialog({
        organizationId,
        me,
        maxOthers: GROUP_DM_MAX_OTHERS,
        navigate,
        onOpened: async (room) => store.roomAdded({ ...room, organization_id: room.organization_id ?? organizationId }),
      }),
  });
  const statusButton = h('button', { type: 'button', class: 'my-status', 'data-testid': 'my-status' });
  const drawStatus = () => {
    const settings = mySettings();
    const text = settings && settings.status_text ? settings.status_text : gettext('Set a status');
    setChildren(
      statusButton,
      presenceDot(me.id),
      h('span', { class: 'my-status-text' }, text),
      settings && settings.dnd_active ? h('span', { class: 'badge warning' }, gettext('Do not disturb')) : null,
    );
    statusButton.title = settings ? dndSummary(settings) : '';
  };
  drawStatus();
  onCleanup(onMySettingsChange(drawStatus));
  statusButton.addEventListener('click', () => openSettingsDialog({ focus: 'status' }));

  const searchButton = h(
    'button',
    { type: 'button', class: 'button', 'data-testid': 'open-search' },
    icon('search'),
    gettext('Search'),
  );
  const settingsButton = h(
    'button',
    { type: 'button', class: 'toolbar-button', 'aria-label': gettext('Chat settings'), title: gettext('Chat settings') },
    icon('settings'),
  );
  settingsButton.addEventListener('click', () => openSettingsDialog({ focus: 'dnd' }));
  const sidebar = h(
    'aside',
    { class: 'chat-sidebar', 'aria-labelledby': 'chat-title' },
    h('div', { class: 'sidebar-header' }, h('h1', { id: 'chat-title' }, gettext('Chat')), settingsButton),
    statusButton,
    searchButton,
    rooms.element,
  );
  const roomSlot = h('div', { class: 'chat-room-slot' });
  const sideSlot = h('div', { class: 'chat-side-slot' });
  const workspace = h('div', { class: 'chat', dataset: { pane: 'list' } }, sidebar, roomSlot, sideSlot);
  main.append(workspace);

  // --- state -----------------------------------------------------------------------------

  let openRoomId = null;
  let roomView = null;
  let side = null; // the thread or search panel
  let stale = false; // the person switched organization: draw the screen anew

  const setPane = () => {
    workspace.dataset.pane = side ? 'side' : openRoomId ? 'room' : 'list';
    workspace.classList.toggle('has-side', Boolean(side));
  };

  const closeSide = ({ focus = true } = {}) => {
    if (!side) return;
    side.destroy();
    side.element.remove();
    const wasThread = side.kind === 'thread';
    side = null;
    setPane();
    if (focus && roomView) (wasThread ? roomView.focusComposer : roomView.focusHeading)();
  };

  const openThread = (message) => {
    if (side && side.kind === 'thread' && side.parentId === message.id) {
      side.focus();
      return;
    }
    closeSide({ focus: false });
    const room = store.rooms.get(message.room_id || openRoomId);
    const panel = threadPanel({
      store,
      roomId: message.room_id || openRoomId,
      parentId: message.id,
      organizationId,
      signal,
      canModerate: () => membership.role === 'org_admin',
      canPost: () => canPost(store.rooms.get(message.room_id || openRoomId) || room),
      emoji: () => emojiTable,
      onClose: () => closeSide(),
    });
    side = { ...panel, kind: 'thread' };
    sideSlot.replaceChildren(panel.element);
    setPane();
    panel.focus();
  };

  const openSearch = () => {
    if (side && side.kind === 'search') {
      side.focus();
      return;
    }
    closeSide({ focus: false });
    const panel = searchPanel({
      store,
      organizationId,
      signal,
      roomId: openRoomId,
      onClose: () => {
        closeSide({ focus: false });
        searchButton.focus();
      },
      onOpen: async (result) => {
        const message = result.message;
        if (openRoomId !== result.room.id) navigate(`/chat/${result.room.id}`);
        if (message.parent_id) openThread({ id: message.parent_id, room_id: result.room.id });
        else {
          closeSide({ focus: false });
          if (roomView) await roomView.reveal(message.id);
        }
      },
    });
    side = { ...panel, kind: 'search' };
    sideSlot.replaceChildren(panel.element);
    setPane();
    panel.focus();
  };
  searchButton.addEventListener('click', openSearch);

  const canPost = (room) => Boolean(room && room.role && !room.archived && membership.role !== 'viewer');
  const canManage = (room) => Boolean(room && (room.role === 'owner' || room.role === 'admin' || membership.role === 'org_admin'));

  /** @param {number|null} roomId */
  const openRoom = (roomId) => {
    if (roomId === openRoomId && roomView) return;
    closeSide({ focus: false });
    if (roomView) roomView.destroy();
    roomView = null;
    openRoomId = roomId;
    store.viewing = roomId;
    setViewingRoom(roomId);
    rooms.setCurrent(roomId);
    setPane();
    if (!roomId) {
      setTitle(gettext('Chat'));
      roomSlot.replaceChildren(
        h(
          'section',
          { class: 'chat-room chat-welcome' },
          h('h2', null, gettext('Welcome to the chat')),
          h('p', { class: 'muted' }, gettext('Choose a channel or a conversation, or start a new one.')),
        ),
      );
      return;
    }
    roomView = buildRoomView(roomId);
    roomSlot.replaceChildren(roomView.element);
  };

  // --- one room --------------------------------------------------------------------------

  function buildRoomView(roomId) {
    const stops = [];
    const room = () => store.rooms.get(roomId) || store.details.get(roomId);
    const heading = h('h2', { id: 'room-title', tabindex: '-1', class: 'room-title' });
    const topic = h('p', { class: 'room-topic muted' });
    const back = h(
      'a',
      { href: '/chat', class: 'button back-button', 'aria-label': gettext('Back to the rooms') },
      icon('back'),
      gettext('Rooms'),
    );
    const membersButton = h('button', { type: 'button', class: 'link-button members-button' });
    const notify = h(
      'select',
      { id: `room-notify-${roomId}`, class: 'compact' },
      h('option', { value: 'all' }, gettext('All messages')),
      h('option', { value: 'mentions' }, gettext('Mentions only')),
      h('option', { value: 'nothing' }, gettext('Nothing')),
    );
    const pinsButton = h('button', { type: 'button', class: 'button' }, icon('pin'), gettext('Pinned'));
    const settingsButton = h('button', { type: 'button', class: 'button' }, gettext('Room settings'));
    const menu = h(
      'details',
      { class: 'room-menu' },
      h('summary', { class: 'button', 'aria-label': gettext('Room options'), title: gettext('Room options') }, icon('more')),
      h(
        'div',
        { class: 'room-menu-body' },
        h('div', { class: 'field' }, h('label', { for: notify.id }, gettext('Notify me about')), notify),
        pinsButton,
        settingsButton,
      ),
    );
    const archivedNotice = h('p', { class: 'notice warning', hidden: true }, gettext('This channel is archived: its history is readable, nothing new can be posted.'));
    const typing = h('p', { class: 'typing-line', 'aria-live': 'polite', 'data-testid': 'typing' });
    const timeline = timelineView({
      store,
      roomId,
      canModerate: () => membership.role === 'org_admin',
      emoji: () => emojiTable,
      onOpenThread: openThread,
      isShown: () => openRoomId === roomId && !(side && workspace.dataset.pane === 'side' && window.matchMedia('(max-width: 52rem)').matches),
    });
    const write = composer({
      store,
      roomId,
      organizationId,
      signal,
      label: interpolate(gettext('Message %(room)s'), { room: roomTitle(room()) || '' }),
      placeholder: interpolate(gettext('Message %(room)s'), { room: roomTitle(room()) || '' }),
    });
    const joinBar = h('div', { class: 'join-bar', hidden: true });
    const element = h(
      'section',
      { class: 'chat-room', 'aria-labelledby': 'room-title', dataset: { roomId: String(roomId) } },
      h(
        'header',
        { class: 'pane-header room-header' },
        back,
        h('div', { class: 'room-heading' }, heading, topic, membersButton),
        menu,
      ),
      archivedNotice,
      timeline.element,
      typing,
      joinBar,
      write.element,
    );

    const drawHeader = () => {
      const current = room();
      if (!current) return;
      const dmOther = current.kind === 'direct' && current.direct_members && current.direct_members[0];
      heading.replaceChildren(
        dmOther ? presenceDot(dmOther.id) : roomIcon(current),
        h('span', null, roomName(current)),
      );
      topic.textContent = current.topic || '';
      topic.hidden = !current.topic;
      membersButton.textContent = interpolate(ngettext('%(count)s member', '%(count)s members', current.member_count || 0), {
        count: current.member_count || 0,
      });
      notify.value = current.notify || 'all';
      archivedNotice.hidden = !current.archived;
      const member = Boolean(current.role);
      menu.hidden = !member;
      if (!member && current.kind === 'channel') {
        joinBar.hidden = false;
        write.element.hidden = true;
        joinBar.replaceChildren(
          h('p', null, interpolate(gettext('You are reading #%(name)s.'), { name: current.name })),
          h(
            'button',
            {
              type: 'button',
              class: 'button primary',
              onclick: async (event) => {
                try {
                  await whileBusy(event.currentTarget, () => api.post(`/chat/rooms/${roomId}/join/`, {}));
                  await store.loadRooms();
                  await store.loadDetail(roomId);
                  write.focus();
                } catch (error) {
                  toast(errorText(error), { kind: 'error' });
                }
              },
            },
            gettext('Join channel'),
          ),
        );
      } else {
        joinBar.hidden = true;
        write.element.hidden = false;
        const allowed = canPost(current);
        write.setEnabled(
          allowed,
          current.archived
            ? gettext('This channel is archived.')
            : membership.role === 'viewer'
              ? gettext('Viewers can read but not post.')
              : '',
        );
      }
      setTitle(roomTitle(current));
    };

    notify.addEventListener('change', async () => {
      const previous = room()?.notify || 'all';
      try {
        const answer = await api.patch(`/chat/rooms/${roomId}/preferences/`, { notify: notify.value });
        const current = store.rooms.get(roomId);
        if (current) current.notify = answer.notify;
        toast(gettext('Notification preference saved.'), { kind: 'success' });
      } catch (error) {
        notify.value = previous;
        toast(errorText(error), { kind: 'error' });
      }
    });
    pinsButton.addEventListener('click', () => {
      menu.open = false;
      pinsDialog({ roomId, onOpen: openThread });
    });
    const openSettings = () => {
      menu.open = false;
      roomSettingsDialog({ store, roomId, canManage: canManage(room()), organizationId, navigate });
    };
    settingsButton.addEventListener('click', openSettings);
    membersButton.addEventListener('click', openSettings);
    menu.addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && menu.open) {
        menu.open = false;
        menu.querySelector('summary').focus();
      }
    });

    const drawTyping = () => {
      typing.textContent = typingText(store.typingIn(roomId, null));
    };

    stops.push(
      store.on('timeline', (event) => {
        if (event.roomId === roomId) timeline.draw();
      }),
      store.on('room', (id) => {
        if (id === roomId) drawHeader();
      }),
      store.on('rooms', drawHeader),
      store.on('detail', (id) => {
        if (id === roomId) {
          drawHeader();
          timeline.draw();
        }
      }),
      store.on('typing', (event) => {
        if (event.roomId === roomId && !event.threadId) drawTyping();
      }),
    );
    const onVisible = () => timeline.readIfSeen();
    document.addEventListener('visibilitychange', onVisible);
    window.addEventListener('focus', onVisible);

    // Load: the room (a public channel opened before joining is not in my list), its
    // members (read receipts), then the newest messages.
    const load = async () => {
      try {
        if (!store.rooms.has(roomId) || isDirect(store.rooms.get(roomId)) || !store.details.has(roomId)) {
          await store.loadDetail(roomId);
        }
        drawHeader();
        timeline.draw();
        await store.openTimeline(roomId);
        timeline.draw();
      } catch (error) {
        if (isAbort(error)) return;
        element.replaceChildren(
          h(
            'div',
            { class: 'chat-room-error' },
            back,
            h('h2', { id: 'room-title', tabindex: '-1' }, gettext('Room not available')),
            h(
              'p',
              null,
              error.status === 404 ? gettext('This room does not exist, or you cannot see it.') : errorText(error),
            ),
          ),
        );
      }
    };
    drawHeader();
    timeline.draw();
    load();

    return {
      element,
      focusHeading: () => heading.focus(),
      focusComposer: () => write.focus(),
      /** Bring a message into view (from the search), loading older pages as needed. */
      async reveal(messageId) {
        await store.openTimeline(roomId);
        for (let page = 0; page < 20; page += 1) {
          const found = element.querySelector(`article[data-message-id="${messageId}"]`);
          if (found) {
            found.scrollIntoView({ block: 'center' });
            found.classList.add('highlight');
            found.focus({ preventScroll: true });
            setTimeout(() => found.classList.remove('highlight'), 3000);
            return;
          }
          const timelineState = store.timeline(roomId);
          if (!timelineState.hasMore) return;
          await store.loadOlder(roomId);
          timeline.draw();
        }
      },
      destroy() {
        stops.forEach((stop) => stop());
        document.removeEventListener('visibilitychange', onVisible);
        window.removeEventListener('focus', onVisible);
        write.destroy();
      },
    };
  }

  // --- wiring ----------------------------------------------------------------------------

  store.start();
  onCleanup(() => {
    closeSide({ focus: false });
    if (roomView) roomView.destroy();
    store.stop();
    setViewingRoom(null);
  });
  // data-live: every room is followed live (the server confirmed each subscription).
  const markLive = () => (workspace.dataset.live = String(store.roomsLoaded && store.allSubscribed()));
  const stopRooms = store.on('rooms', () => {
    rooms.draw();
    markLive();
  });
  const stopLive = store.on('subscribed', markLive);
  onCleanup(stopLive);
  const stopRemoved = store.on('removed', (roomId) => {
    if (roomId === openRoomId) {
      toast(gettext('You are no longer in that room.'));
      navigate('/chat', { replace: true });
    }
  });
  onCleanup(() => {
    stopRooms();
    stopRemoved();
  });

  /**
   * A link to one message (`/chat/<room>?message=<id>`, from a notification): show it, in
   * its thread when it is a reply, then drop the query so a reload does not jump again.
   */
  const revealFromAddress = async (query) => {
    const messageId = Number(query.get('message'));
    if (!messageId || !openRoomId) return;
    const roomId = openRoomId;
    history.replaceState(null, '', `/chat/${roomId}`);
    try {
      const message = await api.get(`/chat/messages/${messageId}/`, { signal });
      if (openRoomId !== roomId) return;
      if (message.parent_id) openThread({ id: message.parent_id, room_id: roomId });
      else if (roomView) await roomView.reveal(messageId);
    } catch (error) {
      if (!isAbort(error)) toast(errorText(error), { kind: 'error' });
    }
  };

  onAddressChange((nextParams, nextQuery) => {
    if (stale) return false;
    openRoom(nextParams.roomId ? Number(nextParams.roomId) : null);
    if (roomView) roomView.focusHeading();
    revealFromAddress(nextQuery);
    return true;
  });
  onCleanup(
    onUserChange((changed) => {
      const now = activeMembership(changed);
      if (!now || now.organization.id !== organizationId) {
        stale = true;
        if (window.location.pathname.startsWith('/chat')) navigate('/chat', { replace: true });
      }
    }),
  );
  onResync(async () => {
    try {
      await store.resync();
      await loadPresence(organizationId, signal);
    } catch (error) {
      if (!isAbort(error)) console.warn(error);
    }
  });
  document.addEventListener('keydown', escapeFromPane);
  onCleanup(() => document.removeEventListener('keydown', escapeFromPane));
  function escapeFromPane(event) {
    // On a phone, Escape in a room goes back to the list, as the back button does.
    if (event.key !== 'Escape' || event.defaultPrevented || document.querySelector('dialog[open]')) return;
    if (side) closeSide();
  }

  // One request after the other (SQLite takes one write at a time; see security.js).
  (async () => {
    try {
      await store.loadRooms();
    } catch (error) {
      if (isAbort(error)) return;
      rooms.element.prepend(h('p', { class: 'error-text', role: 'alert' }, errorText(error)));
    }
    openRoom(params.roomId ? Number(params.roomId) : null);
    await loadPresence(organizationId, signal).catch(() => {});
    await revealFromAddress(context.query);
  })();
  rooms.draw();
}
