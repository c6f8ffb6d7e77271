// The person's own profile: the kind of account, the contacts (e-mail and mobile phone, each
// changed and verified with a code), and the details they set freely (name, language, time
// zone).

import { becomeProfessional, getUser, loadMe, updateMe } from '../auth.js';
import {
  clearFormError,
  confirmDialog,
  errorText,
  field,
  formAlert,
  h,
  setChildren,
  showFormError,
  toast,
  whileBusy,
} from '../components.js';
import { currentLanguage, gettext, languageChoices, setLanguageCookie } from '../i18n.js';
import {
  bouncingText,
  codeEntry,
  contactForm,
  formatPhone,
  isVerified,
  lastCodeSent,
  sendCode,
  verificationErrorText,
} from '../verification.js';

export function render({ main, setTitle, onResync }) {
  setTitle(gettext('Profile'));
  const account = accountSection();
  const contacts = ['email', 'phone'].map((channel) => contactRow(channel));
  const details = detailsSection();

  main.append(
    h(
      'div',
      { class: 'narrow-column' },
      h('h1', null, gettext('Your profile')),
      account.element,
      h(
        'section',
        { class: 'card', 'aria-labelledby': 'contacts-title' },
        h('h2', { id: 'contacts-title' }, gettext('Contacts')),
        h('p', { class: 'muted' }, gettext('We send codes and important messages here. A new address or number counts once you confirm the code we send to it.')),
        contacts.map((row) => row.element),
      ),
      details.element,
    ),
  );

  onResync(async () => {
    const me = await loadMe().catch(() => null);
    if (!me) return;
    account.draw(me);
    contacts.forEach((row) => row.refresh(me));
    details.refresh(me);
  });
}

// --- Account type ------------------------------------------------------------------------------

function accountSection() {
  const body = h('div');
  const element = h(
    'section',
    { class: 'card', 'aria-labelledby': 'account-title' },
    h('h2', { id: 'account-title' }, gettext('Account')),
    body,
  );

  const draw = (user) => {
    const professional = user.account_type === 'professional';
    const facts = h(
      'dl',
      { class: 'facts' },
      h('dt', null, gettext('Account type')),
      h('dd', null, professional ? gettext('Professional') : gettext('Client')),
    );
    if (professional) {
      body.replaceChildren(
        facts,
        h('p', null, h('a', { href: '/kyc' }, gettext('Identity verification'))),
        h('p', null, h('a', { href: '/my-data' }, gettext('My data: download or delete your account'))),
      );
      return;
    }
    const button = h('button', { type: 'button', class: 'button' }, gettext('Become a professional'));
    button.addEventListener('click', async () => {
      const confirmed = await confirmDialog({
        title: gettext('Become a professional?'),
        message: gettext('Professionals offer paid calls to clients and receive what they earn. You keep your e-mail, phone and history. You cannot switch back to a client account yourself.'),
        confirmLabel: gettext('Become a professional'),
      });
      if (!confirmed) {
        button.focus();
        return;
      }
      try {
        const me = await whileBusy(button, becomeProfessional);
        draw(me);
        element.querySelector('h2').tabIndex = -1;
        element.querySelector('h2').focus();
        toast(gettext('Your account is now a professional account.'), { kind: 'success' });
      } catch (error) {
        toast(errorText(error), { kind: 'error' });
      }
    });
    body.replaceChildren(
      facts,
      h('p', { class: 'muted' }, gettext('Do you offer your expertise? A professional account lets you take paid calls.')),
      button,
      h('p', null, h('a', { href: '/my-data' }, gettext('My data: download or delete your account'))),
    );
  };
  draw(getUser());
  return { element, draw };
}

// --- Contacts ----------------------------------------------------------------------------------

/**
 * One contact: its value and state, "Verify" and "Change", and the inline steps they open.
 * @param {'email'|'phone'} channel
 */
