// Disputes on /wallet: the charges the person can still contest, the form that contests one
// (a modal <dialog>), and their disputes with how each was resolved.

import { api } from '../api.js';
import { clearFormError, errorText, field, formAlert, h, loading, showFormError, toast, whileBusy } from '../components.js';
import { formatDateTime, gettext, interpolate } from '../i18n.js';
import { apiPathOf, formatTokens, moneyAction, referenceLabel, serialized, statusBadge } from '../money.js';

function reasonLabels() {
  return {
    not_delivered: gettext('The call did not happen'),
    quality: gettext('Poor quality'),
    overcharged: gettext('Charged more than expected'),
    other: gettext('Other'),
  };
}

function disputeStatus(status) {
  switch (status) {
    case 'open':
      return statusBadge(gettext('Under review'), 'warning');
    case 'refunded':
      return statusBadge(gettext('Refunded'), 'success');
    case 'rejected':
      return statusBadge(gettext('Rejected'), 'danger');
    default:
      return statusBadge(status);
  }
}

/**
 * @param {{signal: AbortSignal, onCleanup: (cleanup: () => void) => void,
 *          onChargesChanged: () => void}} options
 *   onChargesChanged: the set of disputable charges changed (the statement redraws its buttons)
 */
export function disputesSection({ signal, onCleanup, onChargesChanged }) {
  /** reference -> amount, of the charges that can still be disputed */
  let disputable = new Map();
  /** reference -> the moment it can no longer be disputed */
  let until = new Map();
  let disputes = [];
  let next = null;

  const chargesBody = h('div', null, loading());
  const listBody = h('div', null, loading());
  const more = h('button', { type: 'button', class: 'button', hidden: true }, gettext('Load more'));
  const element = h(
    'section',
    { class: 'card', 'aria-labelledby': 'disputes-title', 'data-testid': 'disputes' },
    h('h2', { id: 'disputes-title' }, gettext('Disputes')),
    h('p', { class: 'muted' }, gettext('Something wrong with a call? You can dispute its charge for a few days after it, until the date shown next to it. Our team reviews each dispute and refunds what is owed.')),
    h('h3', null, gettext('Charges you can dispute')),
    chargesBody,
    h('h3', null, gettext('Your disputes')),
    listBody,
    h('div', { class: 'pagination' }, more),
  );

  const open = (reference, opener) =>
    disputeDialog({
      reference,
      amount: disputable.get(reference),
      opener,
      onCleanup,
      onOpened: () => {
        loadCharges();
        loadList();
      },
    });

  const drawCharges = () => {
    if (disputable.size === 0) {
      chargesBody.replaceChildren(h('p', { class: 'muted' }, gettext('No charges to dispute.')));
      return;
    }
    chargesBody.replaceChildren(
      h(
        'ul',
        { class: 'plain-list' },
        [...disputable].map(([reference, amount]) =>
          h(
            'li',
            null,
            h('span', null, referenceLabel(reference)),
            h('span', { class: 'muted' }, formatTokens(amount)),
            h('span', { class: 'muted' }, interpolate(gettext('until %(date)s'), { date: formatDateTime(until.get(reference)) })),
            disputeButton(reference),
          ),
        ),
      ),
    );
  };

  const disputeButton = (reference) =>
    h(
      'button',
      {
        type: 'button',
        class: 'button',
        'aria-label': interpolate(gettext('Dispute %(charge)s'), { charge: referenceLabel(reference) }),
        onclick: (event) => open(reference, event.currentTarget),
      },
      gettext('Dispute'),
    );

  const drawList = () => {
    more.hidden = !next;
    if (disputes.length === 0) {
      listBody.replaceChildren(h('p', { class: 'muted' }, gettext('You have not disputed any charge.')));
      return;
    }
    const reasons = reasonLabels();
    listBody.replaceChildren(
      h(
        'ul',
        { class: 'plain-list' },
        disputes.map((dispute) =>
          h(
            'li',
            { 'data-dispute-id': String(dispute.id) },
            h(
              'div',
              { class: 'item-main' },
              h('strong', null, referenceLabel(dispute.reference)),
              h('span', { class: 'muted' }, reasons[dispute.reason] || dispute.reason),
              h('span', { class: 'muted' }, formatDateTime(new Date(dispute.created_at))),
              dispute.refunded_amount
                ? h('span', null, interpolate(gettext('Refunded: %(amount)s'), { amount: formatTokens(dispute.refunded_amount) }))
                : null,
              dispute.resolution_note ? h('span', null, dispute.resolution_note) : null,
            ),
            disputeStatus(dispute.status),
          ),
        ),
      ),
    );
  };

  // The call history links here with ?dispute=<reference>: open that charge's form once.
  let requested = new URLSearchParams(window.location.search).get('dispute');
  const openRequested = () => {
    if (!requested || !disputable.has(requested)) return;
    const reference = requested;
    requested = null;
    open(reference, element.querySelector('#disputes-title'));
  };

  const loadCharges = serialized(async () => {
    try {
      const rows = await api.get('/wallet/disputes/charges/', { signal });
      disputable = new Map(rows.map((row) => [row.reference, row.amount]));
      until = new Map(rows.map((row) => [row.reference, new Date(row.disputable_until)]));
      drawCharges();
      onChargesChanged();
      openRequested();
    } catch (error) {
      if (error.name !== 'AbortError') chargesBody.replaceChildren(h('p', { class: 'error-text' }, errorText(error)));
    }
  });

  const loadList = serialized(async () => {
    try {
      const page = await api.get('/wallet/disputes/', { signal });
      disputes = page.results;
      next = page.next;
      drawList();
    } catch (error) {
      if (error.name !== 'AbortError') listBody.replaceChildren(h('p', { class: 'error-text' }, errorText(error)));
    }
  });

  more.addEventListener('click', async () => {
    try {
      const page = await whileBusy(more, () => api.get(apiPathOf(next), { signal }));
      const known = new Set(disputes.map((dispute) => dispute.id));
      disputes = disputes.concat(page.results.filter((dispute) => !known.has(dispute.id)));
      next = page.next;
      drawList();
    } catch (error) {
      if (error.name !== 'AbortError') toast(errorText(error), { kind: 'error' });
    }
  });

  return {
    element,
    /** One request after the other (SQLite, see security.js). */
    async load() {
      await loadCharges();
      await loadList();
    },
    loadCharges,
    loadList,
    /** The statement's "Dispute" button, on the first line of each disputable charge. */
    actionFor(line, seen) {
      if (!disputable.has(line.reference) || seen.has(line.reference)) return null;
      return disputeButton(line.reference);
    },
  };
}

