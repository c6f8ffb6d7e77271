// Verifying the e-mail address and the mobile phone with one-time codes.
//
// The server sends a 6-digit code to a contact (the current one, or a new one to switch to)
// and writes the contact to the account only when that code comes back, so "verify" and
// "change" are one flow. This module holds the API calls, what to say about each failure,
// and the two pieces of UI that /verify and /profile share: a form for a new address or
// number, and the code entry with its "send a new code" countdown.

import { api } from './api.js';
import { getUser, loadMe, setUser } from './auth.js';
import { errorText, field, formAlert, h } from './components.js';
import { currentLanguage, gettext, interpolate, interpolateParts, ngettext } from './i18n.js';

/** The steps /verify takes care of, in the order it shows them. */
export const CONTACT_STEPS = ['email_verified', 'phone_verified'];

/**
 * The contact steps still missing for anything the person may want to do, in order
 * (from the `missing` map of /me, so the server stays the one place these rules live).
 * @param {object} user the /me payload
 */
export function missingContactSteps(user) {
  const missing = new Set(Object.values(user.missing || {}).flat());
  return CONTACT_STEPS.filter((step) => missing.has(step));
}

/**
 * What verifying the contacts unlocks, as a list in the page's language ("buy tokens,
 * start calls and join queues"), from the actions that still wait for it; '' when none of
 * the actions this app knows about does.
 * @param {object} user the /me payload
 */
export function unlockedActions(user) {
  const labels = {
    buy_tokens: gettext('buy tokens'),
    start_call: gettext('start calls'),
    join_queue: gettext('join queues'),
  };
  const actions = Object.entries(user.missing || {})
    .filter(([action, steps]) => labels[action] && steps.some((step) => CONTACT_STEPS.includes(step)))
    .map(([action]) => labels[action]);
  if (actions.length === 0) return '';
  try {
    return new Intl.ListFormat(currentLanguage(), { type: 'conjunction' }).format(actions);
  } catch {
    return actions.join(', ');
  }
}

/** For a person whose e-mail address bounces (`email_undeliverable` in /me). */
export function bouncingText() {
  return gettext('E-mails to this address are bouncing: they are not being delivered. Change it to an address that works.');
}

/** @param {'email'|'phone'} channel @param {object} user */
export function isVerified(channel, user) {
  return Boolean(channel === 'email' ? user.email_verified : user.phone_verified);
}

/**
 * A phone number as people write it: Brazilian numbers as "+55 (11) 98765-4321", others
 * as stored (E.164).
 * @param {string} phone
 */
export function formatPhone(phone) {
  const brazil = /^\+55(\d{2})(\d{4,5})(\d{4})$/.exec(phone || '');
  return brazil ? `+55 (${brazil[1]}) ${brazil[2]}-${brazil[3]}` : phone || '';
}

