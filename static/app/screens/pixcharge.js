// One PIX charge being paid: the QR code, the copy-and-paste BR Code, the amount and a live
// countdown to its expiry; then the outcome (paid, expired, under review).
//
// The socket tells the screen when the charge changes (`wallet.pix_charge.updated`, passed to
// update()). It is at most once, so while the charge waits the panel also asks the API every
// 10 seconds. In the sandbox a button pays the charge through the same path as the PSP's
// webhook, which is how a developer (or a browser test) sees the whole flow.

import { api } from '../api.js';
import { errorText, field, h, setChildren, toast, whileBusy } from '../components.js';
import { gettext, interpolate, ngettext } from '../i18n.js';
import { formatMoney, formatNumber, formatTokens } from '../money.js';
import { formatWait } from '../verification.js';

const POLL_MS = 10_000;
// After the expiry, a payment made at the last second may still be on its way.
const GRACE_MS = 2 * 60_000;
const WAITING = new Set(['creating', 'pending']);

/**
 * @param {{charge: object, sandbox: boolean, signal: AbortSignal,
 *          onPaid: (charge: object) => void, onClose: () => void}} options
 * @returns {{element: HTMLElement, id: number, update: (data: object) => void,
 *            refresh: () => Promise<void>, focus: () => void, stop: () => void}}
 */
