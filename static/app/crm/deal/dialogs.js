// The deal page's dialogs: why a deal was lost (the organization's reasons and a note).

import { formAlert, h, showFormError, whileBusy } from '../../components.js';
import { gettext } from '../../i18n.js';

let counter = 0;

/**
 * Ask why the deal was lost and send it; resolves true when sent, false when cancelled.
 * @param {{reasons: object[], submit: (body: {reason_id: number|null, note: string}) => Promise<any>}} options
 */
export function lostDialog({ reasons, submit }) {
  return new Promise((resolve) => {
    const id = ++counter;
    const titleId = `crm-lost-title-${id}`;
    const alert = formAlert();
    const reason = h(
      'select',
      { id: `crm-lost-reason-${id}`, 'data-testid': 'crm-lost-reason' },
      h('option', { value: '' }, gettext('No reason given')),
      reasons.map((item) => h('option', { value: String(item.id) }, item.name)),
    );
    const note = h('textarea', { id: `crm-lost-note-${id}`, rows: '3', maxlength: '255' });
    const button = h('button', { type: 'submit', class: 'button danger', 'data-testid': 'crm-lost-submit' }, gettext('Mark as lost'));
    let sent = false;
    const form = h(
      'form',
      { class: 'stack' },
      h('h2', { id: titleId }, gettext('Why was this deal lost?')),
      alert,
      h('div', { class: 'field' }, h('label', { for: reason.id }, gettext('Reason')), reason),
      h('div', { class: 'field' }, h('label', { for: note.id }, gettext('Note (optional)')), note),
      h(
        'div',
        { class: 'dialog-actions' },
        h('button', { type: 'button', class: 'button', onclick: () => dialog.close() }, gettext('Cancel')),
        button,
      ),
    );
    const dialog = h('dialog', { class: 'dialog', 'aria-labelledby': titleId, 'data-testid': 'crm-lost-dialog' }, form);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      try {
        await whileBusy(button, () => submit({ reason_id: reason.value ? Number(reason.value) : null, note: note.value.trim() }));
        sent = true;
        dialog.close();
      } catch (error) {
        showFormError([], alert, error);
      }
    });
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve(sent);
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}