/** "m:ss", the same in every language; the longest wait (an hour) stays readable. */
export function formatWait(seconds) {
  const whole = Math.max(0, Math.ceil(seconds));
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, '0')}`;
}

// --- API ---------------------------------------------------------------------------------------

/**
 * The last code sent per channel during this visit, so leaving /profile for /verify (or
 * back) keeps the countdown. Only where it went and when, never the code. `resendAt` and
 * `expiresAt` are 0 when unknown (the codes sent by sign-up).
 * @type {Map<string, {target: string, newValue: string|null, resendAt: number, expiresAt: number}>}
 */
const lastSent = new Map();

/** @param {'email'|'phone'} channel */
export function lastCodeSent(channel) {
  const sent = lastSent.get(channel);
  return sent && (!sent.expiresAt || sent.expiresAt > Date.now()) ? sent : null;
}

/**
 * Sign-up has the server send a code to each contact; remember that, so /verify can say so.
 * @param {object} user the new /me payload
 */
export function rememberSignUpCodes(user) {
  lastSent.set('email', { target: user.email, newValue: null, resendAt: 0, expiresAt: 0 });
  if (user.phone) lastSent.set('phone', { target: formatPhone(user.phone), newValue: null, resendAt: 0, expiresAt: 0 });
}

/**
 * Ask the server to send a code.
 * @param {'email'|'phone'} channel
 * @param {string|null} newValue a new address or number to switch to; null for the current one
 */
export async function sendCode(channel, newValue = null) {
  const sent = await api.post(`/me/${channel}/verification/`, newValue ? { [channel]: newValue } : {});
  const record = {
    target: sent.target,
    newValue,
    resendAt: Date.parse(sent.resend_after) || 0,
    expiresAt: Date.parse(sent.expires_at) || 0,
  };
  lastSent.set(channel, record);
  return record;
}

/** @param {'email'|'phone'} channel @param {string} code @returns {Promise<object>} the new /me */
export async function confirmCode(channel, code) {
  const me = await api.post(`/me/${channel}/verification/confirm/`, { code });
  lastSent.delete(channel);
  setUser(me);
  return me;
}

/** Seconds the server asked us to wait (429 answers carry `extra.wait`); 0 if none. */
export function waitSeconds(error) {
  const wait = Number(error && error.extra && error.extra.wait);
  return Number.isFinite(wait) && wait > 0 ? wait : 0;
}

/**
 * What to tell a person about a failed verification request. Our own wording rather than the
 * server's: these messages say what to do next, and count down in the person's language.
 * @param {any} error @param {'email'|'phone'} channel
 */
export function verificationErrorText(error, channel) {
  switch (error && error.code) {
    case 'accounts.code_invalid': {
      const left = Number(error.extra && error.extra.attempts_left) || 0;
      if (left <= 0) return gettext('That code is not right, and that was the last try. Ask for a new code.');
      return interpolate(
        ngettext(
          'That code is not right. You can try %(count)s more time.',
          'That code is not right. You can try %(count)s more times.',
          left,
        ),
        { count: left },
      );
    }
    case 'accounts.code_expired':
      return gettext('This code has expired. Ask for a new code.');
    case 'accounts.code_attempts_exceeded':
      return gettext('Too many wrong tries for this code. Ask for a new code.');
    case 'accounts.no_code_pending':
      return gettext('There is no code waiting to be confirmed. Ask for a new code.');
    // The button that would send another code counts the wait down, so no time here.
    case 'accounts.code_cooldown':
      return gettext('A code was sent moments ago. Please wait a little before asking for another one.');
    case 'accounts.too_many_codes':
      return gettext('Too many codes were sent in the last hour. Please wait before asking for another one.');
    case 'accounts.already_verified':
      return channel === 'email'
        ? gettext('This e-mail address is already verified.')
        : gettext('This phone number is already verified.');
    case 'accounts.email_taken':
      return gettext('This e-mail address is already used by another account.');
    case 'accounts.phone_taken':
      return gettext('This phone number is already used by another account.');
    case 'accounts.phone_missing':
      return gettext('Add a mobile phone number first.');
    default:
      return errorText(error);
  }
}

// --- UI ----------------------------------------------------------------------------------------

/**
 * Disable `button` until `deadline` (ms), showing the time left in its label. The interval
 * stops by itself once the button has left the page.
 * @returns {() => void} stop early
 */
function countdown(button, deadline, idleLabel, waitingFormat) {
  let wasConnected = false;
  let timer = 0;
  const tick = () => {
    wasConnected ||= button.isConnected;
    const left = Math.ceil((deadline - Date.now()) / 1000);
    if (left <= 0 || (wasConnected && !button.isConnected)) {
      clearInterval(timer);
      button.disabled = false;
      button.textContent = idleLabel;
      return;
    }
    button.disabled = true;
    button.textContent = interpolate(waitingFormat, { time: formatWait(left) });
  };
  tick();
  timer = setInterval(tick, 1000);
  return () => {
    clearInterval(timer);
    button.disabled = false;
    button.textContent = idleLabel;
  };
}

/** "Valid until 14:32", in the page's language and the person's time zone (their profile's). */
function validUntil(expiresAt) {
  const options = { timeStyle: 'short', timeZone: getUser()?.time_zone || undefined };
  let format;
  try {
    format = new Intl.DateTimeFormat(currentLanguage(), options);
  } catch {
    format = new Intl.DateTimeFormat(currentLanguage(), { timeStyle: 'short' }); // a zone this browser lacks
  }
  return interpolate(gettext('It is valid until %(time)s.'), { time: format.format(new Date(expiresAt)) });
}

/**
 * Where the code went, the code field, "Confirm" and "Send a new code".
 *
 * @param {{channel: 'email'|'phone', target: string, newValue?: string|null,
 *          sent?: {target: string, resendAt: number, expiresAt: number}|null,
 *          onConfirmed: (me: object) => void}} options
 *   target: how to name the destination until the server names it (the person's own value)
 *   newValue: the address or number being switched to (a resend goes there too); null for
 *   the current one
 *   sent: what the server said when it sent the code, when this page sent it
 * @returns {{element: HTMLElement, focus: () => void}}
 */
export function codeEntry({ channel, target, newValue = null, sent = null, onConfirmed }) {
  const where = h('p', { class: 'code-where' });
  // Whether a code went out is known only when this visit sent it (or signed up); otherwise
  // the person may have one from earlier, or none at all.
  const showWhere = (destination, expiresAt, known = true) => {
    let format;
    if (!known) format = gettext('Enter the 6-digit code sent to %(target)s. No code, or an old one? Send a new one.');
    else if (channel === 'email') format = gettext('We sent a 6-digit code to %(target)s.');
    else format = gettext('We sent a 6-digit code by SMS to %(target)s.');
    where.replaceChildren(
      ...interpolateParts(format, { target: h('strong', { class: 'contact-value' }, destination) }),
      expiresAt ? ` ${validUntil(expiresAt)}` : '',
    );
  };
  showWhere(sent ? sent.target : target, sent ? sent.expiresAt : 0, Boolean(sent));

  const code = field({
    label: channel === 'email' ? gettext('Code from the e-mail') : gettext('Code from the SMS'),
    name: 'code',
    inputmode: 'numeric',
    autocomplete: 'one-time-code',
    maxlength: 9, // six digits, with room for the spaces a pasted "123 456" may carry
    required: true,
    class: 'code-input',
    spellcheck: 'false',
  });
  const alert = formAlert();
  const status = h('p', { class: 'form-status', role: 'status' });
  const confirm = h('button', { type: 'submit', class: 'button primary' }, gettext('Confirm'));
  const resend = h('button', { type: 'button', class: 'button' }, gettext('Send a new code'));
  const waitingFormat = gettext('Send a new code in %(time)s');
  let stopCountdown = () => {};
  const waitUntil = (deadline) => {
    stopCountdown();
    stopCountdown = countdown(resend, deadline, gettext('Send a new code'), waitingFormat);
  };
  if (sent && sent.resendAt > Date.now()) waitUntil(sent.resendAt);

  const clear = () => {
    code.setError(undefined);
    alert.hidden = true;
    alert.textContent = '';
    status.textContent = '';
  };
  /** @param {boolean} [waiting] a request to wait rather than a failure: calmer colours */
  const showAlert = (message, waiting = false) => {
    alert.textContent = message;
    alert.classList.toggle('waiting', waiting);
    alert.hidden = false;
  };

  const form = h(
    'form',
    { class: 'stack code-entry', novalidate: true },
    where,
    alert,
    code.wrapper,
    h('div', { class: 'actions' }, confirm, resend),
    status,
  );

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clear();
    const digits = code.input.value.replace(/\s+/g, '');
    if (!/^\d{6}$/.test(digits)) {
      code.setError([gettext('Enter the 6 digits of the code.')]);
      code.input.focus();
      return;
    }
    confirm.disabled = true;
    confirm.setAttribute('aria-busy', 'true');
    try {
      const me = await confirmCode(channel, digits);
      onConfirmed(me);
    } catch (error) {
      const message = verificationErrorText(error, channel);
      const aboutTheCode = error.code === 'accounts.no_code_pending' || String(error.code).startsWith('accounts.code_');
      if (error.code === 'validation_error' && error.fields.code) code.setError(error.fields.code);
      else if (aboutTheCode) code.setError([message]);
      else showAlert(message);
      code.input.select();
      code.input.focus();
    } finally {
      confirm.disabled = false;
      confirm.removeAttribute('aria-busy');
    }
  });

  resend.addEventListener('click', async () => {
    clear();
    resend.disabled = true;
    resend.setAttribute('aria-busy', 'true');
    try {
      const fresh = await sendCode(channel, newValue);
      showWhere(fresh.target, fresh.expiresAt);
      status.textContent = interpolate(gettext('New code sent to %(target)s.'), { target: fresh.target });
      code.input.value = '';
      code.input.focus();
      waitUntil(fresh.resendAt);
    } catch (error) {
      // Verified meanwhile (in another tab, say): that is what the person wanted.
      const me = error.code === 'accounts.already_verified' ? await loadMe().catch(() => null) : null;
      if (me) {
        onConfirmed(me);
        return;
      }
      const wait = waitSeconds(error);
      showAlert(verificationErrorText(error, channel), Boolean(wait));
      if (wait) waitUntil(Date.now() + wait * 1000);
      else resend.disabled = false;
    } finally {
      resend.removeAttribute('aria-busy');
    }
  });

  return { element: form, focus: () => code.input.focus() };
}

/**
 * A form for a new e-mail address or phone number; on success a code is on its way there.
 *
 * @param {{channel: 'email'|'phone', label: string,
 *          onSent: (sent: object, value: string) => void, onCancel?: () => void}} options
 * @returns {{element: HTMLElement, focus: () => void}}
 */
export function contactForm({ channel, label, onSent, onCancel }) {
  const submitLabel = gettext('Send code');
  const input =
    channel === 'email'
      ? field({ label, name: 'email', type: 'email', autocomplete: 'email', required: true })
      : field({
          label,
          name: 'phone',
          type: 'tel',
          autocomplete: 'tel',
          inputmode: 'tel',
          required: true,
          hint: gettext('With area code, e.g. (11) 98765-4321.'),
        });
  const alert = formAlert();
  const submit = h('button', { type: 'submit', class: 'button primary' }, submitLabel);
  const cancel = onCancel ? h('button', { type: 'button', class: 'button', onclick: onCancel }, gettext('Cancel')) : null;
  const form = h('form', { class: 'stack contact-form' }, alert, input.wrapper, h('div', { class: 'actions' }, submit, cancel));

  let stopCountdown = () => {};
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    input.setError(undefined);
    alert.hidden = true;
    const value = input.input.value.trim();
    submit.disabled = true;
    submit.setAttribute('aria-busy', 'true');
    let wait = 0;
    try {
      const sent = await sendCode(channel, value);
      onSent(sent, value);
    } catch (error) {
      wait = waitSeconds(error);
      const fieldMessages = error.code === 'validation_error' ? error.fields[channel] : null;
      if (fieldMessages || ['accounts.email_taken', 'accounts.phone_taken', 'accounts.already_verified'].includes(error.code)) {
        input.setError(fieldMessages || [verificationErrorText(error, channel)]);
        input.input.focus();
      } else {
        alert.textContent = verificationErrorText(error, channel);
        alert.classList.toggle('waiting', Boolean(wait));
        alert.hidden = false;
      }
    } finally {
      submit.removeAttribute('aria-busy');
      submit.disabled = false;
      if (wait) {
        stopCountdown();
        stopCountdown = countdown(submit, Date.now() + wait * 1000, submitLabel, gettext('Send code in %(time)s'));
      }
    }
  });

  return { element: form, focus: () => input.input.focus() };
}
