// Verify the e-mail address and the mobile phone. Sign-up has already sent a code to each,
// so the screen opens on the two code fields; either contact can also be corrected here
// (a typo at sign-up would otherwise leave the person stuck).

import { getUser } from '../auth.js';
import { h } from '../components.js';
import { gettext, interpolate } from '../i18n.js';
import {
  bouncingText,
  codeEntry,
  contactForm,
  formatPhone,
  isVerified,
  lastCodeSent,
  unlockedActions,
} from '../verification.js';

export function render({ main, setTitle }) {
  setTitle(gettext('Verify your account'));
  if (CHANNELS.every((channel) => isVerified(channel, getUser()))) {
    main.append(allDone());
    return;
  }

  const steps = CHANNELS.map((channel, index) => step(channel, index + 1, stepDone));
  main.append(
    h(
      'div',
      { class: 'narrow-column' },
      h('h1', null, gettext('Verify your account')),
      h('p', { class: 'lead' }, intro(getUser())),
      h('ol', { class: 'steps' }, steps.map((s) => s.element)),
    ),
  );

  function stepDone() {
    const next = steps.find((s) => !s.done());
    if (next) {
      next.focus();
      return;
    }
    const done = allDone();
    main.replaceChildren(done);
    done.querySelector('h1').focus();
  }
}

const CHANNELS = ['email', 'phone'];

function intro(user) {
  const actions = unlockedActions(user);
  return actions
    ? interpolate(gettext('Confirm your e-mail address and your mobile phone with a 6-digit code. You need both to %(actions)s.'), {
        actions,
      })
    : gettext('Confirm your e-mail address and your mobile phone with a 6-digit code.');
}

/** The contact as the person knows it: the address, or the formatted phone number. */
function contactValue(channel, user) {
  return channel === 'email' ? user.email : formatPhone(user.phone);
}

/**
 * One step: a code field for the contact, a form to use another one, or "verified".
 * @returns {{element: HTMLElement, done: () => boolean, focus: () => void}}
 */
function step(channel, number, onDone) {
  const titleId = `verify-${channel}-title`;
  const title = channel === 'email' ? gettext('E-mail address') : gettext('Mobile phone');
  const badge = h('span', { class: 'badge' });
  const body = h('div');
  const element = h(
    'li',
    { class: 'card step', 'aria-labelledby': titleId },
    h(
      'div',
      { class: 'step-header' },
      h('span', { class: 'step-number', 'aria-hidden': 'true' }, String(number)),
      h('h2', { id: titleId }, title),
      badge,
    ),
    body,
  );
  let focusTarget = () => {};

  const setBadge = (verified) => {
    badge.className = verified ? 'badge success' : 'badge warning';
    badge.textContent = verified ? gettext('Verified') : gettext('Not verified yet');
  };

  const showVerified = (me) => {
    setBadge(true);
    element.classList.add('done');
    const value = contactValue(channel, me);
    body.replaceChildren(
      h(
        'p',
        { class: 'step-done' },
        h('span', { class: 'check', 'aria-hidden': 'true' }, '✓'),
        ' ',
        interpolate(gettext('%(value)s is verified.'), { value }),
      ),
    );
    focusTarget = () => {};
  };

  const showCode = ({ target, newValue = null, sent = null }) => {
    setBadge(false);
    const entry = codeEntry({
      channel,
      target,
      newValue,
      sent,
      onConfirmed: (me) => {
        showVerified(me);
        onDone();
      },
    });
    const other = h(
      'button',
      { type: 'button', class: 'link-button' },
      channel === 'email' ? gettext('Use a different e-mail address') : gettext('Use a different phone number'),
    );
    other.addEventListener('click', () => {
      showChange(true);
      focusTarget();
    });
    // A code cannot reach an address that bounces: point at the way out first.
    const bouncing =
      channel === 'email' && !newValue && getUser().email_undeliverable
        ? h('p', { class: 'notice danger' }, bouncingText())
        : '';
    body.replaceChildren(bouncing, entry.element, h('p', { class: 'step-aside' }, other));
    focusTarget = entry.focus;
  };

  const showChange = (cancellable) => {
    setBadge(false);
    const user = getUser();
    const form = contactForm({
      channel,
      label: channel === 'email' ? gettext('E-mail address') : gettext('Mobile phone'),
      onSent: (sent, value) => {
        showCode({ target: value, newValue: value, sent });
        focusTarget();
      },
      onCancel: cancellable
        ? () => {
            showCode({ target: contactValue(channel, user), sent: lastCodeSent(channel) });
            focusTarget();
          }
        : null,
    });
    const explanation =
      channel === 'email'
        ? gettext('We will send a code to the new address. It replaces the current one once you confirm the code.')
        : user.phone
          ? gettext('We will send a code by SMS to the new number. It replaces the current one once you confirm the code.')
          : gettext('Add your mobile phone number: we will send it a code by SMS.');
    body.replaceChildren(h('p', { class: 'muted' }, explanation), form.element);
    focusTarget = form.focus;
  };

  const user = getUser();
  const sent = lastCodeSent(channel);
  if (isVerified(channel, user)) showVerified(user);
  else if (sent && sent.newValue) showCode({ target: sent.newValue, newValue: sent.newValue, sent });
  else if (channel === 'phone' && !user.phone) showChange(false);
  else showCode({ target: contactValue(channel, user), sent });

  return { element, done: () => element.classList.contains('done'), focus: () => focusTarget() };
}

function allDone() {
  return h(
    'section',
    { class: 'card narrow success-card' },
    h('span', { class: 'success-mark', 'aria-hidden': 'true' }, '✓'),
    h('h1', { tabindex: '-1' }, gettext('Your account is verified')),
    h('p', null, gettext('Your e-mail address and mobile phone are confirmed. Thank you!')),
    h('p', null, h('a', { href: '/', class: 'button primary' }, gettext('Go to the home page'))),
  );
}
