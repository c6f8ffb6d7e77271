// The notification centre: a bell in the header with the unread count, the list (mark one or
// all read), the count in the tab title, a sound and a browser notification when one arrives.
//
// The server decides whether a notification deserves attention (`alert` false when the
// person is looking at that room or is in do not disturb, `sound` likewise); this tab adds the
// person's own switches and stays quiet about the room it shows while visible. After a
// reconnect the count and the list are read again from REST (DESIGN §5).

import { activeMembership, getUser, onUserChange } from '../auth.js';
import { api } from '../api.js';
import { errorText, h, toast } from '../components.js';
import { formatRelative, gettext, interpolate, ngettext } from '../i18n.js';
import { navigate, onRouteChange } from '../router.js';
import { socket } from '../socket.js';
import { setUnreadCount } from '../title.js';
import { icon } from './icons.js';
import { viewingRoom } from './presence.js';
import { askDesktopPermission, desktopPermission, loadMySettings, mySettings, openSettingsDialog } from './settings.js';
import { fullDateTime } from './util.js';

const SOUNDS = {
  mention: new URL('../../sounds/mention.wav', import.meta.url).href,
  message: new URL('../../sounds/message.wav', import.meta.url).href,
};

const state = {
  active: false,
  unread: 0,
  items: [],
  next: null,
  loaded: false,
  open: false,
};
const players = new Map();

/** Play one of the app's sounds; browsers refuse before the first interaction, which is fine. */
export function playSound(name) {
  let audio = players.get(name);
  if (!audio) {
    audio = new Audio(SOUNDS[name]);
    audio.preload = 'auto';
    players.set(name, audio);
  }
  audio.currentTime = 0;
  audio.play().catch(() => {});
}

