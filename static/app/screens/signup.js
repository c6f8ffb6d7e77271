// Create an account. The person is signed in straight away and the server sends a code to
// their e-mail and another to their phone; the next screen (/verify) takes both.

import { signUp } from '../auth.js';
import { clearFormError, field, formAlert, h, showFormError, whileBusy } from '../components.js';
import { gettext } from '../i18n.js';
import { safeNext } from '../router.js';
import { rememberSignUpCodes } from '../verification.js';
import { withNext } from './signin.js';

export function render({ main, query, navigate, setTitle }) {
  setTitle(gettext('Sign up'));
  const displayName = field({
    label: gettext('Your name'),
    name: 'display_name',
    autocomplete: 'name',
    required: true,
    maxlength: 150,
  });
  const email = field({ label: gettext('E-mail'), name: 'email', type: 'email', autocomplete: 'email', required: true });
  const phone = field({
    label: gettext('Mobile phone'),
    name: 'phone',
    type: 'tel',
    autocomplete: 'tel',
    inputmode: 'tel',
    required: true,
    hint: gettext('With area code, e.g. (11) 98765-4321. We will send you a code by SMS.'),
  });
  const password = field({
    label: gettext('Password'),
    name: 'password',
    type: 'password',
    autocomplete: 'new-password',
    required: true,
    minlength: 8,
    hint: gettext('At least 8 characters, not only numbers, and not a common password.'),
  });
  const fields = [displayName, email, phone, password];
  const alert = formAlert();
  const submit = h('button', { type: 'submit', class: 'button primary' }, gettext('Create account'));

  const form = h(
    'form',
    { class: 'stack' },
    alert,
    displayName.wrapper,
    email.wrapper,
    phone.wrapper,
    password.wrapper,
    submit,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFormError(fields, alert);
    try {
      const me = await whileBusy(submit, () =>
        signUp({
          email: email.input.value.trim(),
          password: password.input.value,
          display_name: displayName.input.value.trim(),
          phone: phone.input.value.trim(),
        }),
      );
      rememberSignUpCodes(me);
      // Sent here from somewhere (an invitation, say): back there; /verify waits on home.
      const next = query.get('next');
      navigate(next ? safeNext(next) : '/verify', { replace: true });
    } catch (error) {
      showFormError(fields, alert, error);
    }
  });

  main.append(
    h(
      'section',
      { class: 'card narrow' },
      h('h1', null, gettext('Create your account')),
      form,
      h('p', null, gettext('Already have an account?'), ' ', h('a', { href: withNext('/signin', query) }, gettext('Sign in'))),
    ),
  );
}
