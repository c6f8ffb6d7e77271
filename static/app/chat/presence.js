// Presence: the heartbeat that tells the server this tab is open (and whether the person is
// active, the tab visible, and which room is on screen), and the dots that show others'
// state (online, away, offline, do not disturb).
//
// The heartbeat runs for every signed-in member of an organization, on any screen: being
// online does not depend on having the chat open. The server merges all of a person's tabs.

import { activeMembership, getUser, onUserChange } from '../auth.js';
import { api } from '../api.js';
import { h } from '../components.js';
import { gettext, interpolate } from '../i18n.js';
import { socket } from '../socket.js';

const HEARTBEAT_MS = 30_000;
// "Active" means the person touched the page (pointer, keys, scroll) in the last 5 minutes.
const ACTIVE_WINDOW_MS = 5 * 60_000;

let lastInteraction = Date.now();
let viewing = null;
let started = false;

/** The room on screen, or null: notifications for it stay quiet, in this tab and on the server. */
export function viewingRoom() {
  return viewing;
}

/** @param {number|null} roomId */
export function setViewingRoom(roomId) {
  if (viewing === roomId) return;
  viewing = roomId;
  beat();
}

function member() {
  return Boolean(activeMembership(getUser()));
}

function beat() {
  if (!member() || socket.status !== 'connected') return;
  socket.send({
    action: 'heartbeat',
    active: Date.now() - lastInteraction < ACTIVE_WINDOW_MS,
    visible: document.visibilityState === 'visible',
    room: document.visibilityState === 'visible' ? viewing : null,
  });
}

/** Start the heartbeat for the life of the page (idempotent). */
export function startHeartbeat() {
  if (started) return;
  started = true;
  let wasActive = true;
  const interacted = () => {
    const idle = Date.now() - lastInteraction >= ACTIVE_WINDOW_MS;
    lastInteraction = Date.now();
    // Coming back from idle is news worth telling at once (the dot turns green).
    if (idle || !wasActive) {
      wasActive = true;
      beat();
    }
  };
  for (const type of ['pointerdown', 'keydown', 'wheel', 'touchstart']) {
    window.addEventListener(type, interacted, { passive: true, capture: true });
  }
  // Moving the pointer counts too, but it fires constantly: once every few seconds is plenty.
  let lastMove = 0;
  window.addEventListener(
    'pointermove',
    () => {
      if (Date.now() - lastMove > 5_000) {
        lastMove = Date.now();
        interacted();
      }
    },
    { passive: true },
  );
  document.addEventListener('visibilitychange', beat);
  window.addEventListener('focus', beat);
  window.addEventListener('blur', beat);
  socket.onStatus((status) => {
    if (status === 'connected') beat();
  });
  onUserChange(() => beat());
  setInterval(() => {
    wasActive = Date.now() - lastInteraction < ACTIVE_WINDOW_MS;
    beat();
  }, HEARTBEAT_MS);
}

// --- others' presence ------------------------------------------------------------------------

/** user id -> {state, status_text, status_emoji, dnd} */
const known = new Map();

socket.on('chat.presence.changed', (data) => {
  known.set(data.user_id, { ...known.get(data.user_id), ...data });
  refreshDots(data.user_id);
});

/** Read everyone's presence in an organization. @param {number} organizationId @param {AbortSignal} [signal] */
export async function loadPresence(organizationId, signal) {
  const answer = await api.get(`/organizations/${organizationId}/presence/`, { signal });
  const list = Array.isArray(answer) ? answer : answer.results || [];
  for (const item of list) known.set(item.user_id, item);
  for (const item of list) refreshDots(item.user_id);
}

/** @param {number} userId */
export function presenceOf(userId) {
  return known.get(userId) || { state: 'offline', status_text: '', status_emoji: '', dnd: false };
}

/** @param {{state: string, dnd?: boolean}} presence */
export function presenceLabel(presence) {
  if (presence.dnd) return gettext('Do not disturb');
  switch (presence.state) {
    case 'online':
      return gettext('Online');
    case 'away':
      return gettext('Away');
    default:
      return gettext('Offline');
  }
}

function dotState(presence) {
  return presence.dnd ? 'dnd' : presence.state || 'offline';
}

/**
 * A dot that says a person's state in colour and in words (for screen readers and on hover);
 * it follows changes by itself.
 * @param {number} userId
 */
export function presenceDot(userId) {
  const dot = h('span', { class: 'presence-dot', role: 'img', dataset: { userId: String(userId) } });
  paint(dot, presenceOf(userId));
  return dot;
}

function paint(dot, presence) {
  const label = presenceLabel(presence);
  dot.dataset.state = dotState(presence);
  const status = presence.status_text || '';
  const full = status ? interpolate(gettext('%(state)s: %(status)s'), { state: label, status }) : label;
  dot.setAttribute('aria-label', full);
  dot.title = full;
}

function refreshDots(userId) {
  for (const dot of document.querySelectorAll(`.presence-dot[data-user-id="${userId}"]`)) paint(dot, presenceOf(userId));
}
