// A professional's earnings: what is in clearing, available, being withdrawn and withdrawn;
// the withdrawal form (to a PIX key, approved by our team); the withdrawals with their status,
// live through `wallet.payout.updated`; and the history of the earnings accounts.

import { api } from '../api.js';
import { getUser, loadMe } from '../auth.js';
import { clearFormError, errorText, field, formAlert, h, loading, showFormError, toast, whileBusy } from '../components.js';
import { formatDateTime, gettext, interpolate, ngettext } from '../i18n.js';
import { apiPathOf, formatMoney, formatNumber, formatTokens, moneyAction, serialized, statusBadge } from '../money.js';
import { socket } from '../socket.js';
import { statementSection } from './statement.js';

export function render({ main, setTitle, signal, onCleanup, onResync }) {
  setTitle(gettext('Earnings'));
  main.append(h('h1', null, gettext('Earnings')));
  if (getUser().account_type !== 'professional') {
    main.append(
      h(
        'section',
        { class: 'card' },
        h('p', null, gettext('Earnings are for professional accounts: professionals receive what clients pay for their calls.')),
        h('p', null, h('a', { href: '/profile', class: 'button primary' }, gettext('Become a professional'))),
      ),
    );
    return;
  }

  const summary = summaryCard({ signal });
  const payouts = payoutsSection({ signal });
  const withdraw = withdrawSection({
    summary,
    onRequested: (payout) => {
      payouts.add(payout);
      summary.load();
    },
  });
  const history = statementSection({
    title: gettext('Earnings history'),
    accounts: [
      ['earnings', gettext('Available earnings')],
      ['clearing', gettext('Earnings in clearing')],
    ],
    signal,
    onCleanup,
  });
  main.append(
    h('p', { class: 'lead' }, gettext('What you earn from calls, and withdrawals to your PIX key.')),
    summary.element,
    withdraw.element,
    payouts.element,
    history.element,
  );

  // One request after the other (SQLite, see security.js).
  const loadAll = async () => {
    await summary.load();
    await payouts.load();
    await history.load();
  };
  const afterMoneyMoved = serialized(async () => {
    await summary.load();
    await history.load();
  });
  const stopListening = [
    socket.on('wallet.balance.changed', (data) => {
      if (data.account === 'earnings' || data.account === 'earnings_pending') afterMoneyMoved();
    }),
    socket.on('wallet.payout.updated', (data) => {
      payouts.updated(data);
      afterMoneyMoved();
    }),
  ];
  onCleanup(() => stopListening.forEach((stop) => stop()));
  onResync(async () => {
    // Verification may have changed elsewhere (the identity check approved, say).
    const me = await loadMe().catch(() => null);
    if (me) withdraw.drawGate(me);
    await loadAll();
  });
  loadAll();
}

// --- Figures -----------------------------------------------------------------------------------

function summaryCard({ signal }) {
  const body = h('div', null, loading());
  const element = h(
    'section',
    { class: 'card', 'aria-labelledby': 'earnings-title', 'data-testid': 'earnings-summary' },
    h('h2', { id: 'earnings-title' }, gettext('Your earnings')),
    body,
  );
  const card = { element, data: null, listeners: new Set() };

  const figure = (label, tokens, testid) =>
    h(
      'div',
      { class: 'figure', 'data-testid': testid },
      h('p', { class: 'figure-label' }, label),
      h('p', { class: 'figure-value' }, formatTokens(tokens)),
      h('p', { class: 'muted' }, formatMoney(tokens * card.data.token_value_centavos)),
    );

  const draw = () => {
    const data = card.data;
    body.replaceChildren(
      h(
        'div',
        { class: 'figures' },
        figure(gettext('Available'), data.available, 'earnings-available'),
        figure(gettext('In clearing'), data.pending, 'earnings-pending'),
        figure(gettext('Being withdrawn'), data.in_withdrawal, 'earnings-in-withdrawal'),
        figure(gettext('Withdrawn'), data.withdrawn, 'earnings-withdrawn'),
      ),
      h(
        'p',
        { class: 'muted' },
        interpolate(
          ngettext(
            'Earnings become available %(days)s day after each call: the time a client has to dispute a charge.',
            'Earnings become available %(days)s days after each call: the time a client has to dispute a charge.',
            data.clearing_days,
          ),
          { days: data.clearing_days },
        ),
      ),
    );
  };

  card.load = serialized(async () => {
    try {
      card.data = await api.get('/wallet/earnings/', { signal });
      draw();
      card.listeners.forEach((listener) => listener(card.data));
    } catch (error) {
      if (error.name === 'AbortError' || (card.data && error.code === 'network_error')) return;
      body.replaceChildren(h('p', { class: 'error-text', role: 'alert' }, errorText(error)));
    }
  });
  /** @param {(data: object) => void} listener told after every fresh read */
  card.onLoad = (listener) => card.listeners.add(listener);
  return card;
}

