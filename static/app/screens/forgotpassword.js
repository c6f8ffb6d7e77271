// Forgot password: ask for a reset link by e-mail. The answer is the same whether or not the
// address has an account, so this screen cannot be used to find out who has one.

import { requestPasswordReset } from '../auth.js';
import { clearFormError, field, formAlert, h, showFormError, whileBusy } from '../components.js';
import { gettext, interpolateParts } from '../i18n.js';

export function render({ main, setTitle }) {
  setTitle(gettext('Reset your password'));
  const email = field({ label: gettext('E-mail'), name: 'email', type: 'email', autocomplete: 'email', required: true });
  const alert = formAlert();
  const submit = h('button', { type: 'submit', class: 'button primary' }, gettext('Send reset link'));
  const form = h('form', { class: 'stack' }, alert, email.wrapper, submit);
  const card = h(
    'section',
    { class: 'card narrow' },
    h('h1', null, gettext('Reset your password')),
    h('p', null, gettext('Enter the e-mail address of your account and we will send you a link to choose a new password.')),
    form,
    h('p', null, h('a', { href: '/signin' }, gettext('Back to sign in'))),
  );

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFormError([email], alert);
    const address = email.input.value.trim();
    try {
      await whileBusy(submit, () => requestPasswordReset(address));
    } catch (error) {
      showFormError([email], alert, error);
      return;
    }
    const heading = h('h1', { tabindex: '-1' }, gettext('Check your e-mail'));
    card.replaceChildren(
      heading,
      h(
        'p',
        null,
        ...interpolateParts(gettext('If %(email)s belongs to an account, we sent it a link to choose a new password.'), {
          email: h('strong', { class: 'contact-value' }, address),
        }),
      ),
      h('p', { class: 'muted' }, gettext('The link works once, for a limited time. Nothing arrived? Check the spam folder, or ask again in a few minutes.')),
      h('p', null, h('a', { href: '/signin' }, gettext('Back to sign in'))),
    );
    heading.focus();
  });

  main.append(card);
}
