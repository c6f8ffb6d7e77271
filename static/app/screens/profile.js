// The person's own profile: display name, phone, language and time zone.

import { getUser, loadMe, updateMe } from '../auth.js';
import { clearFormError, field, formAlert, h, showFormError, toast, whileBusy } from '../components.js';
import { currentLanguage, gettext, languageChoices, setLanguageCookie } from '../i18n.js';

export function render({ main, setTitle, onResync }) {
  setTitle(gettext('Profile'));
  const user = getUser();

  const displayName = field({
    label: gettext('Display name'),
    name: 'display_name',
    autocomplete: 'name',
    required: true,
    maxlength: 150,
  });
  const phone = field({
    label: gettext('Mobile phone'),
    name: 'phone',
    type: 'tel',
    autocomplete: 'tel',
    inputmode: 'tel',
    placeholder: '+5511987654321',
    hint: gettext('International format: + and country code, then the number, e.g. +5511987654321.'),
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
  const fields = [displayName, phone, language, timeZone];
  const alert = formAlert();
  const submit = h('button', { type: 'submit', class: 'button primary' }, gettext('Save changes'));
  const email = h('dd');

  const fill = (me) => {
    email.textContent = me.email;
    displayName.input.value = me.display_name || '';
    phone.input.value = me.phone || '';
    language.input.value = me.language || currentLanguage();
    fillTimeZones(timeZone.input, me.time_zone);
  };
  fill(user);

  const form = h(
    'form',
    { class: 'stack' },
    alert,
    displayName.wrapper,
    phone.wrapper,
    language.wrapper,
    timeZone.wrapper,
    submit,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFormError(fields, alert);
    const before = getUser();
    const values = {
      display_name: displayName.input.value.trim(),
      phone: phone.input.value.replace(/[\s().-]/g, ''), // people type spaces and dashes; E.164 has none
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

  main.append(
    h(
      'section',
      { class: 'card narrow' },
      h('h1', null, gettext('Your profile')),
      h('dl', { class: 'facts' }, h('dt', null, gettext('E-mail')), email),
      form,
    ),
  );

  onResync(async () => {
    // Only refresh the form when the person has not started editing it.
    const me = await loadMe().catch(() => null);
    if (me && !form.matches(':focus-within')) fill(me);
  });
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
