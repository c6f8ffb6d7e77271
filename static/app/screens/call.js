// /calls/<id>: the video call. Both videos, mute, camera off, hang up, the connected time, the
// running cost, the client's balance and low-balance warning, the end-to-end encrypted chat
// with its safety code, and, once the call is over, its summary and (for the client) the
// rating. The media and keys are calls/session.js; the server's word on the call's state comes
// from `calls.call.updated`, read again through REST after a reconnect (DESIGN §5).

import { api } from '../api.js';
import { getUser } from '../auth.js';
import { errorText, formAlert, h, loading, toast, whileBusy } from '../components.js';
import { formatDateTime, gettext, interpolate } from '../i18n.js';
import { formatTokens } from '../money.js';
import { socket } from '../socket.js';
import { callStatusLabel, endReasonLabel, formatSeconds, LIVE_STATUSES, openCallReceipt, personPicture } from '../calls/common.js';
import { decryptText, encryptText } from '../calls/e2ee.js';
import { callSession } from '../calls/session.js';
import { newClientId } from '../chat/util.js';

export function render({ main, params, setTitle, signal, onCleanup, onResync }) {
  const callId = Number(params.callId);
  const me = getUser();
  setTitle(gettext('Call'));
  main.replaceChildren(loading());

  let call = null;
  let session = null;
  let stopped = false;
  onCleanup(() => {
    stopped = true;
    session?.close();
  });

  api
    .get(`/calls/${callId}/`, { signal })
    .then((loaded) => {
      if (stopped) return;
      call = loaded;
      start();
    })
    .catch((error) => {
      if (error.name === 'AbortError') return;
      main.replaceChildren(
        h('h1', null, gettext('Call')),
        h('p', { class: 'error-text', role: 'alert' }, error.status === 404 ? gettext('This call does not exist or is not yours.') : errorText(error)),
        h('p', null, h('a', { href: '/calls' }, gettext('Your calls'))),
      );
    });

  function start() {
    const isClient = call.client.id === me.id;
    const other = isClient ? call.professional : call.client;
    setTitle(interpolate(gettext('Call with %(name)s'), { name: other.display_name }));

    // --- layout -------------------------------------------------------------------------------
    const statusText = h('p', { class: 'call-status', role: 'status', 'data-testid': 'call-status' });
    const iceText = h('span', { class: 'muted call-ice', 'data-testid': 'ice-state' });
    const remoteVideo = h('video', { class: 'call-remote-video', autoplay: true, playsinline: true, 'data-testid': 'remote-video' });
    const localVideo = h('video', { class: 'call-local-video', autoplay: true, playsinline: true, 'data-testid': 'local-video' });
    localVideo.muted = true;
    const waiting = h('div', { class: 'call-waiting' }, personPicture(other.display_name, other.avatar_url, { size: 'large' }));
    const stage = h(
      'div',
      { class: 'call-stage', 'aria-label': gettext('Video') , role: 'group' },
      remoteVideo,
      waiting,
      localVideo,
    );

    const muteButton = h('button', { type: 'button', class: 'button', 'aria-pressed': 'false', 'data-testid': 'mute' }, gettext('Mute'));
    const cameraButton = h('button', { type: 'button', class: 'button', 'aria-pressed': 'false', 'data-testid': 'camera' }, gettext('Turn camera off'));
    const hangUpButton = h('button', { type: 'button', class: 'button danger', 'data-testid': 'hang-up' }, gettext('Hang up'));
    const controls = h('div', { class: 'call-controls' }, muteButton, cameraButton, hangUpButton);

    const elapsed = h('span', { class: 'figure-value', 'data-testid': 'call-elapsed' }, '0:00');
    const cost = h('span', { class: 'figure-value', 'data-testid': 'call-cost' }, formatTokens(call.billed_amount));
    const balance = h('span', { class: 'figure-value', 'data-testid': 'call-balance' }, '—');
    const figures = h(
      'dl',
      { class: 'call-figures' },
      h('div', null, h('dt', null, gettext('Connected time')), h('dd', null, elapsed)),
      h('div', null, h('dt', null, isClient ? gettext('Cost so far') : gettext('Billed so far')), h('dd', null, cost)),
      isClient
        ? h(
            'div',
            null,
            h('dt', null, gettext('Your balance')),
            h('dd', null, balance, ' ', h('a', { href: '/wallet', target: '_blank', rel: 'noopener' }, gettext('Top up'))),
          )
        : null,
    );
    const price = h(
      'p',
      { class: 'muted' },
      interpolate(gettext('%(price)s per minute, minimum %(minimum)s.'), {
        price: formatTokens(call.price_per_minute),
        minimum: formatTokens(call.minimum_fee),
      }),
    );
    const warning = h('div', { class: 'notice warning', role: 'alert', hidden: true, 'data-testid': 'low-balance' });

    const chat = chatPanel({ call, me, signal });
    const summary = h('section', { class: 'card call-summary', hidden: true, 'data-testid': 'call-summary', 'aria-labelledby': 'call-summary-title' });

    const video = h('section', { class: 'call-video card', 'aria-labelledby': 'call-title' }, stage, controls);
    main.replaceChildren(
      h(
        'div',
        { class: 'call-header' },
        h('h1', { id: 'call-title' }, interpolate(gettext('Call with %(name)s'), { name: other.display_name })),
        h('div', null, statusText, iceText),
      ),
      summary,
      h(
        'div',
        { class: 'call-layout' },
        video,
        h('aside', { class: 'call-side' }, h('section', { class: 'card' }, figures, price, warning), chat.element),
      ),
    );

    // --- media --------------------------------------------------------------------------------
    session = callSession({
      call,
      me,
      onRemoteStream: (stream) => {
        if (remoteVideo.srcObject !== stream) remoteVideo.srcObject = stream;
        remoteVideo.play().catch(() => {});
        waiting.hidden = true;
      },
      onIceState: (state) => {
        iceText.dataset.state = state;
        iceText.textContent = iceLabel(state);
      },
      onKeys: (info) => chat.setKeys(info),
    });
    // Tests and the benchmark read the connection through this handle.
    window.__atendeCall = { id: callId, session, remoteVideo };
    onCleanup(() => {
      if (window.__atendeCall && window.__atendeCall.session === session) delete window.__atendeCall;
    });
    chat.attach(session);

    if (LIVE_STATUSES.has(call.status)) {
      session.startLocal().then((stream) => {
        if (stopped) return;
        if (stream) localVideo.srcObject = stream;
        cameraButton.disabled = !stream || stream.getVideoTracks().length === 0;
        muteButton.disabled = !stream || stream.getAudioTracks().length === 0;
      });
    }

    muteButton.addEventListener('click', () => {
      const stream = localVideo.srcObject;
      if (!stream) return;
      const muted = muteButton.getAttribute('aria-pressed') !== 'true';
      stream.getAudioTracks().forEach((track) => (track.enabled = !muted));
      muteButton.setAttribute('aria-pressed', String(muted));
      muteButton.textContent = muted ? gettext('Unmute') : gettext('Mute');
    });
    cameraButton.addEventListener('click', () => {
      const stream = localVideo.srcObject;
      if (!stream) return;
      const off = cameraButton.getAttribute('aria-pressed') !== 'true';
      stream.getVideoTracks().forEach((track) => (track.enabled = !off));
      cameraButton.setAttribute('aria-pressed', String(off));
      cameraButton.textContent = off ? gettext('Turn camera on') : gettext('Turn camera off');
    });
    hangUpButton.addEventListener('click', async () => {
      // Before the other side answered, the client cancels and the professional declines.
      let action = 'hangup';
      if (call.status === 'ringing' || call.status === 'requested') action = isClient ? 'cancel' : 'reject';
      try {
        const updated = await whileBusy(hangUpButton, () => api.post(`/calls/${callId}/${action}/`, {}));
        update(updated);
      } catch (error) {
        if (error.code === 'calls.invalid_transition') refetch();
        else toast(errorText(error), { kind: 'error' });
      }
    });

    // --- state --------------------------------------------------------------------------------
    let finished = false;
    const tick = () => {
      let seconds = call.connected_seconds || 0;
      if (call.status === 'active' && call.segment_started_at) {
        seconds += (Date.now() - new Date(call.segment_started_at).getTime()) / 1000;
      }
      elapsed.textContent = formatSeconds(seconds);
    };
    const timer = setInterval(tick, 1000);
    onCleanup(() => clearInterval(timer));

    function update(next) {
      if (!next || next.id !== callId) return;
      call = { ...call, ...next };
      statusText.textContent = callStatusLabel(call.status);
      statusText.dataset.status = call.status;
      cost.textContent = formatTokens(call.billed_amount || 0);
      hangUpButton.textContent =
        call.status === 'ringing' || call.status === 'requested'
          ? isClient
            ? gettext('Cancel call')
            : gettext('Decline')
          : gettext('Hang up');
      tick();
      session.setStatus(call.status);
      if (!LIVE_STATUSES.has(call.status) && !finished) finish();
    }

    function finish() {
      finished = true;
      session.close();
      localVideo.srcObject = null;
      remoteVideo.srcObject = null;
      controls.hidden = true;
      warning.hidden = true;
      chat.finish();
      showSummary();
      if (isClient && call.status === 'ended' && !call.rated) ratingDialog({ call, onRated: () => (call.rated = true) });
    }

    function showSummary() {
      summary.hidden = false;
      const reason = endReasonLabel(call.end_reason);
      summary.replaceChildren(
        h('h2', { id: 'call-summary-title' }, gettext('The call is over')),
        reason ? h('p', null, reason) : null,
        h(
          'dl',
          { class: 'facts' },
          h('dt', null, gettext('Connected time')),
          h('dd', { 'data-testid': 'summary-duration' }, formatSeconds(call.connected_seconds)),
          h('dt', null, isClient ? gettext('Charged') : gettext('Billed')),
          h('dd', { 'data-testid': 'summary-charged' }, formatTokens(call.billed_amount || 0)),
          call.ended_at ? h('dt', null, gettext('Ended')) : null,
          call.ended_at ? h('dd', null, formatDateTime(new Date(call.ended_at))) : null,
        ),
        h(
          'p',
          { class: 'actions' },
          call.billed_amount
            ? h('button', { type: 'button', class: 'button', onclick: (event) => openCallReceipt(callId, { opener: event.currentTarget }) }, gettext('Receipt'))
            : null,
          h('a', { href: '/calls', class: 'button' }, gettext('Your calls')),
          isClient ? h('a', { href: `/professionals/${call.professional.id}`, class: 'button' }, gettext('Back to the professional')) : null,
        ),
      );
    }

    async function refetch() {
      try {
        update(await api.get(`/calls/${callId}/`, { signal }));
      } catch (error) {
        if (error.name !== 'AbortError') toast(errorText(error), { kind: 'error' });
      }
    }

    async function loadBalance() {
      if (!isClient) return;
      try {
        const wallet = await api.get('/wallet/', { signal });
        balance.textContent = formatTokens(wallet.available);
      } catch {
        // The figure stays as it was; the next event corrects it.
      }
    }

    const stops = [
      socket.on('calls.call.updated', (data) => update(data)),
      socket.on('calls.call.billed', (data) => {
        if (data.call_id !== callId) return;
        update({ id: callId, ...pick(data, ['billed_units', 'billed_amount', 'next_charge_at', 'connected_seconds']) });
      }),
      socket.on('calls.call.low_balance', (data) => {
        if (data.call_id !== callId || !isClient) return;
        warning.hidden = false;
        warning.replaceChildren(
          h(
            'p',
            null,
            data.ends_at
              ? interpolate(gettext('Your balance is running low: the call ends at %(time)s unless you top up.'), {
                  time: formatDateTime(new Date(data.ends_at), { timeStyle: 'medium' }),
                })
              : gettext('Your balance is running low: the call ends at the next minute unless you top up.'),
          ),
          h('p', null, h('a', { href: '/wallet', target: '_blank', rel: 'noopener', class: 'button primary' }, gettext('Top up in a new tab'))),
        );
        if (typeof data.available === 'number') balance.textContent = formatTokens(data.available);
      }),
      socket.on('wallet.balance.changed', (data) => {
        if (!isClient || data.account !== 'client_wallet' || data.asset !== 'token') return;
        balance.textContent = formatTokens(data.available);
      }),
      socket.on('calls.message.created', (data) => chat.received(data)),
    ];
    onCleanup(() => stops.forEach((stop) => stop()));
    onResync(async () => {
      await refetch();
      if (LIVE_STATUSES.has(call.status)) session.resync();
      await chat.catchUp();
      await loadBalance();
    });

    update(call);
    loadBalance();
    chat.catchUp();
  }
}

