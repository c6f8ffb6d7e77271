// My data (LGPD): download everything the platform holds about me, or delete the account.

import { apiDownload } from '../api.js';
import { deleteAccount, getUser } from '../auth.js';
import { errorText, field, formAlert, h, showFormError, clearFormError, toast, whileBusy } from '../components.js';
import { gettext, interpolate } from '../i18n.js';

export function render({ main, setTitle, signal, navigate, onCleanup }) {
  setTitle(gettext('My data'));
  main.append(
    h(
      'div',
      { class: 'narrow-column' },
      h('h1', null, gettext('My data')),
      exportSection(signal),
      deleteSection({ navigate, onCleanup }),
    ),
  );
}

function exportSection(signal) {
  const button = h('button', { type: 'button', class: 'button' }, gettext('Download my data'));
  button.addEventListener('click', async () => {
    try {
      const { blob, filename } = await whileBusy(button, () => apiDownload('/me/export/', { signal }));
      const url = URL.createObjectURL(blob);
      const link = h('a', { href: url, download: filename, hidden: true });
      document.body.append(link);
      link.click();
      link.remove();
      // Give the browser a moment to start the download before the URL goes.
      setTimeout(() => URL.revokeObjectURL(url), 1000);
      toast(gettext('Your data was downloaded.'), { kind: 'success' });
    } catch (error) {
      if (error.name !== 'AbortError') toast(errorText(error), { kind: 'error' });
    }
  });
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'export-title' },
    h('h2', { id: 'export-title' }, gettext('Download your data')),
    h('p', { class: 'muted' }, gettext('A JSON file with everything we hold about you: profile, organizations, invitations, sessions and activity records. It holds no passwords, keys or codes.')),
    button,
  );
}

function deleteSection({ navigate, onCleanup }) {
  const opener = h('button', { type: 'button', class: 'button danger-outline' }, gettext('Delete my account'));
  const password = field({
    label: gettext('Password'),
    name: 'password',
    type: 'password',
    autocomplete: 'current-password',
    required: true,
    hint: gettext('Type your password to confirm it is you.'),
  });
  const alert = formAlert();
  const submit = h('button', { type: 'submit', class: 'button danger' }, gettext('Delete my account for good'));
  const cancel = h('button', { type: 'button', class: 'button', value: 'cancel' }, gettext('Cancel'));
  const titleId = 'delete-dialog-title';
  const form = h(
    'form',
    { class: 'stack' },
    h('h2', { id: titleId }, gettext('Delete your account?')),
    h('p', null, gettext('This cannot be undone. When you delete your account:')),
    h(
      'ul',
      null,
      h('li', null, gettext('Your personal data (name, e-mail, phone, documents) is anonymized.')),
      h('li', null, gettext('Your organization memberships end, and every session and app access is signed out.')),
      h('li', null, gettext('Audit records of what the account did are kept, as legal records, without your personal data.')),
    ),
    alert,
    password.wrapper,
    h('div', { class: 'dialog-actions' }, cancel, submit),
  );
  const dialog = h('dialog', { class: 'dialog', 'aria-labelledby': titleId }, form);
  document.body.append(dialog);
  onCleanup(() => dialog.remove());

  opener.addEventListener('click', () => {
    clearFormError([password], alert);
    password.input.value = '';
    dialog.showModal();
    password.input.focus();
  });
  cancel.addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => opener.focus());

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFormError([password], alert);
    try {
      await whileBusy(submit, () => deleteAccount(password.input.value));
      dialog.close();
      navigate('/signin?goodbye=1', { replace: true });
    } catch (error) {
      password.input.value = '';
      showFormError([password], alert, deleteError(error));
      if (error.code === 'accounts.reauthentication_failed') password.input.focus();
    }
  });

  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'delete-title' },
    h('h2', { id: 'delete-title' }, gettext('Delete your account')),
    h('p', { class: 'muted' }, gettext('Your personal data is anonymized and you are signed out everywhere. Records the law requires us to keep stay, without your personal data.')),
    opener,
  );
}

function deleteError(error) {
  if (error.code === 'accounts.reauthentication_failed') {
    return { code: error.code, message: gettext('The password is not right.') };
  }
  if (error.code === 'accounts.last_org_admin') {
    const ids = new Set(error.extra.organization_ids || []);
    const names = (getUser()?.memberships || []).filter((m) => ids.has(m.organization.id)).map((m) => m.organization.name);
    return {
      code: error.code,
      message: names.length
        ? interpolate(gettext('You are the only admin of %(organizations)s. Make another member an admin first (on the Members page), then delete your account.'), {
            organizations: names.join(', '),
          })
        : gettext('You are the only admin of an organization. Make another member an admin first (on the Members page), then delete your account.'),
    };
  }
  return error;
}
