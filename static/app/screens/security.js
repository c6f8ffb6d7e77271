// Security: two-factor authentication (set up with an authenticator app, recovery codes, turn
// off) and the browsers signed in to the account, each of which can be signed out from here.

import { api } from '../api.js';
import { endSessions, getUser, listSessions } from '../auth.js';
import {
  clearFormError,
  confirmDialog,
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
import { PRODUCT_NAME } from '../config.js';
import { formatDateTime, formatRelative, gettext, interpolate, interpolateParts, ngettext } from '../i18n.js';
import { deviceName } from '../useragent.js';

/** Few enough recovery codes left that the person should make new ones. */
const FEW_RECOVERY_CODES = 3;

export function render({ main, setTitle, signal, onCleanup, onResync }) {
  setTitle(gettext('Security'));
  const twoFactor = twoFactorSection({ signal, onCleanup });
  const sessions = sessionsSection({ signal });
  main.append(
    h(
      'div',
      { class: 'narrow-column' },
      h('h1', null, gettext('Security')),
      twoFactor.element,
      sessions.element,
      h(
        'section',
        { class: 'card', 'aria-labelledby': 'privacy-title' },
        h('h2', { id: 'privacy-title' }, gettext('Your data')),
        h('p', { class: 'muted' }, gettext('Download a copy of your data, or delete your account.')),
        h('a', { href: '/my-data', class: 'button' }, gettext('My data')),
      ),
    ),
  );
  // One after the other: every request of a signed-in browser also updates its "last seen"
  // row, and SQLite (the embedded database) refuses two such writes at the same instant.
  twoFactor.load().then(() => sessions.load());
  // Another browser may have changed either meanwhile (or ended this one's siblings).
  onResync(async () => {
    await twoFactor.refresh();
    await sessions.load();
  });
}

// --- Two-factor authentication --------------------------------------------------------------------

function twoFactorSection({ signal, onCleanup }) {
  const badge = h('span', { class: 'badge', hidden: true });
  const body = h('div', null, loading());
  const element = h(
    'section',
    { class: 'card', 'aria-labelledby': 'two-factor-title' },
    h('div', { class: 'section-header' }, h('h2', { id: 'two-factor-title' }, gettext('Two-factor authentication')), badge),
    body,
  );
  /** What the person is in the middle of ('setup', 'codes', 'password'): no redraw from a resync then. */
  let busyWith = null;
  let releaseDownload = () => {};
  onCleanup(() => releaseDownload());

  const setBadge = (enabled) => {
    badge.hidden = false;
    badge.className = enabled ? 'badge success' : 'badge warning';
    badge.textContent = enabled ? gettext('On') : gettext('Off');
  };

  const focusFirst = (container) => {
    const target = container.querySelector('input, h3, button');
    if (target && target.tagName === 'H3') target.tabIndex = -1;
    if (target) target.focus();
  };

  async function load() {
    body.replaceChildren(loading());
    try {
      const status = await api.get('/me/two-factor/', { signal });
      drawStatus(status);
    } catch (error) {
      if (error.name === 'AbortError') return;
      body.replaceChildren(
        h('p', { class: 'error-text' }, errorText(error)),
        h('button', { type: 'button', class: 'button', onclick: load }, gettext('Try again')),
      );
    }
  }

  /** After a resync: re-read, unless the person is halfway through something here. */
  async function refresh() {
    if (!busyWith) await load();
  }

  // --- Status ---

  function drawStatus(status) {
    busyWith = null;
    releaseDownload();
    setBadge(status.enabled);
    if (!status.enabled) {
      const start = h('button', { type: 'button', class: 'button primary' }, gettext('Set up two-factor authentication'));
      start.addEventListener('click', () => startSetup(start));
      body.replaceChildren(
        ...organizationsRequiringIt().map((name) =>
          h(
            'p',
            { class: 'notice warning' },
            interpolate(gettext('%(organization)s requires two-factor authentication for its admins. Until you turn it on, you cannot manage its members or invitations.'), {
              organization: name,
            }),
          ),
        ),
        h('p', null, gettext('Protect your account with a second step when signing in: besides your password, a 6-digit code from an authenticator app on your phone (such as Google Authenticator, Microsoft Authenticator or 1Password).')),
        start,
      );
      return;
    }

    const left = status.recovery_codes_left;
    const fewLeft = left <= FEW_RECOVERY_CODES;
    const regenerate = h('button', { type: 'button', class: 'button' }, gettext('Make new recovery codes'));
    const turnOff = h('button', { type: 'button', class: 'button danger-outline' }, gettext('Turn off'));
    const panel = h('div', { class: 'inline-panel', hidden: true });
    regenerate.addEventListener('click', () => askPassword(panel, 'regenerate', regenerate));
    turnOff.addEventListener('click', () => askPassword(panel, 'disable', turnOff));
    body.replaceChildren(
      h('p', null, gettext('Signing in asks for your password and a code from your authenticator app.')),
      h(
        'p',
        { class: fewLeft ? 'notice warning' : 'muted' },
        left === 0
          ? gettext('You have no recovery codes left. Make new ones, so that losing your phone does not lock you out.')
          : interpolate(
              ngettext(
                'You have %(count)s unused recovery code.',
                'You have %(count)s unused recovery codes.',
                left,
              ),
              { count: left },
            ),
        fewLeft && left > 0 ? ` ${gettext('Make new ones before you run out.')}` : '',
      ),
      h('div', { class: 'actions' }, regenerate, turnOff),
      panel,
    );
  }

  /** Names of the organizations this person administers that require 2FA of their admins. */
  function organizationsRequiringIt() {
    return (getUser()?.memberships || [])
      .filter((m) => m.role === 'org_admin' && m.organization.require_two_factor)
      .map((m) => m.organization.name);
  }

  // --- Setting up ---

  async function startSetup(button) {
    let setup;
    try {
      setup = await whileBusy(button, () => api.post('/me/two-factor/totp/', undefined, { signal }));
    } catch (error) {
      if (error.name === 'AbortError') return;
      if (error.code === 'accounts.otp_enabled') {
        toast(gettext('Two-factor authentication is already on (perhaps from another browser).'));
        load();
        return;
      }
      toast(errorText(error), { kind: 'error' });
      return;
    }
    busyWith = 'setup';
    drawSetup(setup);
  }

  function drawSetup(setup) {
    const code = field({
      label: gettext('6-digit code from the app'),
      name: 'code',
      inputmode: 'numeric',
      autocomplete: 'one-time-code',
      maxlength: 9,
      required: true,
      class: 'code-input',
      spellcheck: 'false',
    });
    const alert = formAlert();
    const confirm = h('button', { type: 'submit', class: 'button primary' }, gettext('Turn on'));
    const cancel = h('button', { type: 'button', class: 'button' }, gettext('Cancel'));
    cancel.addEventListener('click', () => {
      load();
      element.querySelector('h2').tabIndex = -1;
      element.querySelector('h2').focus();
    });
    const form = h('form', { class: 'stack', novalidate: true }, alert, code.wrapper, h('div', { class: 'actions' }, confirm, cancel));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      clearFormError([code], alert);
      const digits = code.input.value.replace(/\s+/g, '');
      if (!/^\d{6}$/.test(digits)) {
        code.setError([gettext('Enter the 6 digits your app shows.')]);
        code.input.focus();
        return;
      }
      try {
        const { recovery_codes: codes } = await whileBusy(confirm, () =>
          api.post('/me/two-factor/totp/confirm/', { code: digits }, { signal }),
        );
        setBadge(true);
        toast(gettext('Two-factor authentication is on.'), { kind: 'success' });
        drawRecoveryCodes(codes, true);
      } catch (error) {
        if (error.name === 'AbortError') return;
        if (error.code === 'accounts.otp_invalid') {
          code.setError([gettext('That code is not right. Check that the time on your phone is correct, wait for the next code, and try again in a few seconds.')]);
          code.input.select();
          code.input.focus();
        } else if (error.code === 'accounts.otp_setup_missing') {
          showFormError([code], alert, { message: gettext('This setup is no longer valid (it was started again, perhaps in another browser). Cancel and start again.') });
        } else if (error.code === 'accounts.otp_enabled') {
          toast(gettext('Two-factor authentication is already on (perhaps from another browser).'));
          load();
        } else {
          showFormError([code], alert, error);
        }
      }
    });

    const secretText = setup.secret.replace(/(.{4})(?=.)/g, '$1 ');
    const copySecret = h('button', { type: 'button', class: 'button' }, gettext('Copy key'));
    copySecret.addEventListener('click', () => copyText(setup.secret));

    body.replaceChildren(
      h(
        'ol',
        { class: 'setup-steps' },
        h(
          'li',
          null,
          h('h3', null, gettext('Scan the QR code')),
          h('p', null, gettext('In your authenticator app, add an account and scan this code with the camera.')),
          // The server makes this SVG, but it still goes in as an image, never as markup:
          // an image cannot run scripts or reach the page.
          h('img', {
            class: 'qr-code',
            src: `data:image/svg+xml;base64,${base64(setup.qr_svg)}`,
            alt: gettext('QR code to add Atende to your authenticator app'),
            width: '200',
            height: '200',
          }),
          h(
            'details',
            { class: 'manual-key' },
            h('summary', null, gettext('Cannot scan it? Type a key instead')),
            h('p', null, gettext('Choose to enter a setup key in the app, and type this key (spaces do not matter). It is time-based.')),
            h('p', { class: 'secret-line' }, h('code', { class: 'secret', 'data-testid': 'totp-secret' }, secretText), copySecret),
          ),
        ),
        h(
          'li',
          null,
          h('h3', null, gettext('Enter the code from the app')),
          h('p', null, gettext('The app shows a new 6-digit code every 30 seconds. Enter the one it shows now.')),
          form,
        ),
      ),
    );
    focusFirst(body);
  }

  // --- Recovery codes ---

  /**
   * The codes, once: they are not shown again. Copy, download, and "I saved them".
   * @param {string[]} codes @param {boolean} justEnabled
   */
  function drawRecoveryCodes(codes, justEnabled) {
    busyWith = 'codes';
    releaseDownload();
    const user = getUser();
    const created = formatDateTime(new Date());
    const text = [
      interpolate(gettext('%(product)s recovery codes for %(email)s'), { product: PRODUCT_NAME, email: user.email }),
      interpolate(gettext('Made on %(date)s.'), { date: created }),
      '',
      ...codes,
      '',
      gettext('Each code works once, in place of the code from your authenticator app.'),
      '',
    ].join('\n');
    const url = URL.createObjectURL(new Blob([text], { type: 'text/plain;charset=utf-8' }));
    releaseDownload = () => {
      URL.revokeObjectURL(url);
      releaseDownload = () => {};
    };

    const copy = h('button', { type: 'button', class: 'button' }, gettext('Copy codes'));
    copy.addEventListener('click', () => copyText(codes.join('\n')));
    const download = h(
      'a',
      { class: 'button', href: url, download: 'atende-recovery-codes.txt' },
      gettext('Download as a text file'),
    );
    const done = h('button', { type: 'button', class: 'button primary' }, gettext('I saved them'));
    done.addEventListener('click', async () => {
      await load();
      element.querySelector('h2').tabIndex = -1;
      element.querySelector('h2').focus();
    });

    body.replaceChildren(
      h(
        'div',
        { class: 'recovery-panel', role: 'group', 'aria-labelledby': 'recovery-title' },
        h('h3', { id: 'recovery-title' }, gettext('Save your recovery codes')),
        justEnabled
          ? h('p', null, gettext('If you lose your phone, each of these codes gets you in once instead of a code from the app.'))
          : h('p', null, gettext('Your old recovery codes no longer work. Use these instead.')),
        h('p', { class: 'notice warning' }, gettext('Keep them somewhere safe, such as a password manager. They are shown only now.')),
        h('ol', { class: 'recovery-codes', 'data-testid': 'recovery-codes' }, codes.map((value) => h('li', null, h('code', null, value)))),
        h('div', { class: 'actions' }, copy, download),
        h('div', { class: 'actions' }, done),
      ),
    );
    focusFirst(body);
  }

  // --- Password-protected actions ---

  /**
   * New recovery codes and turning off both need the password again.
   * @param {HTMLElement} panel @param {'regenerate'|'disable'} action @param {HTMLElement} opener
   */
  function askPassword(panel, action, opener) {
    busyWith = 'password';
    const password = field({
      label: gettext('Your password'),
      name: 'password',
      type: 'password',
      autocomplete: 'current-password',
      required: true,
    });
    const alert = formAlert();
    const submit = h(
      'button',
      { type: 'submit', class: action === 'disable' ? 'button danger' : 'button primary' },
      action === 'disable' ? gettext('Turn off two-factor authentication') : gettext('Make new codes'),
    );
    const cancel = h('button', { type: 'button', class: 'button' }, gettext('Cancel'));
    const close = () => {
      busyWith = null;
      panel.hidden = true;
      panel.replaceChildren();
      opener.focus();
    };
    cancel.addEventListener('click', close);
    const form = h(
      'form',
      { class: 'stack' },
      h(
        'p',
        null,
        action === 'disable'
          ? gettext('Enter your password to turn off two-factor authentication.')
          : gettext('Enter your password to make new recovery codes. The ones you have now stop working.'),
      ),
      alert,
      password.wrapper,
      h('div', { class: 'actions' }, submit, cancel),
    );
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      clearFormError([password], alert);
      if (!password.input.value) {
        password.setError([gettext('Enter your password.')]);
        password.input.focus();
        return;
      }
      if (action === 'disable') {
        const confirmed = await confirmDialog({
          title: gettext('Turn off two-factor authentication?'),
          message: gettext('Signing in will ask only for your password, and your recovery codes will stop working.'),
          confirmLabel: gettext('Turn off'),
          danger: true,
        });
        if (!confirmed) {
          submit.focus();
          return;
        }
      }
      try {
        if (action === 'disable') {
          await whileBusy(submit, () => api.post('/me/two-factor/disable/', { password: password.input.value }, { signal }));
          toast(gettext('Two-factor authentication is off.'), { kind: 'success' });
          await load();
          element.querySelector('h2').tabIndex = -1;
          element.querySelector('h2').focus();
        } else {
          const { recovery_codes: codes } = await whileBusy(submit, () =>
            api.post('/me/two-factor/recovery-codes/', { password: password.input.value }, { signal }),
          );
          drawRecoveryCodes(codes, false);
        }
      } catch (error) {
        if (error.name === 'AbortError') return;
        password.input.value = '';
        if (error.code === 'accounts.reauthentication_failed') {
          password.setError([gettext('That password is not right.')]);
          password.input.focus();
        } else if (error.code === 'accounts.otp_disabled') {
          toast(gettext('Two-factor authentication is already off (perhaps from another browser).'));
          load();
        } else {
          showFormError([password], alert, error);
        }
      }
    });
    panel.replaceChildren(form);
    panel.hidden = false;
    password.input.focus();
  }

  return { element, load, refresh };
}

