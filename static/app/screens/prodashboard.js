// /professional: the professional's dashboard. The "taking calls" switch, the status clients
// see, the queue (`queueing.queue.changed`), today's calls and earnings; and
// /professional/profile, the editor of the public page (headline, bio, price, specialties,
// languages, weekly availability, photo). Read again after a reconnect (DESIGN §5).

import { api, apiRequest } from '../api.js';
import { getUser } from '../auth.js';
import { clearFormError, errorText, field, formAlert, h, loading, showFormError, toast, whileBusy } from '../components.js';
import { formatDateTime, gettext, interpolate, ngettext } from '../i18n.js';
import { formatTokens, serialized } from '../money.js';
import { socket } from '../socket.js';
import { formatSeconds, isProfessional, languageName, ratingText, setStatusDot, statusDot } from '../calls/common.js';

const LANGUAGES = ['pt', 'en', 'es', 'fr', 'de', 'it'];

export function render(context) {
  const { main, params, setTitle } = context;
  if (!isProfessional(getUser())) {
    setTitle(gettext('Dashboard'));
    main.append(
      h('h1', null, gettext('Dashboard')),
      h('p', null, gettext('This page is for professionals. You can become one on your profile page.')),
      h('p', null, h('a', { href: '/profile', class: 'button' }, gettext('Go to your profile'))),
    );
    return;
  }
  if (params.section === 'profile') profileEditor(context);
  else dashboard(context);
}

// --- the dashboard ----------------------------------------------------------------------------

function dashboard({ main, setTitle, signal, onCleanup, onResync }) {
  setTitle(gettext('Dashboard'));
  const me = getUser();
  const dot = statusDot('offline');
  const toggle = h('input', { type: 'checkbox', role: 'switch', id: 'accepting-switch', 'data-testid': 'accepting-switch', disabled: true });
  const switchHint = h('p', { class: 'muted' });
  const today = h('dl', { class: 'call-figures' }, loading());
  const queueBody = h('div', null, loading());
  const queueTitle = h('h2', { id: 'queue-title' }, gettext('Queue'));
  main.append(
    h('h1', null, gettext('Dashboard')),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'availability-title' },
      h('h2', { id: 'availability-title' }, gettext('Taking calls')),
      h('div', { class: 'switch-field' }, toggle, h('label', { for: toggle.id }, gettext('I take calls now'))),
      h('p', null, gettext('What clients see:'), ' ', dot),
      switchHint,
    ),
    h('section', { class: 'card', 'aria-labelledby': 'today-title' }, h('h2', { id: 'today-title' }, gettext('Today')), today),
    h('section', { class: 'card', 'aria-labelledby': 'queue-title' }, queueTitle, queueBody),
    h(
      'p',
      { class: 'actions' },
      h('a', { href: '/professional/profile', class: 'button' }, gettext('Edit your public page')),
      h('a', { href: `/professionals/${me.id}`, class: 'button' }, gettext('See your public page')),
      h('a', { href: '/calls', class: 'button' }, gettext('Your calls')),
      h('a', { href: '/earnings', class: 'button' }, gettext('Earnings')),
    ),
  );

  const showStatus = (status, accepting) => {
    setStatusDot(dot, status);
    toggle.checked = Boolean(accepting);
    toggle.disabled = false;
    switchHint.textContent =
      accepting && status === 'offline'
        ? gettext('You are shown offline while this app is closed or disconnected.')
        : status === 'busy'
          ? gettext('You are in a call or offering a turn: new calls wait in your queue.')
          : '';
  };

  toggle.addEventListener('change', async () => {
    const wanted = toggle.checked;
    toggle.disabled = true;
    // The incoming-call notification needs the permission, asked on this click (a gesture).
    if (wanted && 'Notification' in window && Notification.permission === 'default') Notification.requestPermission().catch(() => {});
    try {
      const answer = await api.post('/calls/me/accepting/', { accepting: wanted }, { signal });
      showStatus(answer.status, answer.accepting_calls);
      toast(answer.accepting_calls ? gettext('You are taking calls.') : gettext('You stopped taking calls.'), { kind: 'success' });
    } catch (error) {
      if (error.name === 'AbortError') return;
      toggle.checked = !wanted;
      toggle.disabled = false;
      toast(errorText(error), { kind: 'error' });
    }
  });

  const loadDashboard = async () => {
    try {
      const data = await api.get('/calls/me/dashboard/', { signal });
      showStatus(data.status, data.accepting_calls);
      const figures = data.today || {};
      today.replaceChildren(
        h('div', null, h('dt', null, gettext('Calls')), h('dd', { class: 'figure-value' }, String(figures.calls ?? 0))),
        h('div', null, h('dt', null, gettext('Time in calls')), h('dd', { class: 'figure-value' }, formatSeconds(figures.seconds ?? 0))),
        h('div', null, h('dt', null, gettext('Earned')), h('dd', { class: 'figure-value', 'data-testid': 'today-earned' }, formatTokens(figures.earned ?? 0))),
        h('div', null, h('dt', null, gettext('Rating')), h('dd', null, ratingText(data.rating_average, data.rating_count))),
      );
    } catch (error) {
      if (error.name === 'AbortError') return;
      today.replaceChildren(h('p', { class: 'error-text', role: 'alert' }, errorText(error)));
    }
  };

  const loadQueue = serialized(async () => {
    try {
      const data = await api.get('/queue/professional/', { signal });
      const entries = data.entries || [];
      queueTitle.textContent = interpolate(ngettext('Queue (%(count)s person)', 'Queue (%(count)s people)', data.length ?? entries.length), {
        count: data.length ?? entries.length,
      });
      queueBody.replaceChildren(
        entries.length
          ? h(
              'ol',
              { class: 'plain-list', 'data-testid': 'pro-queue' },
              entries.map((entry) =>
                h(
                  'li',
                  null,
                  h('span', { class: 'item-main' }, entry.client.display_name),
                  h('span', { class: 'muted' }, interpolate(gettext('since %(time)s'), { time: formatDateTime(new Date(entry.joined_at), { timeStyle: 'short' }) })),
                  entry.status === 'offered' ? h('span', { class: 'badge success' }, gettext('Turn offered')) : null,
                ),
              ),
            )
          : h('p', { class: 'muted' }, gettext('Nobody is waiting.')),
      );
    } catch (error) {
      if (error.name === 'AbortError') return;
      queueBody.replaceChildren(h('p', { class: 'error-text', role: 'alert' }, errorText(error)));
    }
  });

  const stops = [
    socket.on('calls.professional.status', (data) => {
      if (data.professional_id !== me.id) return;
      showStatus(data.status, data.accepting_calls);
    }),
    socket.on('queueing.queue.changed', (data) => {
      if (data.professional_id === undefined || data.professional_id === me.id) loadQueue();
    }),
    socket.on('calls.call.updated', (call) => {
      if (call.professional && call.professional.id === me.id && call.status === 'ended') loadDashboard();
    }),
  ];
  onCleanup(() => stops.forEach((stop) => stop()));
  const loadAll = async () => {
    await loadDashboard();
    await loadQueue();
  };
  onResync(loadAll);
  loadAll();
}

