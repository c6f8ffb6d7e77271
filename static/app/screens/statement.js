// The history of one of the person's accounts (newest first, "Load more" by cursor, CSV
// export), and the printable receipt of any line with a reference. Used by /wallet and
// /earnings.

import { api, apiDownload } from '../api.js';
import { errorText, h, loading, toast, whileBusy } from '../components.js';
import { formatDateTime, gettext, interpolate } from '../i18n.js';
import {
  accountLabel,
  apiPathOf,
  chargeStatusLabel,
  formatMoney,
  formatNumber,
  formatSigned,
  formatTokens,
  referenceLabel,
  saveBlob,
  serialized,
  transferKindLabel,
} from '../money.js';

let sectionCounter = 0;

/**
 * @param {{title: string, accounts: Array<[string, string]>, signal: AbortSignal,
 *          onCleanup: (cleanup: () => void) => void,
 *          lineActions?: (line: object, seen: Set<string>) => Node|null}} options
 *   accounts: [API name, label] of the accounts to choose from; with one there is no chooser
 *   lineActions: more buttons for a line; `seen` holds the references of the lines above it
 * @returns {{element: HTMLElement, load: () => Promise<void>, redraw: () => void}}
 */
export function statementSection({ title, accounts, signal, onCleanup, lineActions }) {
  const id = ++sectionCounter;
  const titleId = `statement-title-${id}`;
  let account = accounts[0][0];
  let lines = [];
  let next = null;
  let loaded = false;

  const body = h('div', null, loading());
  const more = h('button', { type: 'button', class: 'button', hidden: true }, gettext('Load more'));
  const exportButton = h('button', { type: 'button', class: 'button' }, gettext('Export CSV'));
  const chooser =
    accounts.length > 1
      ? h(
          'div',
          { class: 'control' },
          h('label', { for: `statement-account-${id}`, class: 'visually-hidden' }, gettext('Account')),
          h(
            'select',
            { id: `statement-account-${id}`, class: 'compact' },
            accounts.map(([value, label]) => h('option', { value }, label)),
          ),
        )
      : null;

  const element = h(
    'section',
    { class: 'card', 'aria-labelledby': titleId, 'data-testid': 'statement' },
    h('div', { class: 'section-header' }, h('h2', { id: titleId }, title), h('div', { class: 'actions section-tools' }, chooser, exportButton)),
    body,
    h('div', { class: 'pagination' }, more),
  );

  const draw = () => {
    more.hidden = !next;
    if (lines.length === 0) {
      body.replaceChildren(h('p', { class: 'muted' }, gettext('Nothing here yet.')));
      return;
    }
    const seen = new Set();
    body.replaceChildren(
      h(
        'table',
        { class: 'data-table', 'aria-labelledby': titleId, tabindex: '-1' },
        h(
          'thead',
          null,
          h(
            'tr',
            null,
            h('th', { scope: 'col' }, gettext('Date')),
            h('th', { scope: 'col' }, gettext('Description')),
            h('th', { scope: 'col', class: 'number' }, gettext('Tokens')),
            h('th', { scope: 'col', class: 'number' }, gettext('Balance')),
            h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, gettext('Actions'))),
          ),
        ),
        h('tbody', null, lines.map((line) => row(line, seen))),
      ),
    );
  };

  const row = (line, seen) => {
    const when = formatDateTime(new Date(line.created_at));
    const what = transferKindLabel(line.kind);
    const actions = h(
      'td',
      { class: 'row-actions' },
      line.reference
        ? h(
            'button',
            {
              type: 'button',
              class: 'button',
              'aria-label': interpolate(gettext('Receipt: %(what)s, %(date)s'), { what, date: when }),
              onclick: (event) => openReceipt(line.reference, { opener: event.currentTarget, onCleanup }),
            },
            gettext('Receipt'),
          )
        : null,
      lineActions ? lineActions(line, seen) : null,
    );
    if (line.reference) seen.add(line.reference);
    return h(
      'tr',
      { 'data-line-id': String(line.id) },
      h('td', { 'data-label': gettext('Date') }, when),
      h(
        'td',
        { 'data-label': gettext('Description') },
        what,
        line.reference ? h('span', { class: 'line-reference muted' }, referenceLabel(line.reference)) : null,
      ),
      h('td', { 'data-label': gettext('Tokens'), class: line.amount < 0 ? 'number debit' : 'number credit' }, formatSigned(line.amount)),
      h('td', { 'data-label': gettext('Balance'), class: 'number' }, formatNumber(line.balance_after)),
      actions,
    );
  };

  const load = serialized(async () => {
    try {
      const page = await api.get(`/wallet/statement/?account=${account}`, { signal });
      lines = page.results;
      next = page.next;
      loaded = true;
      draw();
    } catch (error) {
      if (error.name === 'AbortError') return;
      // A refresh that failed while offline: keep what is shown; the reconnect reloads it.
      if (loaded && error.code === 'network_error') return;
      body.replaceChildren(h('p', { class: 'error-text', role: 'alert' }, errorText(error)));
    }
  });

  more.addEventListener('click', async () => {
    try {
      const page = await whileBusy(more, () => api.get(apiPathOf(next), { signal }));
      const known = new Set(lines.map((line) => line.id));
      lines = lines.concat(page.results.filter((line) => !known.has(line.id)));
      next = page.next;
      draw();
      if (more.hidden) body.querySelector('table')?.focus();
    } catch (error) {
      if (error.name !== 'AbortError') toast(errorText(error), { kind: 'error' });
    }
  });

  exportButton.addEventListener('click', async () => {
    try {
      const { blob, filename } = await whileBusy(exportButton, () =>
        apiDownload(`/wallet/statement.csv?account=${account}`, { signal }),
      );
      saveBlob(blob, filename);
    } catch (error) {
      if (error.name !== 'AbortError') toast(errorText(error), { kind: 'error' });
    }
  });

  chooser?.querySelector('select').addEventListener('change', (event) => {
    account = event.target.value;
    body.replaceChildren(loading());
    load();
  });

  return { element, load, redraw: () => loaded && draw() };
}

