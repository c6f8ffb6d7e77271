// The wallet: the token balance, buying tokens with PIX, the history with receipts, and
// disputes. The balance follows `wallet.balance.changed` live, so a payment shows up without
// reloading; after a reconnect everything is read again through REST (DESIGN §5).

import { api } from '../api.js';
import { getUser, loadMe } from '../auth.js';
import { clearFormError, errorText, field, formAlert, h, loading, setChildren, showFormError, whileBusy } from '../components.js';
import { gettext, interpolate } from '../i18n.js';
import { formatMoney, formatTokens, moneyAction, serialized } from '../money.js';
import { socket } from '../socket.js';
import { disputesSection } from './disputes.js';
import { chargePanel } from './pixcharge.js';
import { statementSection } from './statement.js';

export function render({ main, setTitle, signal, onCleanup, onResync }) {
  setTitle(gettext('Wallet'));
  const balance = balanceCard({ signal });
  const afterPayment = serialized(async () => {
    await balance.load();
    await history.load();
  });
  const buy = buySection({ signal, onCleanup, onPaid: afterPayment });
  const disputes = disputesSection({ signal, onCleanup, onChargesChanged: () => history.redraw() });
  const history = statementSection({
    title: gettext('History'),
    accounts: [['wallet', gettext('Wallet')]],
    signal,
    onCleanup,
    lineActions: (line, seen) => disputes.actionFor(line, seen),
  });
  main.append(h('h1', null, gettext('Wallet')), balance.element, buy.element, history.element, disputes.element);

  // One request after the other: SQLite (the embedded database) takes one write at a time,
  // and every request of a signed-in browser writes its "last seen" (see security.js).
  const loadAll = async () => {
    await balance.load();
    await buy.load();
    await history.load();
    await disputes.load();
  };
  const afterMoneyMoved = serialized(async () => {
    await history.load();
    await disputes.loadCharges();
  });

  const stopListening = [
    socket.on('wallet.balance.changed', (data) => {
      if (data.account !== 'client_wallet' || data.asset !== 'token') return;
      balance.show(data);
      afterMoneyMoved();
    }),
    socket.on('wallet.pix_charge.updated', (data) => buy.chargeUpdated(data)),
    socket.on('wallet.dispute.updated', () => disputes.loadList()),
  ];
  onCleanup(() => stopListening.forEach((stop) => stop()));
  onResync(async () => {
    await loadAll();
    await buy.refreshCharge();
  });
  loadAll();
}

// --- Balance -----------------------------------------------------------------------------------

function balanceCard({ signal }) {
  const available = h('p', { class: 'figure-value', 'data-testid': 'balance-available' });
  const held = h('p', { class: 'muted' });
  const body = h('div', null, loading());
  const element = h(
    'section',
    { class: 'card', 'aria-labelledby': 'balance-title' },
    h('h2', { id: 'balance-title' }, gettext('Balance')),
    body,
  );
  let shown = false;

  /** @param {{available: number, held: number}} wallet */
  const show = (wallet) => {
    available.textContent = formatTokens(wallet.available);
    held.hidden = !wallet.held;
    held.textContent = wallet.held
      ? interpolate(gettext('Plus %(held)s reserved for calls and queues in progress.'), { held: formatTokens(wallet.held) })
      : '';
    if (!shown) {
      shown = true;
      // Polite live region: a new balance is read out without interrupting.
      body.replaceChildren(
        h('div', { class: 'figure', 'aria-live': 'polite' }, h('p', { class: 'figure-label' }, gettext('Available')), available, held),
      );
    }
  };

  const load = async () => {
    try {
      show(await api.get('/wallet/', { signal }));
    } catch (error) {
      if (error.name === 'AbortError' || (shown && error.code === 'network_error')) return;
      shown = false;
      body.replaceChildren(h('p', { class: 'error-text', role: 'alert' }, errorText(error)));
    }
  };
  return { element, load, show };
}

// --- Buying tokens -----------------------------------------------------------------------------