// --- Withdrawing -------------------------------------------------------------------------------

/** What each kind of PIX key looks like, for the key field's hint and keyboard. */
function keyTypes() {
  return {
    cpf: {
      label: gettext('CPF'),
      hint: gettext('The 11 digits of your CPF, with or without dots and dash.'),
      placeholder: '000.000.000-00',
      inputmode: 'numeric',
      type: 'text',
      autocomplete: 'off',
    },
    cnpj: {
      label: gettext('CNPJ'),
      hint: gettext('The 14 characters of the CNPJ, with or without punctuation.'),
      placeholder: '00.000.000/0000-00',
      inputmode: 'text',
      type: 'text',
      autocomplete: 'off',
    },
    email: {
      label: gettext('E-mail'),
      hint: gettext('The e-mail address registered as your PIX key.'),
      placeholder: gettext('name@example.com'),
      inputmode: 'email',
      type: 'email',
      autocomplete: 'email',
    },
    phone: {
      label: gettext('Mobile phone'),
      hint: gettext('The mobile number registered as your PIX key, with area code.'),
      placeholder: '+55 (11) 98765-4321',
      inputmode: 'tel',
      type: 'tel',
      autocomplete: 'tel',
    },
    random: {
      label: gettext('Random key'),
      hint: gettext('The random key your bank created: 32 letters and digits, in groups joined by dashes.'),
      placeholder: '123e4567-e89b-12d3-a456-426614174000',
      inputmode: 'text',
      type: 'text',
      autocomplete: 'off',
    },
  };
}