function pick(object, names) {
  return Object.fromEntries(names.filter((name) => object[name] !== undefined).map((name) => [name, object[name]]));
}

function iceLabel(state) {
  const labels = {
    new: gettext('Preparing the video…'),
    checking: gettext('Connecting the video…'),
    connected: gettext('Video connected'),
    completed: gettext('Video connected'),
    disconnected: gettext('Video interrupted, reconnecting…'),
    failed: gettext('Video connection failed, retrying…'),
    closed: '',
  };
  return labels[state] ?? state;
}

// --- the encrypted chat -----------------------------------------------------------------------

function chatPanel({ call, me, signal }) {
  const callId = call.id;
  let keys = [];
  let lastId = 0;
  const shown = new Map(); // message id or client_id -> element
  const undecrypted = []; // messages that arrived before the keys
  const code = h('strong', { class: 'safety-code', 'data-testid': 'safety-code' }, '—');
  const list = h('ol', { class: 'call-messages', 'aria-live': 'polite', 'data-testid': 'call-messages' });
  const input = h('input', {
    type: 'text',
    id: `call-message-${callId}`,
    maxlength: '2000',
    autocomplete: 'off',
    disabled: true,
    'data-testid': 'call-message-input',
  });
  const sendButton = h('button', { type: 'submit', class: 'button primary', disabled: true }, gettext('Send'));
  const alert = formAlert();
  const form = h(
    'form',
    { class: 'call-composer' },
    h('label', { for: input.id, class: 'visually-hidden' }, gettext('Message')),
    input,
    sendButton,
  );
  const element = h(
    'section',
    { class: 'card call-chat', 'aria-labelledby': 'call-chat-title' },
    h('h2', { id: 'call-chat-title' }, gettext('Private chat')),
    h(
      'p',
      { class: 'muted' },
      gettext('Messages are encrypted on this device and only the two of you can read them. Compare the safety code: it is the same on both screens when nobody is in the middle.'),
    ),
    h('p', { class: 'safety' }, gettext('Safety code:'), ' ', code),
    list,
    alert,
    form,
  );

  const nameOf = (senderId) => (senderId === me.id ? gettext('You') : senderId === call.client.id ? call.client.display_name : call.professional.display_name);

  const draw = (key, { senderId, text, createdAt, pending = false }) => {
    let item = shown.get(key);
    const content = [
      h('span', { class: 'call-message-sender' }, nameOf(senderId)),
      h('span', { class: 'call-message-text' }, text === null ? gettext('This message cannot be read with the current keys.') : text),
      createdAt ? h('time', { class: 'muted', datetime: createdAt }, formatDateTime(new Date(createdAt), { timeStyle: 'short' })) : null,
    ];
    if (!item) {
      item = h('li', { class: `call-message${senderId === me.id ? ' mine' : ''}` });
      list.append(item);
      shown.set(key, item);
    }
    item.classList.toggle('pending', pending);
    item.replaceChildren(...content.filter(Boolean));
    list.scrollTop = list.scrollHeight;
  };

  const open = async (message) => {
    const text = await decryptText(keys, message, { callId, senderId: message.sender_id });
    return text;
  };

  const received = async (message) => {
    if (!message || message.call_id !== callId) return;
    lastId = Math.max(lastId, message.id);
    if (shown.has(`id:${message.id}`)) return;
    if (keys.length === 0) {
      undecrypted.push(message);
      return;
    }
    const text = await open(message);
    // My own message, drawn while it was being sent: that line becomes this one.
    const mine = message.client_id && shown.get(`client:${message.client_id}`);
    if (mine) {
      shown.set(`id:${message.id}`, mine);
      mine.classList.remove('pending');
      return;
    }
    draw(`id:${message.id}`, { senderId: message.sender_id, text, createdAt: message.created_at });
  };

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text || keys.length === 0) return;
    const clientId = newClientId();
    input.value = '';
    draw(`client:${clientId}`, { senderId: me.id, text, pending: true });
    try {
      const sealed = await encryptText(keys[0], text, { callId, senderId: me.id });
      const saved = await api.post(`/calls/${callId}/messages/`, { ...sealed, client_id: clientId }, { signal });
      shown.set(`id:${saved.id}`, shown.get(`client:${clientId}`));
      shown.get(`client:${clientId}`).classList.remove('pending');
      lastId = Math.max(lastId, saved.id);
    } catch (error) {
      if (error.name === 'AbortError') return;
      shown.get(`client:${clientId}`)?.remove();
      shown.delete(`client:${clientId}`);
      input.value = text;
      alert.hidden = false;
      alert.textContent = errorText(error);
    }
  });

  return {
    element,
    attach() {},
    /** @param {{safetyCode: string, keys: CryptoKey[]}} info */
    async setKeys(info) {
      keys = info.keys;
      code.textContent = info.safetyCode;
      input.disabled = false;
      sendButton.disabled = false;
      const waiting = undecrypted.splice(0);
      for (const message of waiting) await received(message);
    },
    received,
    /** Read what was written while we were away (or before this page loaded). */
    async catchUp() {
      try {
        let path = `/calls/${callId}/messages/${lastId ? `?after=${lastId}` : ''}`;
        for (let page = 0; page < 20 && path; page += 1) {
          const answer = await api.get(path, { signal });
          const items = Array.isArray(answer) ? answer : answer.results || [];
          for (const message of items) await received({ ...message, call_id: message.call_id ?? callId });
          path = !Array.isArray(answer) && answer.next ? `/calls/${callId}/messages/?after=${lastId}` : null;
        }
      } catch {
        // Messages stay as they are; the next reconnect reads them again.
      }
    },
    finish() {
      input.disabled = true;
      sendButton.disabled = true;
    },
  };
}

