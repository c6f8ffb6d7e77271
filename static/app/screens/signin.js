// Sign in with e-mail and password.

import { signIn } from '../auth.js';
import { clearFormError, errorText, field, formAlert, h, showFormError, whileBusy } from '../components.js';
import { gettext } from '../i18n.js';
import { safeNext } from '../router.js';

/**
 * A link to another account screen that keeps where the person is headed (e.g. back to an
 * invitation after creating the account instead of signing in).
 * @param {string} path @param {URLSearchParams} query
 */
export function withNext(path, query) {
  const next = query.get('next');
  return next && safeNext(next) === next ? `${path}?next=${encodeURIComponent(next)}` : path;
}

export function render({ main, query, navigate, setTitle }) {
  setTitle(gettext('Sign in'));
  const email = field({ label: gettext('E-mail'), name: 'email', type: 'email', autocomplete: 'email', required: true });
  const password = field({
    label: gettext('Password'),
    name: 'password',
    type: 'password',
    autocomplete: 'current-password',
    required: true,
  });
  const fields = [email, password];
  const alert = formAlert();
  // While the account is locked the way out is a password reset, so it gets its own box
  // with the link right there, instead of a message in the usual error line.
  const locked = h(
    'div',
    { class: 'form-alert', role: 'alert', hidden: true },
    h('p', null, errorText({ code: 'auth.locked' })),
    h('p', null, h('a', { href: '/forgot-password' }, gettext('Reset your password'))),
  );
  const submit = h('button', { type: 'submit', class: 'button primary' }, gettext('Sign in'));

  const form = h('form', { class: 'stack' }, alert, locked, email.wrapper, password.wrapper, submit);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFormError(fields, alert);
    locked.hidden = true;
    try {
      const me = await whileBusy(submit, () => signIn({ email: email.input.value.trim(), password: password.input.value }));
      const next = safeNext(query.get('next'));
      // No /me yet: the account has two-factor authentication, and its code comes next.
      if (me) navigate(next, { replace: true });
      else navigate(next === '/' ? '/two-factor' : `/two-factor?next=${encodeURIComponent(next)}`, { replace: true });
    } catch (error) {
      password.input.value = '';
      if (error.code === 'auth.locked') locked.hidden = false;
      else showFormError(fields, alert, error);
    }
  });

  main.append(
    h(
      'section',
      { class: 'card narrow' },
      h('h1', null, gettext('Sign in')),
      // After deleting the account (see mydata.js): the session is gone, this is the way out.
      query.get('goodbye')
        ? h('p', { class: 'notice', role: 'status' }, gettext('Your account was deleted. Thank you for having been with us. Goodbye!'))
        : null,
      form,
      h('p', null, h('a', { href: '/forgot-password' }, gettext('Forgot your password?'))),
      h('p', null, gettext('New here?'), ' ', h('a', { href: withNext('/signup', query) }, gettext('Create an account'))),
    ),
  );
}