function withdrawSection({ summary, onRequested }) {
  // One key per withdrawal, kept while that withdrawal is retried on this visit (see money.js).
  const requestPayout = moneyAction('/wallet/payouts/');
  const gate = h('div');
  const types = keyTypes();
  const amount = field({
    label: gettext('Amount (tokens)'),
    name: 'amount',
    type: 'number',
    inputmode: 'numeric',
    step: '1',
    required: true,
    hint: gettext('A whole number of tokens.'),
  });
  const value = h('output', { class: 'custom-price', for: amount.input.id, 'aria-live': 'polite' });
  const keyType = field({
    label: gettext('Type of PIX key'),
    name: 'pix_key_type',
    control: h('select', null, Object.entries(types).map(([type, info]) => h('option', { value: type }, info.label))),
  });
  const key = field({ label: gettext('PIX key'), name: 'pix_key', required: true, maxlength: 120, spellcheck: 'false', hint: types.cpf.hint });
  const fields = [amount, keyType, key];
  const alert = formAlert();
  const submit = h('button', { type: 'submit', class: 'button primary' }, gettext('Request withdrawal'));
  const form = h(
    'form',
    { class: 'stack', novalidate: true },
    alert,
    amount.wrapper,
    value,
    keyType.wrapper,
    key.wrapper,
    h('p', { class: 'muted' }, gettext('Our team approves each withdrawal before the PIX is sent. The money goes only to a key in your name.')),
    submit,
  );
  const element = h(
    'section',
    { class: 'card', 'aria-labelledby': 'withdraw-title' },
    h('h2', { id: 'withdraw-title' }, gettext('Withdraw earnings')),
    gate,
    form,
  );

  const hintOf = (f) => f.wrapper.querySelector('.field-hint');
  const showKeyType = () => {
    const info = types[keyType.input.value];
    key.input.type = info.type;
    key.input.inputMode = info.inputmode;
    key.input.placeholder = info.placeholder;
    key.input.autocomplete = info.autocomplete;
    hintOf(key).textContent = info.hint;
  };
  keyType.input.addEventListener('change', () => {
    key.setError(undefined);
    showKeyType();
  });
  showKeyType();

  const showValue = () => {
    const count = Number(amount.input.value);
    value.textContent =
      summary.data && Number.isInteger(count) && count > 0
        ? interpolate(gettext('You receive %(money)s.'), { money: formatMoney(count * summary.data.token_value_centavos) })
        : '';
  };
  amount.input.addEventListener('input', showValue);
  summary.onLoad((data) => {
    amount.input.min = String(data.min_payout);
    amount.input.max = String(data.available);
    hintOf(amount).textContent = interpolate(gettext('At least %(min)s tokens. Available now: %(available)s.'), {
      min: formatNumber(data.min_payout),
      available: formatTokens(data.available),
    });
    showValue();
  });

  /** Whether the person may withdraw (identity verified, phone confirmed); if not, the way there. */
  const drawGate = (user) => {
    const missing = user.missing?.withdraw || [];
    form.hidden = missing.length > 0;
    gate.replaceChildren(missing.length ? gateNotice(missing) : '');
  };
  drawGate(getUser());

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFormError(fields, alert);
    const count = Number(amount.input.value);
    const data = summary.data;
    if (!Number.isInteger(count) || count <= 0) {
      amount.setError([gettext('Enter a whole number of tokens.')]);
      amount.input.focus();
      return;
    }
    if (data && count > data.available) {
      amount.setError([gettext('That is more than you have available.')]);
      amount.input.focus();
      return;
    }
    if (!key.input.value.trim()) {
      key.setError([gettext('Enter your PIX key.')]);
      key.input.focus();
      return;
    }
    try {
      const payout = await whileBusy(submit, () =>
        requestPayout({ amount: count, pix_key_type: keyType.input.value, pix_key: key.input.value.trim() }),
      );
      form.reset();
      showKeyType();
      showValue();
      toast(gettext('Withdrawal requested. It is waiting for approval by our team.'), { kind: 'success' });
      onRequested(payout);
    } catch (error) {
      if (error.code === 'accounts.kyc_not_approved' || error.code === 'accounts.phone_not_verified') {
        gate.replaceChildren(gateNotice(error.extra.missing || []));
        gate.querySelector('a')?.focus();
        loadMe().catch(() => {});
        return;
      }
      if (error.code === 'wallet.insufficient_funds') summary.load();
      showFormError(fields, alert, payoutError(error));
    }
  });

  return { element, drawGate };
}

/** Why the person cannot withdraw yet, with the way to fix it. */
function gateNotice(missing) {
  const kyc = missing.includes('kyc_approved');
  return h(
    'div',
    { class: 'notice warning spaced', 'data-testid': 'withdraw-gate' },
    kyc
      ? [
          h('p', null, gettext('Before your first withdrawal, we need to verify your identity. It protects your money: only you can withdraw it.')),
          h('p', null, h('a', { href: '/kyc', class: 'button primary' }, gettext('Verify your identity'))),
        ]
      : null,
    missing.includes('phone_verified')
      ? [
          h('p', null, gettext('Confirm your mobile phone before you withdraw.')),
          h('p', null, h('a', { href: '/verify', class: kyc ? 'button' : 'button primary' }, gettext('Verify now'))),
        ]
      : null,
  );
}

/** Put each refusal where the person fixes it: the amount, the key, or the form. */
function payoutError(error) {
  const onField = (name, message) => ({ code: 'validation_error', extra: { fields: { [name]: [message] } } });
  if (error.code === 'wallet.insufficient_funds') {
    return onField('amount', gettext('That is more than you have available.'));
  }
  if (error.code === 'wallet.invalid_payout') {
    if (error.extra.field === 'pix_key') return onField('pix_key', error.message);
    if (error.extra.min !== undefined) {
      return onField('amount', interpolate(gettext('The smallest withdrawal is %(min)s tokens.'), { min: formatNumber(error.extra.min) }));
    }
    return onField('amount', error.message);
  }
  return error;
}