// --- rating -----------------------------------------------------------------------------------

function ratingDialog({ call, onRated }) {
  const titleId = `rating-title-${call.id}`;
  let stars = 0;
  const radios = [1, 2, 3, 4, 5].map((value) =>
    h(
      'label',
      { class: 'star-option' },
      h('input', { type: 'radio', name: 'stars', value: String(value), required: true }),
      h('span', { 'aria-hidden': 'true' }, '★'),
      h('span', { class: 'visually-hidden' }, interpolate(gettext('%(stars)s out of 5 stars'), { stars: value })),
    ),
  );
  const comment = h('textarea', { id: `rating-comment-${call.id}`, name: 'comment', maxlength: '1000', rows: '3' });
  const alert = formAlert();
  const submit = h('button', { type: 'submit', class: 'button primary' }, gettext('Send rating'));
  const form = h(
    'form',
    { class: 'stack' },
    h('fieldset', { class: 'star-rating' }, h('legend', null, gettext('How was the call?')), radios),
    h('div', { class: 'field' }, h('label', { for: comment.id }, gettext('Comment (optional)')), comment),
    alert,
    h(
      'div',
      { class: 'dialog-actions' },
      h('button', { type: 'button', class: 'button', onclick: () => dialog.close() }, gettext('Not now')),
      submit,
    ),
  );
  const dialog = h(
    'dialog',
    { class: 'dialog', 'aria-labelledby': titleId, 'data-testid': 'rating-dialog' },
    h('h2', { id: titleId }, interpolate(gettext('Rate your call with %(name)s'), { name: call.professional.display_name })),
    form,
  );
  form.addEventListener('change', () => {
    const checked = form.querySelector('input[name="stars"]:checked');
    stars = checked ? Number(checked.value) : 0;
    radios.forEach((label, index) => label.classList.toggle('lit', index < stars));
  });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!stars) {
      alert.hidden = false;
      alert.textContent = gettext('Choose from 1 to 5 stars.');
      return;
    }
    try {
      await whileBusy(submit, () => api.post(`/calls/${call.id}/rating/`, { stars, comment: comment.value.trim() }));
      onRated();
      dialog.close();
      toast(gettext('Thank you for your rating.'), { kind: 'success' });
    } catch (error) {
      if (error.code === 'calls.already_rated') {
        onRated();
        dialog.close();
        return;
      }
      alert.hidden = false;
      alert.textContent = errorText(error);
    }
  });
  dialog.addEventListener('close', () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
}