function buySection({ signal, onCleanup, onPaid }) {
  // One key per purchase, kept while that purchase is retried on this visit (see money.js).
  const buyTokens = moneyAction('/wallet/topups/');
  let catalog = null;
  let charge = null; // the chargePanel being paid, if any

  const choices = h('div', null, loading());
  const chargeArea = h('div');
  const alert = formAlert();
  alert.classList.add('spaced');
  const verification = h('div');
  const titleId = 'buy-title';
  const element = h(
    'section',
    { class: 'card', 'aria-labelledby': titleId },
    h('h2', { id: titleId, tabindex: '-1' }, gettext('Buy tokens')),
    h('p', { class: 'muted' }, gettext('Pay with PIX: the tokens arrive as soon as the payment is confirmed, usually in seconds.')),
    verification,
    alert,
    choices,
    chargeArea,
  );
  onCleanup(() => charge?.stop());

  const drawVerification = (user) => {
    const steps = (user.missing?.buy_tokens || []).filter((step) => step === 'email_verified' || step === 'phone_verified');
    verification.replaceChildren(steps.length ? verifyNotice() : '');
  };
  drawVerification(getUser());

  const drawChoices = () => {
    const { packages, custom_min: min, custom_max: max, token_value_centavos: tokenValue } = catalog;
    const custom = field({
      label: gettext('Number of tokens'),
      name: 'tokens',
      type: 'number',
      inputmode: 'numeric',
      min: String(min),
      max: String(max),
      step: '1',
      required: true,
      hint: interpolate(gettext('From %(min)s to %(max)s tokens, %(price)s each.'), {
        min,
        max,
        price: formatMoney(tokenValue),
      }),
    });
    const price = h('output', { class: 'custom-price', for: custom.input.id, 'aria-live': 'polite' });
    const showPrice = () => {
      const count = Number(custom.input.value);
      price.textContent =
        Number.isInteger(count) && count >= min && count <= max
          ? interpolate(gettext('Price: %(price)s'), { price: formatMoney(count * tokenValue) })
          : '';
    };
    custom.input.addEventListener('input', showPrice);
    const submit = h('button', { type: 'submit', class: 'button primary' }, gettext('Buy this amount'));
    const form = h('form', { class: 'stack custom-amount', novalidate: true }, custom.wrapper, price, submit);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      custom.setError(undefined);
      const count = Number(custom.input.value);
      if (!Number.isInteger(count) || count < min || count > max) {
        custom.setError([interpolate(gettext('Choose between %(min)s and %(max)s tokens.'), { min, max })]);
        custom.input.focus();
        return;
      }
      buy(submit, { tokens: count }, custom);
    });

    setChildren(
      choices,
      packages.length
        ? h(
            'ul',
            { class: 'package-grid' },
            packages.map((item) =>
              h(
                'li',
                { class: 'package' },
                h('h3', null, item.name),
                h('p', { class: 'package-tokens' }, formatTokens(item.tokens)),
                h('p', { class: 'package-price' }, formatMoney(item.price_centavos)),
                h(
                  'button',
                  {
                    type: 'button',
                    class: 'button primary',
                    'aria-label': interpolate(gettext('Buy %(package)s'), { package: item.name }),
                    onclick: (event) => buy(event.currentTarget, { package_id: item.id }),
                  },
                  gettext('Buy'),
                ),
              ),
            ),
          )
        : null,
      h('h3', null, gettext('Another amount')),
      form,
    );
  };

  /** Create the charge and show it; `custom` is the field that chose the amount, if any. */
  async function buy(button, body, custom) {
    clearFormError(custom ? [custom] : [], alert);
    try {
      const created = await whileBusy(button, () => buyTokens(body, { signal }));
      showCharge(created);
    } catch (error) {
      if (error.name === 'AbortError') return;
      if (error.code === 'accounts.email_not_verified' || error.code === 'accounts.phone_not_verified') {
        verification.replaceChildren(verifyNotice());
        verification.querySelector('a').focus();
        loadMe().catch(() => {});
        return;
      }
      if (error.code === 'wallet.unknown_package') load();
      showFormError(custom ? [custom] : [], alert, buyError(error, custom));
    }
  }

  function showCharge(created) {
    charge?.stop();
    charge = chargePanel({
      charge: created,
      sandbox: Boolean(catalog && catalog.sandbox),
      signal,
      onPaid,
      onClose: closeCharge,
    });
    choices.hidden = true;
    chargeArea.replaceChildren(charge.element);
    charge.focus();
  }

  function closeCharge() {
    charge?.stop();
    charge = null;
    chargeArea.replaceChildren();
    choices.hidden = false;
    element.querySelector(`#${titleId}`).focus();
  }

  const load = async () => {
    try {
      catalog = await api.get('/wallet/packages/', { signal });
      drawChoices();
    } catch (error) {
      if (error.name === 'AbortError' || (catalog && error.code === 'network_error')) return;
      choices.replaceChildren(h('p', { class: 'error-text', role: 'alert' }, errorText(error)));
    }
  };

  return {
    element,
    load,
    chargeUpdated: (data) => charge?.update(data),
    refreshCharge: async () => charge?.refresh(),
  };
}

function verifyNotice() {
  return h(
    'div',
    { class: 'notice warning spaced' },
    h('p', null, gettext('To buy tokens, first confirm your e-mail address and your mobile phone.')),
    h('p', null, h('a', { href: '/verify', class: 'button primary' }, gettext('Verify now'))),
  );
}

/** Our wording for the refusals of a purchase; the field's own when it chose the amount. */
function buyError(error, custom) {
  const messages = {
    'wallet.unknown_package': gettext('This package is no longer on sale. The list was updated: please choose again.'),
    'wallet.pix_unavailable': gettext('PIX is unavailable right now. Nothing was charged; please try again in a moment.'),
  };
  if (messages[error.code]) return { code: error.code, message: messages[error.code] };
  if (error.code === 'wallet.invalid_amount' && error.extra.min !== undefined) {
    const message = interpolate(gettext('Choose between %(min)s and %(max)s tokens.'), error.extra);
    return custom ? { code: 'validation_error', extra: { fields: { tokens: [message] } } } : { code: error.code, message };
  }
  return error;
}