// --- Signed-in browsers -------------------------------------------------------------------------

function sessionsSection({ signal }) {
  const body = h('div', null, loading());
  const element = h(
    'section',
    { class: 'card', 'aria-labelledby': 'sessions-title' },
    h('h2', { id: 'sessions-title' }, gettext('Where you are signed in')),
    h('p', { class: 'muted' }, gettext('Browsers signed in to your account. If you do not recognise one, end it and change your password.')),
    body,
  );

  async function load() {
    try {
      const sessions = await listSessions();
      if (signal.aborted) return;
      draw(sessions);
    } catch (error) {
      if (signal.aborted || error.code === 'not_authenticated') return;
      body.replaceChildren(
        h('p', { class: 'error-text' }, errorText(error)),
        h('button', { type: 'button', class: 'button', onclick: load }, gettext('Try again')),
      );
    }
  }

  function draw(sessions) {
    // This browser first, then the most recently used.
    const sorted = [...sessions].sort(
      (a, b) => Number(b.is_current) - Number(a.is_current) || lastSeen(b) - lastSeen(a),
    );
    const others = sorted.filter((session) => !session.is_current);
    const endOthers =
      others.length > 0
        ? h('button', { type: 'button', class: 'button danger-outline' }, gettext('End all other sessions'))
        : null;
    endOthers?.addEventListener('click', async () => {
      const confirmed = await confirmDialog({
        title: gettext('End all other sessions?'),
        message: interpolate(
          ngettext(
            '%(count)s other browser will be signed out. This one stays signed in.',
            '%(count)s other browsers will be signed out. This one stays signed in.',
            others.length,
          ),
          { count: others.length },
        ),
        confirmLabel: gettext('End sessions'),
        danger: true,
      });
      if (!confirmed) {
        endOthers.focus();
        return;
      }
      await end(others.map((session) => session.id), endOthers, gettext('All other sessions were ended.'));
    });
    setChildren(
      body,
      h('ul', { class: 'session-list' }, sorted.map((session) => sessionItem(session))),
      endOthers ? h('div', { class: 'actions' }, endOthers) : null,
    );
  }

  function sessionItem(session) {
    const name = deviceName(session.user_agent);
    const created = new Date(session.created_at * 1000);
    const seen = session.last_seen_at ? new Date(session.last_seen_at * 1000) : null;
    const button = session.is_current
      ? null
      : h(
          'button',
          {
            type: 'button',
            class: 'button',
            'aria-label': interpolate(gettext('End the session on %(device)s'), { device: name }),
          },
          gettext('End session'),
        );
    button?.addEventListener('click', () => end([session.id], button, interpolate(gettext('The session on %(device)s was ended.'), { device: name })));
    return h(
      'li',
      { class: 'session', dataset: { sessionId: String(session.id) } },
      h(
        'div',
        { class: 'session-main' },
        h(
          'p',
          { class: 'session-name' },
          h('strong', null, name),
          session.is_current ? h('span', { class: 'badge success' }, gettext('This browser')) : null,
        ),
        h(
          'p',
          { class: 'session-details muted' },
          session.ip ? h('span', null, interpolate(gettext('IP address %(ip)s'), { ip: session.ip })) : null,
          h('span', null, interpolateParts(gettext('Signed in %(date)s'), { date: timeElement(created, formatDateTime(created)) })),
          seen && !session.is_current
            ? h('span', null, interpolateParts(gettext('Last active %(when)s'), { when: timeElement(seen, formatRelative(seen)) }))
            : null,
        ),
      ),
      button,
    );
  }

  /**
   * Sign browsers out, then show the list the server answers with.
   * @param {number[]} ids @param {HTMLButtonElement} button @param {string} done what to announce
   */
  async function end(ids, button, done) {
    try {
      const left = await whileBusy(button, () => endSessions(ids));
      draw(left);
      toast(done, { kind: 'success' });
      element.querySelector('h2').tabIndex = -1;
      element.querySelector('h2').focus();
    } catch (error) {
      if (error.code === 'not_authenticated') return; // this session is gone: main signs out
      toast(errorText(error), { kind: 'error' });
    }
  }

  return { element, load };
}

const lastSeen = (session) => session.last_seen_at || session.created_at || 0;

/** A <time> with the machine-readable instant, and the full date on hover. */
function timeElement(date, text) {
  return h('time', { datetime: date.toISOString(), title: formatDateTime(date) }, text);
}

/** Base64 of a string's UTF-8 bytes (btoa alone only takes Latin-1). @param {string} text */
function base64(text) {
  let binary = '';
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** Copy to the clipboard and say so; the clipboard needs a secure context and permission. */
async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    toast(gettext('Copied.'), { kind: 'success' });
  } catch {
    toast(gettext('Could not copy. Select the text and copy it yourself.'), { kind: 'error' });
  }
}
