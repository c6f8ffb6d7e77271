// Create an account; the person is signed in straight away (e-mail verification is optional).

import { signUp } from '../auth.js';
import { clearFormError, field, formAlert, h, showFormError, whileBusy } from '../components.js';
import { gettext } from '../i18n.js';

export function render({ main, navigate, setTitle }) {
  setTitle(gettext('Sign up'));
  const displayName = field({
    label: gettext('Your name'),
    name: 'display_name',
    autocomplete: 'name',
    required: true,
    maxlength: 150,
  });
  const email = field({ label: gettext('E-mail'), name: 'email', type: 'email', autocomplete: 'email', required: true });
  const password = field({
    label: gettext('Password'),
    name: 'password',
    type: 'password',
    autocomplete: 'new-password',
    required: true,
    minlength: 8,
    hint: gettext('At least 8 characters, not only numbers, and not a common password.'),
  });
  const fields = [displayName, email, password];
  const alert = formAlert();
  const submit = h('button', { type: 'submit', class: 'button primary' }, gettext('Create account'));

  const form = h(
    'form',
    { class: 'stack' },
    alert,
    displayName.wrapper,
    email.wrapper,
    password.wrapper,
    submit,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFormError(fields, alert);
    try {
      await whileBusy(submit, () =>
        signUp({
          email: email.input.value.trim(),
          password: password.input.value,
          display_name: displayName.input.value.trim(),
        }),
      );
      navigate('/', { replace: true });
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
      h('p', null, gettext('Already have an account?'), ' ', h('a', { href: '/signin' }, gettext('Sign in'))),
    ),
  );
}