// --- Receipts ----------------------------------------------------------------------------------

/**
 * Show the receipt of a reference in a modal dialog, with a Print button (the print styles
 * print only the receipt). Focus goes back to `opener` when it closes.
 * @param {string} reference e.g. "pix:<txid>" or "call:12"
 * @param {{opener?: HTMLElement, onCleanup: (cleanup: () => void) => void}} options
 */
export function openReceipt(reference, { opener, onCleanup }) {
  const titleId = `receipt-title-${++sectionCounter}`;
  const body = h('div', null, loading());
  const close = h('button', { type: 'button', class: 'button', autofocus: true }, gettext('Close'));
  const print = h('button', { type: 'button', class: 'button primary', onclick: () => window.print() }, gettext('Print'));
  const dialog = h(
    'dialog',
    { class: 'dialog receipt-dialog', 'aria-labelledby': titleId },
    h('h2', { id: titleId }, gettext('Receipt')),
    body,
    h('div', { class: 'dialog-actions' }, close, print),
  );
  const controller = new AbortController();
  close.addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => {
    controller.abort();
    dialog.remove();
    if (opener && opener.isConnected) opener.focus();
  });
  onCleanup(() => dialog.isConnected && dialog.close());
  document.body.append(dialog);
  dialog.showModal();
  print.disabled = true;

  api
    .get(`/wallet/receipts/${encodeURIComponent(reference)}/`, { signal: controller.signal })
    .then((receipt) => {
      body.replaceChildren(...receiptContent(receipt));
      print.disabled = false;
    })
    .catch((error) => {
      if (error.name === 'AbortError') return;
      body.replaceChildren(h('p', { class: 'error-text', role: 'alert' }, errorText(error)));
    });
}

function receiptContent(receipt) {
  const date = (value) => (value ? formatDateTime(new Date(value)) : '—');
  const facts = [
    [gettext('Reference'), h('span', null, referenceLabel(receipt.reference), ' ', h('code', { class: 'receipt-code' }, receipt.reference))],
    [gettext('Issued to'), receipt.issued_to],
    [gettext('Issued on'), date(new Date().toISOString())],
  ];
  if (receipt.pix) {
    const pix = receipt.pix;
    facts.push(
      [gettext('PIX transaction'), h('code', { class: 'receipt-code' }, pix.txid)],
      [gettext('Status'), chargeStatusLabel(pix.status)],
      [gettext('Tokens bought'), formatTokens(pix.tokens)],
      [gettext('Amount'), formatMoney(pix.amount_centavos)],
      [gettext('Paid on'), date(pix.paid_at)],
    );
    if (pix.end_to_end_ids.length) {
      facts.push([gettext('PIX end-to-end ID'), pix.end_to_end_ids.map((e2e) => h('code', { class: 'receipt-code' }, e2e, ' '))]);
    }
  }
  const content = [h('dl', { class: 'facts' }, facts.map(([term, value]) => [h('dt', null, term), h('dd', null, value)]))];
  if (receipt.lines.length) {
    content.push(
      h(
        'table',
        { class: 'data-table receipt-lines' },
        h(
          'thead',
          null,
          h(
            'tr',
            null,
            h('th', { scope: 'col' }, gettext('Date')),
            h('th', { scope: 'col' }, gettext('Description')),
            h('th', { scope: 'col' }, gettext('Account')),
            h('th', { scope: 'col', class: 'number' }, gettext('Tokens')),
          ),
        ),
        h(
          'tbody',
          null,
          receipt.lines.map((line) =>
            h(
              'tr',
              null,
              h('td', { 'data-label': gettext('Date') }, date(line.created_at)),
              h('td', { 'data-label': gettext('Description') }, transferKindLabel(line.kind)),
              h('td', { 'data-label': gettext('Account') }, accountLabel(line.account)),
              h('td', { 'data-label': gettext('Tokens'), class: 'number' }, formatSigned(line.amount)),
            ),
          ),
        ),
        h(
          'tfoot',
          null,
          h(
            'tr',
            null,
            h('th', { scope: 'row', colspan: '3' }, gettext('Total')),
            h('td', { class: 'number', 'data-label': gettext('Total') }, formatSigned(receipt.total)),
          ),
        ),
      ),
    );
  }
  return content;
}