/** The bell and its panel, for the header. Shown to members of an organization. */
export function notificationCentre() {
  const badge = h('span', { class: 'notification-count', 'aria-hidden': 'true', hidden: true });
  const button = h(
    'button',
    {
      type: 'button',
      class: 'button bell-button',
      'aria-expanded': 'false',
      'aria-controls': 'notification-panel',
      'data-testid': 'notification-bell',
    },
    icon('bell'),
    h('span', { class: 'visually-hidden bell-label' }),
    badge,
  );
  const list = h('ul', { class: 'notification-list', 'aria-labelledby': 'notification-title' });
  const more = h('button', { type: 'button', class: 'button', hidden: true }, gettext('Load more'));
  const markAll = h('button', { type: 'button', class: 'link-button' }, gettext('Mark all as read'));
  const settingsButton = h('button', { type: 'button', class: 'link-button' }, gettext('Settings'));
  const permissionButton = h(
    'button',
    { type: 'button', class: 'button permission-button', hidden: true },
    gettext('Turn on desktop notifications'),
  );
  const panel = h(
    'div',
    { class: 'notification-panel', id: 'notification-panel', role: 'dialog', 'aria-labelledby': 'notification-title', hidden: true },
    h(
      'div',
      { class: 'notification-panel-header' },
      h('h2', { id: 'notification-title' }, gettext('Notifications')),
      h('div', { class: 'actions' }, markAll, settingsButton),
    ),
    permissionButton,
    list,
    h('div', { class: 'pagination' }, more),
  );
  const element = h('div', { class: 'notification-centre', hidden: true }, button, panel);

  const drawCount = () => {
    badge.hidden = state.unread === 0;
    badge.textContent = state.unread > 99 ? '99+' : String(state.unread);
    button.querySelector('.bell-label').textContent =
      state.unread === 0
        ? gettext('Notifications')
        : interpolate(ngettext('Notifications, %(count)s unread', 'Notifications, %(count)s unread', state.unread), {
            count: state.unread,
          });
    setUnreadCount(state.active ? state.unread : 0);
    markAll.disabled = state.unread === 0;
  };

  const drawList = () => {
    more.hidden = !state.next;
    permissionButton.hidden = !(desktopPermission() === 'default' && mySettings()?.desktop_enabled !== false);
    if (!state.loaded) {
      list.replaceChildren(h('li', { class: 'muted' }, gettext('Loading…')));
      return;
    }
    if (state.items.length === 0) {
      list.replaceChildren(h('li', { class: 'muted notification-empty' }, gettext('No notifications yet.')));
      return;
    }
    list.replaceChildren(...state.items.map(item));
  };

  const item = (notification) => {
    const unread = !notification.read_at;
    const open = h(
      'button',
      { type: 'button', class: 'notification-open', onclick: () => openNotification(notification) },
      h('span', { class: 'notification-title' }, notification.title),
      notification.body ? h('span', { class: 'notification-body' }, notification.body) : null,
      h(
        'time',
        { class: 'notification-time', datetime: notification.created_at, title: fullDateTime(notification.created_at) },
        formatRelative(new Date(notification.created_at)),
      ),
      unread ? h('span', { class: 'visually-hidden' }, gettext('(unread)')) : null,
    );
    return h(
      'li',
      { class: `notification-item${unread ? ' unread' : ''}`, dataset: { notificationId: String(notification.id) } },
      open,
      unread
        ? h(
            'button',
            {
              type: 'button',
              class: 'link-button notification-read',
              'aria-label': interpolate(gettext('Mark as read: %(title)s'), { title: notification.title }),
              onclick: () => markRead(notification),
            },
            gettext('Mark as read'),
          )
        : null,
    );
  };

  const setOpen = (open) => {
    state.open = open;
    panel.hidden = !open;
    button.setAttribute('aria-expanded', String(open));
    if (open) {
      drawList();
      if (!state.loaded) loadFeed();
      panel.querySelector('h2').tabIndex = -1;
      panel.querySelector('h2').focus();
    }
  };

  async function loadSummary() {
    try {
      const summary = await api.get('/notifications/summary/');
      state.unread = summary.unread_count;
      drawCount();
    } catch {
      // The bell shows what it knew; the next reconnect or event corrects it.
    }
  }

  async function loadFeed({ append = false } = {}) {
    try {
      const path = append && state.next ? `/notifications/${new URL(state.next, window.location.href).search}` : '/notifications/';
      const page = await api.get(path);
      const results = page.results || [];
      state.items = append ? dedupe([...state.items, ...results]) : results;
      state.next = page.next || null;
      state.loaded = true;
      drawList();
    } catch (error) {
      list.replaceChildren(h('li', { class: 'error-text', role: 'alert' }, errorText(error)));
    }
  }

  async function markRead(notification) {
    if (notification.read_at) return;
    notification.read_at = new Date().toISOString();
    state.unread = Math.max(0, state.unread - 1);
    drawCount();
    drawList();
    try {
      await api.post(`/notifications/${notification.id}/read/`, {});
    } catch (error) {
      toast(errorText(error), { kind: 'error' });
      loadSummary();
    }
  }

  async function openNotification(notification) {
    setOpen(false);
    markRead(notification);
    if (notification.url && notification.url.startsWith('/') && !notification.url.startsWith('//')) navigate(notification.url);
    else button.focus();
  }

  markAll.addEventListener('click', async () => {
    try {
      const answer = await api.post('/notifications/read-all/', {});
      const now = new Date().toISOString();
      state.items.forEach((notification) => (notification.read_at = notification.read_at || now));
      state.unread = answer && typeof answer.unread_count === 'number' ? answer.unread_count : 0;
      drawCount();
      drawList();
    } catch (error) {
      toast(errorText(error), { kind: 'error' });
    }
  });
  settingsButton.addEventListener('click', () => {
    setOpen(false);
    openSettingsDialog({ focus: 'notifications' });
  });
  permissionButton.addEventListener('click', async () => {
    await askDesktopPermission();
    drawList();
  });
  more.addEventListener('click', () => loadFeed({ append: true }));
  button.addEventListener('click', () => setOpen(!state.open));
  panel.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') {
      setOpen(false);
      button.focus();
    }
  });
  document.addEventListener('pointerdown', (event) => {
    if (state.open && !element.contains(event.target)) setOpen(false);
  });
  onRouteChange(() => {
    if (state.open) setOpen(false);
  });

  // --- live ---
  socket.on('chat.notification.created', (data) => {
    if (!state.active) return;
    const notification = data.notification;
    state.unread = typeof data.unread_count === 'number' ? data.unread_count : state.unread + 1;
    state.items = dedupe([notification, ...state.items]);
    drawCount();
    if (state.open || state.loaded) drawList();
    announce(notification, data);
  });
  socket.on('chat.notification.read', (data) => {
    if (!state.active) return;
    const now = new Date().toISOString();
    for (const notification of state.items) {
      if (!data.ids || data.ids.includes(notification.id)) notification.read_at = notification.read_at || now;
    }
    if (typeof data.unread_count === 'number') state.unread = data.unread_count;
    drawCount();
    if (state.loaded) drawList();
  });
  let wasDisconnected = false;
  socket.onStatus((status) => {
    if (status === 'disconnected') wasDisconnected = true;
    if (status === 'connected' && wasDisconnected && state.active) {
      wasDisconnected = false;
      loadSummary();
      if (state.loaded) loadFeed();
    }
  });

  const follow = (user) => {
    const active = Boolean(user && activeMembership(user));
    element.hidden = !active;
    if (active === state.active) return;
    state.active = active;
    state.items = [];
    state.loaded = false;
    state.next = null;
    state.unread = 0;
    drawCount();
    if (active) {
      loadSummary().then(() => loadMySettings().catch(() => {}));
    } else {
      setOpen(false);
    }
  };
  onUserChange(follow);
  follow(getUser());
  return element;
}

function dedupe(items) {
  const seen = new Set();
  return items.filter((item) => (seen.has(item.id) ? false : seen.add(item.id)));
}

/** Sound and pop-up for a new notification, within the server's and the person's rules. */
function announce(notification, { alert, sound }) {
  const settings = mySettings() || {};
  const lookingAtIt =
    document.visibilityState === 'visible' && notification.room_id && viewingRoom() === notification.room_id;
  if (sound && settings.sound_enabled !== false && !lookingAtIt) {
    playSound(notification.kind === 'mention' || notification.kind === 'direct_message' ? 'mention' : 'message');
  }
  if (!alert || lookingAtIt) return;
  // A pop-up when the page is hidden or shows another room; in the page, a toast otherwise.
  if (!(settings.desktop_enabled !== false && desktopPermission() === 'granted' && popUp(notification))) {
    if (document.visibilityState === 'visible') {
      toast(notification.body ? `${notification.title}: ${notification.body}` : notification.title);
    }
  }
}

function popUp(notification) {
  try {
    const popup = new Notification(notification.title, { body: notification.body || '', tag: `atende-${notification.id}` });
    popup.addEventListener('click', () => {
      window.focus();
      if (notification.url && notification.url.startsWith('/') && !notification.url.startsWith('//')) navigate(notification.url);
      popup.close();
    });
    return true;
  } catch {
    // Some platforms (Android Chrome) only notify through a service worker; the bell still counts.
    return false;
  }
}