function contactRow(channel) {
  const label = channel === 'email' ? gettext('E-mail') : gettext('Mobile phone');
  const labelId = `contact-${channel}-label`;
  const summary = h('div', { class: 'contact-summary' });
  const panel = h('div', { class: 'contact-panel', hidden: true });
  const element = h('div', { class: 'contact', role: 'group', 'aria-labelledby': labelId }, summary, panel);
  let open = false;

  const closePanel = () => {
    open = false;
    panel.hidden = true;
    panel.replaceChildren();
  };

  const drawSummary = (user) => {
    const value = channel === 'email' ? user.email : formatPhone(user.phone);
    const verified = isVerified(channel, user);
    const bouncing = channel === 'email' && user.email_undeliverable;
    const verifyButton =
      value && !verified
        ? h(
            'button',
            {
              type: 'button',
              class: 'button',
              'aria-label': channel === 'email' ? gettext('Verify e-mail address') : gettext('Verify mobile phone'),
              onclick: () => startVerify(user),
            },
            gettext('Verify'),
          )
        : null;
    const changeButton = h(
      'button',
      {
        type: 'button',
        class: 'button',
        'aria-label':
          channel === 'email'
            ? gettext('Change e-mail address')
            : value
              ? gettext('Change mobile phone')
              : gettext('Add mobile phone'),
        onclick: () => startChange(),
      },
      value ? gettext('Change') : gettext('Add'),
    );
    setChildren(
      summary,
      h(
        'div',
        { class: 'contact-main' },
        h('span', { class: 'contact-label', id: labelId }, label),
        h(
          'span',
          { class: 'contact-line' },
          value
            ? h('span', { class: 'contact-value' }, value)
            : h('span', { class: 'muted' }, gettext('No phone number yet')),
          value
            ? h(
                'span',
                { class: verified ? 'badge success' : 'badge warning' },
                verified ? gettext('Verified') : gettext('Not verified'),
              )
            : null,
        ),
      ),
      h('div', { class: 'contact-actions' }, verifyButton, changeButton),
      bouncing
        ? h(
            'p',
            { class: 'notice danger contact-warning' },
            bouncingText(),
          )
        : null,
    );
  };

  /** After a confirmed code: new state, a word of success, focus back on the row. */
  const confirmed = (me, changed) => {
    closePanel();
    drawSummary(me);
    const messages =
      channel === 'email'
        ? [gettext('E-mail address verified.'), gettext('E-mail address changed.')]
        : [gettext('Mobile phone verified.'), gettext('Mobile phone changed.')];
    toast(changed ? messages[1] : messages[0], { kind: 'success' });
    summary.querySelector('.contact-actions button:last-child').focus();
  };

  const showCode = ({ target, newValue, sent }) => {
    // A first phone number is "verified", not "changed".
    const changing = Boolean(newValue) && (channel === 'email' || Boolean(getUser().phone));
    const entry = codeEntry({ channel, target, newValue, sent, onConfirmed: (me) => confirmed(me, changing) });
    panel.replaceChildren(entry.element, cancelButton());
    return entry;
  };

  const cancelButton = () =>
    h(
      'p',
      { class: 'step-aside' },
      h(
        'button',
        {
          type: 'button',
          class: 'link-button',
          onclick: () => {
            closePanel();
            summary.querySelector('.contact-actions button:last-child').focus();
          },
        },
        gettext('Cancel'),
      ),
    );

  const openPanel = () => {
    open = true;
    panel.hidden = false;
  };

  async function startVerify(user) {
    const target = channel === 'email' ? user.email : formatPhone(user.phone);
    const pending = lastCodeSent(channel);
    openPanel();
    if (pending && !pending.newValue) {
      showCode({ target, newValue: null, sent: pending }).focus();
      return;
    }
    panel.replaceChildren(h('p', { class: 'loading', role: 'status' }, gettext('Sending a code…')));
    try {
      const sent = await sendCode(channel);
      showCode({ target, newValue: null, sent }).focus();
    } catch (error) {
      if (error.code === 'accounts.code_cooldown' || error.code === 'accounts.too_many_codes') {
        // A code went out moments ago (at sign-up, say): let the person type that one.
        const wait = Number(error.extra.wait) || 0;
        const entry = showCode({ target, newValue: null, sent: { target, resendAt: Date.now() + wait * 1000, expiresAt: 0 } });
        entry.focus();
        if (error.code === 'accounts.too_many_codes') {
          toast(verificationErrorText(error, channel), { kind: 'error' });
        }
        return;
      }
      if (error.code === 'accounts.already_verified') {
        const me = await loadMe().catch(() => null);
        if (me) confirmed(me, false);
        return;
      }
      panel.replaceChildren(h('p', { class: 'form-alert', role: 'alert' }, verificationErrorText(error, channel)), cancelButton());
    }
  }

  function startChange() {
    openPanel();
    const adding = channel === 'phone' && !getUser().phone;
    const form = contactForm({
      channel,
      label: channel === 'email' ? gettext('New e-mail address') : adding ? gettext('Mobile phone') : gettext('New mobile phone'),
      onSent: (sent, value) => showCode({ target: value, newValue: value, sent }).focus(),
      onCancel: () => {
        closePanel();
        summary.querySelector('.contact-actions button:last-child').focus();
      },
    });
    panel.replaceChildren(
      h(
        'p',
        { class: 'muted' },
        channel === 'email'
          ? gettext('We will send a code to the new address. It replaces the current one once you confirm the code.')
          : adding
            ? gettext('Add your mobile phone number: we will send it a code by SMS.')
            : gettext('We will send a code by SMS to the new number. It replaces the current one once you confirm the code.'),
      ),
      form.element,
    );
    form.focus();
  }

  drawSummary(getUser());
  return {
    element,
    /** Redraw from a fresh /me, unless the person is in the middle of a change. */
    refresh(me) {
      if (!open) drawSummary(me);
    },
  };
}

