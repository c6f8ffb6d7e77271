// The call alerts that follow a person on every screen, mounted once by main.js:
// - a professional's incoming call: a modal <dialog> with the caller's name, the ringtone on a
//   loop and a browser notification; Accept opens the call, Decline refuses it; it goes away
//   by itself when the call stops ringing (the client cancelled, nobody answered);
// - a client's turn in a queue: a dialog with the time left to take it;
// - a client whose call the professional accepted is taken to the call screen.
// After a reconnect the current call and queue entries are read again (DESIGN §5).

import { api } from '../api.js';
import { getUser, onUserChange } from '../auth.js';
import { errorText, h, whileBusy } from '../components.js';
import { gettext, interpolate } from '../i18n.js';
import { navigate } from '../router.js';
import { socket } from '../socket.js';
import { formatTokens } from '../money.js';
import { formatSeconds, isProfessional, personPicture } from './common.js';

const RINGTONE = new URL('../../sounds/ringtone.wav', import.meta.url).href;

let ringtone = null;

function startRinging() {
  if (!ringtone) {
    ringtone = new Audio(RINGTONE);
    ringtone.loop = true;
  }
  ringtone.currentTime = 0;
  ringtone.play().catch(() => {}); // refused before the first interaction: the dialog still shows
}

function stopRinging() {
  if (ringtone) ringtone.pause();
}

function desktopNotification(title, body, tag, onClick) {
  if (!('Notification' in window) || Notification.permission !== 'granted') return null;
  try {
    const popup = new Notification(title, { body, tag, requireInteraction: true });
    popup.addEventListener('click', () => {
      window.focus();
      onClick();
      popup.close();
    });
    return popup;
  } catch {
    return null; // platforms that only notify through a service worker
  }
}

/** Whether the page shows this call already. */
const onCallScreen = (callId) => window.location.pathname === `/calls/${callId}`;

export function mountCallAlerts() {
  const incoming = incomingCallDialog();
  const turn = queueTurnDialog();
  let active = false;

  const callUpdated = (call) => {
    const me = getUser();
    if (!me || !call) return;
    if (call.professional && call.professional.id === me.id) {
      if (call.status === 'ringing') incoming.show(call);
      else incoming.dismiss(call.id);
    } else if (call.client && call.client.id === me.id) {
      // Accepted: the client goes to the call, whatever screen they were on.
      if ((call.status === 'accepted' || call.status === 'active') && !onCallScreen(call.id)) {
        turn.dismiss();
        navigate(`/calls/${call.id}`);
      }
    }
  };

  const catchUp = async () => {
    const me = getUser();
    if (!me) return;
    try {
      const current = await api.get('/calls/current/');
      const call = current && current.call;
      if (call && call.professional.id === me.id && call.status === 'ringing') incoming.show(call);
      else incoming.dismiss(null);
    } catch {
      // Nothing to show; the next event or reconnect tries again.
    }
    if (!isProfessional(me)) {
      try {
        const entries = await api.get('/queue/mine/');
        const offered = (Array.isArray(entries) ? entries : entries.results || []).find((entry) => entry.status === 'offered');
        if (offered) turn.show(offered);
        else turn.dismiss();
      } catch {
        // As above.
      }
    }
  };

  socket.on('calls.call.updated', (call) => active && callUpdated(call));
  socket.on('queueing.entry.updated', (entry) => {
    if (!active || !entry) return;
    if (entry.status === 'offered') turn.show(entry);
    else turn.dismiss(entry.id);
  });
  let wasDisconnected = false;
  socket.onStatus((status) => {
    if (status === 'disconnected') wasDisconnected = true;
    if (status === 'connected' && wasDisconnected && active) {
      wasDisconnected = false;
      catchUp();
    }
  });
  const follow = (user) => {
    const now = Boolean(user);
    if (now === active) return;
    active = now;
    if (active) catchUp();
    else {
      incoming.dismiss(null);
      turn.dismiss();
    }
  };
  onUserChange(follow);
  follow(getUser());
}

// --- incoming call ----------------------------------------------------------------------------