/** The dispute form, in a modal dialog; focus returns to `opener` when it closes. */
function disputeDialog({ reference, amount, opener, onCleanup, onOpened }) {
  // One key per dispute, kept while it is retried from this dialog (see money.js).
  const sendDispute = moneyAction('/wallet/disputes/');
  const titleId = 'dispute-dialog-title';
  const reasons = reasonLabels();
  const reason = field({
    label: gettext('Reason'),
    name: 'reason',
    control: h(
      'select',
      { required: true },
      h('option', { value: '' }, gettext('Choose a reason')),
      Object.entries(reasons).map(([value, label]) => h('option', { value }, label)),
    ),
  });
  const description = field({
    label: gettext('What happened?'),
    name: 'description',
    control: h('textarea', { rows: '4', maxlength: '2000' }),
    hint: gettext('Optional, but details help our team decide.'),
  });
  const fields = [reason, description];
  const alert = formAlert();
  const submit = h('button', { type: 'submit', class: 'button primary' }, gettext('Send dispute'));
  const cancel = h('button', { type: 'button', class: 'button' }, gettext('Cancel'));
  const form = h(
    'form',
    { class: 'stack', novalidate: true },
    h('h2', { id: titleId }, gettext('Dispute a charge')),
    h(
      'dl',
      { class: 'facts' },
      h('dt', null, gettext('Charge')),
      h('dd', null, referenceLabel(reference)),
      amount ? [h('dt', null, gettext('Amount')), h('dd', null, formatTokens(amount))] : null,
    ),
    alert,
    reason.wrapper,
    description.wrapper,
    h('div', { class: 'dialog-actions' }, cancel, submit),
  );
  const dialog = h('dialog', { class: 'dialog', 'aria-labelledby': titleId }, form);
  cancel.addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => {
    dialog.remove();
    if (opener && opener.isConnected) opener.focus();
  });
  onCleanup(() => dialog.isConnected && dialog.close());

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFormError(fields, alert);
    if (!reason.input.value) {
      reason.setError([gettext('Choose a reason.')]);
      reason.input.focus();
      return;
    }
    try {
      await whileBusy(submit, () =>
        sendDispute({ reference, reason: reason.input.value, description: description.input.value.trim() }),
      );
      dialog.close();
      toast(gettext('Dispute sent. Our team will review it and let you know.'), { kind: 'success' });
      onOpened();
    } catch (error) {
      showFormError(fields, alert, disputeError(error));
    }
  });

  document.body.append(dialog);
  dialog.showModal();
  reason.input.focus();
}

/** Our wording for the refusals a person can act on. */
function disputeError(error) {
  const messages = {
    'wallet.charge_not_found': gettext('We could not find this charge in your wallet.'),
    'wallet.dispute_window_closed': gettext('The time to dispute this charge is over.'),
    'wallet.dispute_exists': gettext('You have already disputed this charge.'),
  };
  if (messages[error.code]) return { code: error.code, message: messages[error.code] };
  return error;
}