// --- Details -----------------------------------------------------------------------------------

function detailsSection() {
  const displayName = field({
    label: gettext('Display name'),
    name: 'display_name',
    autocomplete: 'name',
    required: true,
    maxlength: 150,
  });
  const language = field({
    label: gettext('Language'),
    name: 'language',
    control: h('select', null, languageChoices().map(([code, name]) => h('option', { value: code, lang: code }, name))),
  });
  const timeZone = field({
    label: gettext('Time zone'),
    name: 'time_zone',
    control: h('select'),
    hint: gettext('Times in the app and in e-mails are shown in this zone.'),
  });
  const fields = [displayName, language, timeZone];
  const alert = formAlert();
  const submit = h('button', { type: 'submit', class: 'button primary' }, gettext('Save changes'));

  const fill = (me) => {
    displayName.input.value = me.display_name || '';
    language.input.value = me.language || currentLanguage();
    fillTimeZones(timeZone.input, me.time_zone);
  };
  fill(getUser());

  const form = h('form', { class: 'stack' }, alert, displayName.wrapper, language.wrapper, timeZone.wrapper, submit);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFormError(fields, alert);
    const before = getUser();
    const values = {
      display_name: displayName.input.value.trim(),
      language: language.input.value,
      time_zone: timeZone.input.value,
    };
    // Send only what changed, so saving one field cannot overwrite another changed elsewhere.
    const changes = Object.fromEntries(
      Object.entries(values).filter(([name, value]) => value !== (before[name] || '')),
    );
    if (Object.keys(changes).length === 0) {
      toast(gettext('Nothing to save: no changes.'));
      return;
    }
    try {
      const me = await whileBusy(submit, () => updateMe(changes));
      if (changes.language && changes.language !== currentLanguage()) {
        // The page and its catalog are rendered in one language: reload into the new one.
        await setLanguageCookie(changes.language);
        window.location.reload();
        return;
      }
      fill(me);
      toast(gettext('Profile saved.'), { kind: 'success' });
    } catch (error) {
      showFormError(fields, alert, error);
    }
  });

  const element = h(
    'section',
    { class: 'card', 'aria-labelledby': 'details-title' },
    h('h2', { id: 'details-title' }, gettext('Personal details')),
    form,
  );
  return {
    element,
    /** Only refresh the form when the person has not started editing it. */
    refresh(me) {
      if (!form.matches(':focus-within')) fill(me);
    },
  };
}

/** Every IANA zone the browser knows, plus the saved one in case the browser lacks it. */
function fillTimeZones(select, selected) {
  const zones = new Set(typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : []);
  if (selected) zones.add(selected);
  if (zones.size === 0) zones.add('America/Sao_Paulo');
  select.replaceChildren(
    ...[...zones].sort().map((zone) => h('option', { value: zone }, zone.replaceAll('_', ' '))),
  );
  select.value = selected || 'America/Sao_Paulo';
}