// --- Withdrawals -------------------------------------------------------------------------------

function payoutStatus(status) {
  const badges = {
    requested: [gettext('Waiting for approval'), 'warning'],
    approved: [gettext('Approved'), ''],
    sending: [gettext('Sending'), ''],
    paid: [gettext('Sent'), 'success'],
    failed: [gettext('Failed'), 'danger'],
    rejected: [gettext('Refused'), 'danger'],
  };
  const [text, tone] = badges[status] || [status, ''];
  return statusBadge(text, tone);
}

function payoutsSection({ signal }) {
  let payouts = [];
  let next = null;
  let loaded = false;
  const body = h('div', null, loading());
  const more = h('button', { type: 'button', class: 'button', hidden: true }, gettext('Load more'));
  const element = h(
    'section',
    { class: 'card', 'aria-labelledby': 'payouts-title', 'data-testid': 'payouts' },
    h('h2', { id: 'payouts-title' }, gettext('Your withdrawals')),
    body,
    h('div', { class: 'pagination' }, more),
  );
  const types = keyTypes();

  const draw = () => {
    more.hidden = !next;
    if (payouts.length === 0) {
      body.replaceChildren(h('p', { class: 'muted' }, gettext('No withdrawals yet.')));
      return;
    }
    body.replaceChildren(
      h(
        'table',
        { class: 'data-table', 'aria-labelledby': 'payouts-title' },
        h(
          'thead',
          null,
          h(
            'tr',
            null,
            h('th', { scope: 'col' }, gettext('Date')),
            h('th', { scope: 'col', class: 'number' }, gettext('Amount')),
            h('th', { scope: 'col' }, gettext('PIX key')),
            h('th', { scope: 'col' }, gettext('Status')),
          ),
        ),
        h(
          'tbody',
          null,
          payouts.map((payout) => {
            const reason = payout.rejection_reason || payout.failure_reason;
            return h(
              'tr',
              { 'data-payout-id': String(payout.id) },
              h('td', { 'data-label': gettext('Date') }, formatDateTime(new Date(payout.created_at))),
              h(
                'td',
                { 'data-label': gettext('Amount'), class: 'number' },
                formatTokens(payout.amount),
                h('span', { class: 'line-reference muted' }, formatMoney(payout.amount_centavos)),
              ),
              h(
                'td',
                { 'data-label': gettext('PIX key') },
                interpolate(gettext('%(type)s: %(key)s'), {
                  type: types[payout.pix_key_type]?.label || payout.pix_key_type,
                  key: payout.pix_key,
                }),
              ),
              h(
                'td',
                { 'data-label': gettext('Status') },
                payoutStatus(payout.status),
                reason ? h('span', { class: 'line-reference' }, reason) : null,
              ),
            );
          }),
        ),
      ),
    );
  };

  const load = serialized(async () => {
    try {
      const page = await api.get('/wallet/payouts/', { signal });
      payouts = page.results;
      next = page.next;
      loaded = true;
      draw();
    } catch (error) {
      if (error.name === 'AbortError' || (loaded && error.code === 'network_error')) return;
      body.replaceChildren(h('p', { class: 'error-text', role: 'alert' }, errorText(error)));
    }
  });

  more.addEventListener('click', async () => {
    try {
      const page = await whileBusy(more, () => api.get(apiPathOf(next), { signal }));
      const known = new Set(payouts.map((payout) => payout.id));
      payouts = payouts.concat(page.results.filter((payout) => !known.has(payout.id)));
      next = page.next;
      draw();
    } catch (error) {
      if (error.name !== 'AbortError') toast(errorText(error), { kind: 'error' });
    }
  });

  return {
    element,
    load,
    /** A withdrawal just requested here: first in the list (it is the newest). */
    add(payout) {
      if (!payouts.some((item) => item.id === payout.id)) payouts.unshift(payout);
      loaded = true;
      draw();
    },
    /** An event: a status we can apply in place, or a withdrawal we do not show yet. */
    updated(data) {
      const known = payouts.find((item) => item.id === Number(data.id));
      // Reasons and dates come only with the full record: read the list again when it changed.
      if (!known || known.status !== data.status) load();
    },
  };
}
