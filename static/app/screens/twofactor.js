// The second step of signing in, for accounts with two-factor authentication: the password
// was right, and until a code from the authenticator app (or a recovery code) comes back the
// server refuses this session everywhere, the live connection included.

import { signOut, verifySecondFactor } from '../auth.js';
import { errorText, field, formAlert, h, toast, whileBusy } from '../components.js';
import { gettext } from '../i18n.js';
import { safeNext } from '../router.js';

export function render({ main, query, navigate, setTitle }) {
  setTitle(gettext('Confirm it\'s you'));
  let usingRecoveryCode = false;

  const code = field({
    label: gettext('Code from your authenticator app'),
    name: 'code',
    inputmode: 'numeric',
    autocomplete: 'one-time-code',
    maxlength: 9, // six digits, with room for the space of a pasted "123 456"
    required: true,
    class: 'code-input',
    spellcheck: 'false',
    autocapitalize: 'off',
  });
  const intro = h('p', { class: 'lead' });
  const alert = formAlert();
  const submit = h('button', { type: 'submit', class: 'button primary' }, gettext('Confirm'));
  const toggle = h('button', { type: 'button', class: 'link-button' });
  const form = h('form', { class: 'stack', novalidate: true }, alert, code.wrapper, submit);

  /** Switch between the app's code and a recovery code: label, hint, keyboard and links. */
  const drawMode = () => {
    const label = code.wrapper.querySelector('label');
    code.setError(undefined);
    alert.hidden = true;
    code.input.value = '';
    if (usingRecoveryCode) {
      intro.textContent = gettext('Enter one of the recovery codes you saved when you turned on two-factor authentication. Each code works once.');
      label.textContent = gettext('Recovery code');
      code.input.inputMode = 'text';
      code.input.autocomplete = 'off';
      code.input.maxLength = 20;
      code.input.classList.remove('code-input');
      code.input.classList.add('recovery-input');
      toggle.textContent = gettext('Use the code from your app instead');
    } else {
      intro.textContent = gettext('Your account has two-factor authentication. Open your authenticator app and enter the 6-digit code it shows for Atende.');
      label.textContent = gettext('Code from your authenticator app');
      code.input.inputMode = 'numeric';
      code.input.autocomplete = 'one-time-code';
      code.input.maxLength = 9;
      code.input.classList.add('code-input');
      code.input.classList.remove('recovery-input');
      toggle.textContent = gettext('Lost your phone? Use a recovery code');
    }
  };
  toggle.addEventListener('click', () => {
    usingRecoveryCode = !usingRecoveryCode;
    drawMode();
    code.input.focus();
  });
  drawMode();

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    code.setError(undefined);
    alert.hidden = true;
    // Recovery codes are lower-case letters and digits; people copy them from paper in any
    // case and with spaces. App codes are six digits, perhaps pasted as "123 456".
    const value = code.input.value.replace(/[\s-]+/g, '').toLowerCase();
    const valid = usingRecoveryCode ? /^[a-z2-7]{6,20}$/.test(value) : /^\d{6}$/.test(value);
    if (!valid) {
      code.setError([
        usingRecoveryCode
          ? gettext('Enter a recovery code as you saved it, for example abcd2345.')
          : gettext('Enter the 6 digits your app shows.'),
      ]);
      code.input.focus();
      return;
    }
    try {
      await whileBusy(submit, () => verifySecondFactor(value));
      if (usingRecoveryCode) {
        toast(gettext('You used a recovery code; it will not work again. You can make new ones on the Security page.'));
      }
      navigate(safeNext(query.get('next')), { replace: true });
    } catch (error) {
      if (error.code === 'accounts.otp_invalid') {
        code.setError([
          usingRecoveryCode
            ? gettext('That recovery code is not right, or it was used already. After a wrong code, wait a few seconds before trying again.')
            : gettext('That code is not right. Check it, and wait a few seconds before trying again: after a wrong code, the next try waits a little longer.'),
        ]);
      } else if (error.code === 'validation_error' && error.fields.code) {
        code.setError(error.fields.code);
      } else {
        alert.textContent = errorText(error);
        alert.hidden = false;
      }
      code.input.select();
      code.input.focus();
    }
  });

  const leave = h('button', { type: 'button', class: 'link-button' }, gettext('Sign out and use another account'));
  leave.addEventListener('click', async () => {
    leave.disabled = true;
    try {
      await signOut();
      navigate('/signin', { replace: true });
    } catch (error) {
      toast(errorText(error), { kind: 'error' });
      leave.disabled = false;
    }
  });

  main.append(
    h(
      'section',
      { class: 'card narrow' },
      h('h1', null, gettext('Confirm it\'s you')),
      intro,
      form,
      h('p', { class: 'step-aside' }, toggle),
      h('p', { class: 'step-aside' }, leave),
    ),
  );
}