// --- the public page's editor -----------------------------------------------------------------

function profileEditor({ main, setTitle, signal, navigate }) {
  setTitle(gettext('Your public page'));
  const body = h('div', null, loading());
  main.append(h('h1', null, gettext('Your public page')), body);

  (async () => {
    try {
      const profile = await api.get('/calls/me/profile/', { signal });
      let specialties = [];
      try {
        const answer = await api.get('/calls/specialties/', { signal });
        specialties = Array.isArray(answer) ? answer : answer.results || [];
      } catch {
        // Without the list the current specialties still show below.
      }
      draw(profile, specialties);
    } catch (error) {
      if (error.name === 'AbortError') return;
      body.replaceChildren(h('p', { class: 'error-text', role: 'alert' }, errorText(error)));
    }
  })();

  function draw(profile, specialties) {
    const headline = field({ label: gettext('Headline'), name: 'headline', value: profile.headline || '', maxlength: '120' });
    const bio = field({
      label: gettext('About you'),
      name: 'bio',
      control: h('textarea', { rows: '6', maxlength: '4000' }),
      hint: gettext('What you do and how you help. Blank lines separate paragraphs.'),
    });
    bio.input.value = profile.bio || '';
    const price = field({
      label: gettext('Price per minute (tokens)'),
      name: 'price_per_minute',
      type: 'number',
      min: '1',
      step: '1',
      inputmode: 'numeric',
      required: true,
      value: String(profile.price_per_minute ?? ''),
    });
    const chosenSpecialties = new Set((profile.specialties || []).map((item) => (typeof item === 'string' ? item : item.slug)));
    const specialtyBoxes = specialties.map((item) =>
      h('label', { class: 'check-option' }, h('input', { type: 'checkbox', name: 'specialties', value: item.slug, checked: chosenSpecialties.has(item.slug) }), item.name),
    );
    const chosenLanguages = new Set(profile.languages || []);
    const languageBoxes = [...new Set([...LANGUAGES, ...chosenLanguages])].map((code) =>
      h('label', { class: 'check-option' }, h('input', { type: 'checkbox', name: 'languages', value: code, checked: chosenLanguages.has(code) }), languageName(code)),
    );
    const slots = h('ul', { class: 'plain-list availability-list' });
    const addSlot = (slot = { weekday: 0, start: '09:00', end: '18:00' }) => {
      const weekday = h(
        'select',
        { class: 'compact', 'aria-label': gettext('Day') },
        [0, 1, 2, 3, 4, 5, 6].map((day) => h('option', { value: String(day) }, weekdayName(day))),
      );
      weekday.value = String(slot.weekday);
      const start = h('input', { type: 'time', class: 'compact', value: slot.start, 'aria-label': gettext('From') });
      const end = h('input', { type: 'time', class: 'compact', value: slot.end, 'aria-label': gettext('Until') });
      const item = h(
        'li',
        { class: 'availability-slot' },
        weekday,
        start,
        end,
        h('button', { type: 'button', class: 'link-button', onclick: () => item.remove() }, gettext('Remove')),
      );
      slots.append(item);
    };
    (profile.availability || []).forEach((slot) => addSlot(slot));
    const addButton = h('button', { type: 'button', class: 'button', onclick: () => addSlot() }, gettext('Add a time window'));
    const alert = formAlert();
    const submit = h('button', { type: 'submit', class: 'button primary' }, gettext('Save'));
    const form = h(
      'form',
      { class: 'stack card', novalidate: true },
      headline.wrapper,
      bio.wrapper,
      price.wrapper,
      h('fieldset', { class: 'check-group' }, h('legend', null, gettext('Specialties')), specialtyBoxes.length ? specialtyBoxes : h('p', { class: 'muted' }, gettext('No specialties to choose from.'))),
      h('fieldset', { class: 'check-group' }, h('legend', null, gettext('Languages you take calls in')), languageBoxes),
      h('fieldset', null, h('legend', null, gettext('Weekly availability')), slots, addButton),
      alert,
      submit,
    );
    const fields = [headline, bio, price];
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      clearFormError(fields, alert);
      const changes = {
        headline: headline.input.value.trim(),
        bio: bio.input.value.trim(),
        price_per_minute: Number(price.input.value),
        specialties: [...form.querySelectorAll('input[name="specialties"]:checked')].map((box) => box.value),
        languages: [...form.querySelectorAll('input[name="languages"]:checked')].map((box) => box.value),
        availability: [...slots.children].map((item) => {
          const [weekday, start, end] = item.querySelectorAll('select, input');
          return { weekday: Number(weekday.value), start: start.value, end: end.value };
        }),
      };
      try {
        await whileBusy(submit, () => apiRequest('PUT', '/calls/me/profile/', { json: changes, signal }));
        toast(gettext('Your public page was saved.'), { kind: 'success' });
        navigate('/professional');
      } catch (error) {
        if (error.name !== 'AbortError') showFormError(fields, alert, error);
      }
    });

    body.replaceChildren(photoSection(profile, signal), form);
  }
}

