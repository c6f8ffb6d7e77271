// Choose a new password from the link in the reset e-mail (/reset-password/<key>). The key is
// checked first, so a used or expired link says so before anyone types a password.

import { passwordResetKeyUser, resetPassword } from '../auth.js';
import {
  clearFormError,
  errorText,
  field,
  formAlert,
  h,
  loading,
  setChildren,
  showFormError,
  toast,
  whileBusy,
} from '../components.js';
import { gettext } from '../i18n.js';

export async function render({ main, params, navigate, setTitle, signal }) {
  setTitle(gettext('Choose a new password'));
  const key = params.key;
  // One heading for every state, so the focus the router gave it survives the changes.
  const heading = h('h1', null, gettext('Choose a new password'));
  const body = h('div', null, loading());
  main.append(h('section', { class: 'card narrow' }, heading, body));

  let user;
  try {
    user = await passwordResetKeyUser(key);
  } catch (error) {
    if (signal.aborted) return;
    body.replaceChildren(h('p', { class: 'error-text', role: 'alert' }, errorText(error)));
    return;
  }
  if (signal.aborted) return;
  if (!user) {
    showInvalidLink(heading, body, setTitle);
    return;
  }

  const password = field({
    label: gettext('New password'),
    name: 'password',
    type: 'password',
    autocomplete: 'new-password',
    required: true,
    minlength: 8,
    hint: gettext('At least 8 characters, not only numbers, and not a common password.'),
  });
  const alert = formAlert();
  const submit = h('button', { type: 'submit', class: 'button primary' }, gettext('Save new password'));
  // The account's e-mail in a (hidden) username field lets password managers file the new
  // password under the right account.
  const username = h('input', {
    type: 'email',
    name: 'username',
    autocomplete: 'username',
    value: user.email || '',
    readonly: true,
    hidden: true,
  });
  const form = h('form', { class: 'stack' }, alert, username, password.wrapper, submit);
  setChildren(
    body,
    user.email ? h('dl', { class: 'facts' }, h('dt', null, gettext('Account')), h('dd', null, user.email)) : null,
    form,
  );
  password.input.focus();

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFormError([password], alert);
    try {
      const signedIn = await whileBusy(submit, () => resetPassword({ key, password: password.input.value }));
      if (signedIn) {
        navigate('/', { replace: true });
        toast(gettext('Your password was changed.'), { kind: 'success' });
      } else {
        navigate('/signin', { replace: true });
        toast(gettext('Your password was changed. Sign in with the new one.'), { kind: 'success' });
      }
    } catch (error) {
      // The key can also run out while the person is typing.
      if (error.code === 'validation_error' && (error.extra.codes || []).includes('invalid_password_reset')) {
        showInvalidLink(heading, body, setTitle);
        return;
      }
      showFormError([password], alert, error);
    }
  });
}

function showInvalidLink(heading, body, setTitle) {
  setTitle(gettext('This link no longer works'));
  heading.textContent = gettext('This link no longer works');
  body.replaceChildren(
    h('p', null, gettext('Password reset links work only once and only for a limited time. Ask for a new one and use the newest e-mail.')),
    h('p', null, h('a', { href: '/forgot-password', class: 'button primary' }, gettext('Ask for a new link'))),
  );
  // The form the person was in is gone: start them again at the heading.
  if (!document.activeElement || document.activeElement === document.body) {
    heading.tabIndex = -1;
    heading.focus();
  }
}