function incomingCallDialog() {
  let call = null;
  let popup = null;
  const picture = h('div', { class: 'incoming-picture' });
  const name = h('p', { class: 'incoming-name', id: 'incoming-call-name' });
  const detail = h('p', { class: 'muted' });
  const error = h('p', { class: 'error-text', role: 'alert', hidden: true });
  const accept = h('button', { type: 'button', class: 'button primary', 'data-testid': 'accept-call' }, gettext('Accept'));
  const decline = h('button', { type: 'button', class: 'button danger', 'data-testid': 'decline-call' }, gettext('Decline'));
  const dialog = h(
    'dialog',
    { class: 'dialog incoming-call', 'aria-labelledby': 'incoming-call-title', 'aria-describedby': 'incoming-call-name', 'data-testid': 'incoming-call' },
    h('h2', { id: 'incoming-call-title' }, gettext('Incoming call')),
    picture,
    name,
    detail,
    error,
    h('div', { class: 'dialog-actions' }, decline, accept),
  );
  // Escape would only hide it while the call keeps ringing: it declines instead, on purpose.
  dialog.addEventListener('cancel', (event) => event.preventDefault());
  document.body.append(dialog);

  const close = () => {
    call = null;
    stopRinging();
    popup?.close();
    popup = null;
    if (dialog.open) dialog.close();
  };

  accept.addEventListener('click', async () => {
    if (!call) return;
    const id = call.id;
    error.hidden = true;
    try {
      await whileBusy(accept, () => api.post(`/calls/${id}/accept/`, {}));
      close();
      navigate(`/calls/${id}`);
    } catch (failure) {
      error.hidden = false;
      error.textContent = failure.code === 'calls.invalid_transition' ? gettext('This call is no longer ringing.') : errorText(failure);
      if (failure.code === 'calls.invalid_transition') setTimeout(close, 2_000);
    }
  });
  decline.addEventListener('click', async () => {
    if (!call) return;
    const id = call.id;
    try {
      await whileBusy(decline, () => api.post(`/calls/${id}/reject/`, {}));
    } catch {
      // Already over: nothing left to decline.
    }
    close();
  });

  return {
    show(next) {
      if (call && call.id === next.id && dialog.open) return;
      call = next;
      const caller = next.client.display_name;
      picture.replaceChildren(personPicture(caller, next.client.avatar_url, { size: 'large' }));
      name.textContent = interpolate(gettext('%(name)s is calling you'), { name: caller });
      detail.textContent = interpolate(gettext('%(price)s per minute'), { price: formatTokens(next.price_per_minute) });
      error.hidden = true;
      if (!dialog.open) dialog.showModal();
      accept.focus();
      startRinging();
      popup?.close();
      popup = desktopNotification(gettext('Incoming call'), name.textContent, `atende-call-${next.id}`, () => {});
    },
    /** @param {number|null} callId close if it shows this call (null: whatever it shows) */
    dismiss(callId) {
      if (call && (callId === null || call.id === callId)) close();
    },
  };
}

// --- queue turn -------------------------------------------------------------------------------

function queueTurnDialog() {
  let entry = null;
  let timer = null;
  const name = h('p', { class: 'incoming-name', id: 'queue-turn-name' });
  const countdown = h('p', { class: 'queue-countdown', role: 'timer', 'aria-live': 'off', 'data-testid': 'turn-countdown' });
  const error = h('p', { class: 'error-text', role: 'alert', hidden: true });
  const accept = h('button', { type: 'button', class: 'button primary', 'data-testid': 'accept-turn' }, gettext('Start the call'));
  const decline = h('button', { type: 'button', class: 'button', 'data-testid': 'decline-turn' }, gettext('Give up my turn'));
  const dialog = h(
    'dialog',
    { class: 'dialog incoming-call', 'aria-labelledby': 'queue-turn-title', 'aria-describedby': 'queue-turn-name', 'data-testid': 'queue-turn' },
    h('h2', { id: 'queue-turn-title' }, gettext('It is your turn')),
    name,
    countdown,
    error,
    h('div', { class: 'dialog-actions' }, decline, accept),
  );
  dialog.addEventListener('cancel', (event) => event.preventDefault());
  document.body.append(dialog);

  const close = () => {
    entry = null;
    clearInterval(timer);
    stopRinging();
    if (dialog.open) dialog.close();
  };
  const tick = () => {
    if (!entry) return;
    const left = entry.offer_expires_at ? (new Date(entry.offer_expires_at).getTime() - Date.now()) / 1000 : 0;
    countdown.textContent = interpolate(gettext('Time left to take it: %(time)s'), { time: formatSeconds(Math.max(0, left)) });
    if (entry.offer_expires_at && left <= 0) close();
  };

  accept.addEventListener('click', async () => {
    if (!entry) return;
    const id = entry.id;
    error.hidden = true;
    try {
      const answer = await whileBusy(accept, () => api.post(`/queue/entries/${id}/accept/`, {}));
      close();
      if (answer && answer.call) navigate(`/calls/${answer.call.id}`);
    } catch (failure) {
      error.hidden = false;
      error.textContent = errorText(failure);
    }
  });
  decline.addEventListener('click', async () => {
    if (!entry) return;
    const id = entry.id;
    try {
      await whileBusy(decline, () => api.post(`/queue/entries/${id}/decline/`, {}));
    } catch {
      // The offer is gone already.
    }
    close();
  });

  return {
    show(next) {
      const same = entry && entry.id === next.id;
      entry = next;
      name.textContent = interpolate(gettext('%(name)s can take your call now.'), { name: next.professional.display_name });
      tick();
      clearInterval(timer);
      timer = setInterval(tick, 1000);
      if (!dialog.open) dialog.showModal();
      if (!same) {
        accept.focus();
        startRinging();
        desktopNotification(gettext('It is your turn'), name.textContent, `atende-turn-${next.id}`, () => {});
      }
    },
    /** @param {number} [entryId] close if it shows this entry (none: whatever it shows) */
    dismiss(entryId) {
      if (entry && (entryId === undefined || entry.id === entryId)) close();
    },
  };
}