function photoSection(profile, signal) {
  const preview = profile.photo_url ? h('img', { class: 'call-avatar large', src: profile.photo_url, alt: gettext('Your photo') }) : h('p', { class: 'muted' }, gettext('No photo yet.'));
  const input = h('input', { type: 'file', id: 'profile-photo', accept: 'image/jpeg,image/png,image/webp' });
  const status = h('p', { class: 'muted', role: 'status' });
  const frame = h('div', { class: 'photo-preview' }, preview);
  input.addEventListener('change', async () => {
    const file = input.files && input.files[0];
    if (!file) return;
    const data = new FormData();
    data.append('photo', file);
    status.textContent = gettext('Uploading…');
    try {
      const answer = await api.postForm('/calls/me/profile/photo/', data, { signal });
      status.textContent = gettext('Photo saved.');
      if (answer && answer.photo_url) frame.replaceChildren(h('img', { class: 'call-avatar large', src: answer.photo_url, alt: gettext('Your photo') }));
    } catch (error) {
      if (error.name !== 'AbortError') status.textContent = errorText(error);
    }
  });
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'photo-title' },
    h('h2', { id: 'photo-title' }, gettext('Photo')),
    frame,
    h('div', { class: 'field' }, h('label', { for: input.id }, gettext('Choose a photo')), input),
    status,
  );
}

function weekdayName(weekday) {
  const date = new Date(Date.UTC(2024, 0, 1 + Number(weekday))); // 2024-01-01 was a Monday
  return new Intl.DateTimeFormat(document.documentElement.lang || undefined, { weekday: 'long', timeZone: 'UTC' }).format(date);
}