export function chargePanel({ charge: first, sandbox, signal, onPaid, onClose }) {
  let charge = first;
  let countdownTimer = 0;
  let pollTimer = 0;
  const titleId = `charge-title-${charge.id}`;
  const content = h('div');
  // Outside the redrawn content, so what it announces is not cut off by a redraw.
  const live = h('p', { class: 'visually-hidden', role: 'status' });
  const element = h('section', { class: 'charge', 'aria-labelledby': titleId, 'data-testid': 'pix-charge' }, content, live);

  const stop = () => {
    clearInterval(countdownTimer);
    clearInterval(pollTimer);
  };

  const heading = (text) => h('h3', { id: titleId, tabindex: '-1' }, text);

  const closeButton = (label) => h('button', { type: 'button', class: 'button', onclick: onClose }, label);

  function drawWaiting() {
    const timer = h('p', { class: 'charge-timer', role: 'timer', 'aria-atomic': 'true' });
    const brCode = field({
      label: gettext('PIX copy and paste code'),
      name: 'br_code',
      control: h('textarea', { rows: '3', readonly: true, class: 'brcode', spellcheck: 'false' }),
    });
    brCode.input.value = charge.br_code || '';
    const copy = h('button', { type: 'button', class: 'button', onclick: () => copyText(charge.br_code) }, gettext('Copy code'));
    const simulate = sandbox
      ? h('button', { type: 'button', class: 'button', onclick: (event) => simulatePayment(event.currentTarget) }, gettext('Simulate payment (sandbox)'))
      : null;

    setChildren(
      content,
      heading(gettext('Pay with PIX')),
      h(
        'p',
        { class: 'charge-amount' },
        interpolate(gettext('%(tokens)s for %(price)s'), {
          tokens: formatTokens(charge.tokens),
          price: formatMoney(charge.amount_centavos),
        }),
      ),
      h('p', null, gettext("Open your bank's app, choose to pay with PIX, and scan the QR code or paste the code below.")),
      charge.qr_svg
        ? h(
            'div',
            { class: 'charge-code' },
            // The server makes this SVG, but it goes in as an image, never as markup: an image
            // cannot run scripts or reach the page.
            h('img', {
              class: 'qr-code',
              src: `data:image/svg+xml;base64,${base64(charge.qr_svg)}`,
              alt: gettext('QR code of the PIX payment'),
              width: '200',
              height: '200',
            }),
          )
        : h('p', { class: 'loading', role: 'status' }, gettext('Preparing the charge…')),
      charge.br_code ? [brCode.wrapper, h('div', { class: 'actions' }, copy)] : null,
      timer,
      simulate
        ? h(
            'div',
            { class: 'notice sandbox-notice' },
            h('p', null, gettext('Sandbox: no real money moves here. Pay this charge with the button below.')),
            simulate,
          )
        : null,
      h('p', null, closeButton(gettext('Choose another amount'))),
    );

    const deadline = Date.parse(charge.expires_at);
    const tick = () => {
      const left = (deadline - Date.now()) / 1000;
      timer.textContent =
        left > 0
          ? interpolate(gettext('This code expires in %(time)s.'), { time: formatWait(left) })
          : gettext('This code has expired. If you paid just now, wait a moment: we are still checking.');
      if (left <= 0) clearInterval(countdownTimer);
    };
    clearInterval(countdownTimer);
    tick();
    countdownTimer = setInterval(tick, 1000);
  }

  function drawPaid() {
    const message = interpolate(
      ngettext('Payment received: %(count)s token added.', 'Payment received: %(count)s tokens added.', charge.tokens),
      { count: formatNumber(charge.tokens) },
    );
    content.replaceChildren(
      h(
        'div',
        { class: 'success-card' },
        heading(gettext('Payment received')),
        h('p', { class: 'charge-paid', 'data-testid': 'charge-paid' }, message),
        closeButton(gettext('Buy more tokens')),
      ),
    );
    live.textContent = message;
  }

  function drawClosed() {
    const texts = {
      expired: [gettext('This charge expired'), gettext('Nothing was charged. Choose an amount to create a new charge.')],
      failed: [gettext('This charge could not be created'), gettext('Nothing was charged. Please try again.')],
      review: [
        gettext('Payment under review'),
        gettext('We received a payment for this charge that our team needs to check, for example because the amount differs. We will add your tokens or return the money, and let you know.'),
      ],
    };
    const [title, text] = texts[charge.status] || [charge.status, ''];
    content.replaceChildren(heading(title), h('p', null, text), closeButton(gettext('Close')));
    live.textContent = title;
  }

  function draw() {
    const hadFocus = element.contains(document.activeElement);
    if (WAITING.has(charge.status)) drawWaiting();
    else {
      stop();
      if (charge.status === 'paid') drawPaid();
      else drawClosed();
    }
    // Focus was on a button that is gone: keep it in the panel.
    if (hadFocus && !element.contains(document.activeElement)) content.querySelector('h3').focus();
  }

  /** Apply a newer state (the API's charge, or an event's subset of it). */
  function update(data) {
    if (Number(data.id) !== charge.id) return;
    const before = charge.status;
    charge = { ...charge, ...data };
    if (charge.status === before) return; // nothing to redraw; a waiting one keeps counting
    draw();
    if (charge.status === 'paid') onPaid(charge);
  }

  async function refresh() {
    if (!WAITING.has(charge.status)) return;
    try {
      update(await api.get(`/wallet/topups/${charge.id}/`, { signal }));
    } catch (error) {
      if (error.name === 'AbortError') return;
      // Offline for a moment: the next poll (or the reconnect) tries again.
    }
    if (WAITING.has(charge.status) && Date.now() > Date.parse(charge.expires_at) + GRACE_MS) stop();
  }

  async function simulatePayment(button) {
    try {
      update(await whileBusy(button, () => api.post(`/wallet/topups/${charge.id}/simulate-payment/`, {}, { signal })));
    } catch (error) {
      if (error.name !== 'AbortError') toast(errorText(error), { kind: 'error' });
    }
  }

  draw();
  pollTimer = setInterval(refresh, POLL_MS);

  return {
    element,
    id: charge.id,
    update,
    refresh,
    stop,
    focus: () => content.querySelector('h3').focus(),
  };
}

function base64(text) {
  let binary = '';
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** Copy to the clipboard and say so; the clipboard needs a secure context and permission. */
async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    toast(gettext('Copied.'), { kind: 'success' });
  } catch {
    toast(gettext('Could not copy. Select the text and copy it yourself.'), { kind: 'error' });
  }
}
