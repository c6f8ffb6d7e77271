// My chat settings: status (text, emoji, when it clears), do not disturb (now for a while, or
// on a weekly schedule), sound, desktop notifications (with the browser's permission) and
// the e-mail digest. Kept here for the notification centre, which reads sound and desktop.

import { api } from '../api.js';
import { errorText, formAlert, h, toast, whileBusy } from '../components.js';
import { formatDateTime, gettext, interpolate } from '../i18n.js';
import { emojiChar, loadEmoji, pickEmoji } from './emoji.js';

let current = null;
const listeners = new Set();

/** @returns {object|null} the settings as last read or saved */
export function mySettings() {
  return current;
}

/** @param {(settings: object) => void} listener @returns {() => void} */
export function onMySettingsChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function publish(settings) {
  current = settings;
  listeners.forEach((listener) => listener(settings));
}

export async function loadMySettings() {
  publish(await api.get('/me/chat-settings/'));
  return current;
}

/** @param {object} changes */
export async function saveMySettings(changes) {
  publish(await api.patch('/me/chat-settings/', changes));
  return current;
}

/** Whether this browser can show notifications, and what the person said about it. */
export function desktopPermission() {
  return 'Notification' in window ? Notification.permission : 'unsupported';
}

/**
 * Ask the browser for permission to notify; browsers only ask in answer to a click, so call
 * this from one. @returns {Promise<string>} the answer
 */
export async function askDesktopPermission() {
  if (!('Notification' in window)) return 'unsupported';
  try {
    return await Notification.requestPermission();
  } catch {
    return Notification.permission;
  }
}

/** @param {object} settings */
export function dndSummary(settings) {
  if (!settings) return '';
  if (settings.dnd_until && new Date(settings.dnd_until) > new Date()) {
    return interpolate(gettext('Do not disturb is on until %(time)s.'), {
      time: formatDateTime(new Date(settings.dnd_until), { weekday: 'short', hour: '2-digit', minute: '2-digit' }),
    });
  }
  if (settings.dnd_active) return gettext('Do not disturb is on (weekly schedule).');
  return gettext('Do not disturb is off.');
}

// Monday = 0, as the server stores the schedule.
function weekdayNames() {
  const monday = new Date(2024, 0, 1); // a Monday
  return Array.from({ length: 7 }, (_, index) =>
    formatDateTime(new Date(monday.getTime() + index * 86_400_000), { weekday: 'long' }),
  );
}

let dialogCounter = 0;

/** Open the settings dialog. @param {{focus?: 'status'|'dnd'|'notifications'}} [options] */
export async function openSettingsDialog({ focus } = {}) {
  const id = ++dialogCounter;
  let settings = current;
  try {
    settings = await loadMySettings();
  } catch (error) {
    if (!settings) {
      toast(errorText(error), { kind: 'error' });
      return;
    }
  }
  const table = await loadEmoji().catch(() => null);
  const alert = formAlert();

  // --- status ---
  let statusEmoji = settings.status_emoji || '';
  const emojiButton = h('button', { type: 'button', class: 'button emoji-status-button' });
  const drawEmoji = () => {
    emojiButton.textContent = statusEmoji ? emojiChar(statusEmoji, table) : '🙂';
    emojiButton.setAttribute(
      'aria-label',
      statusEmoji ? interpolate(gettext('Status emoji: %(code)s. Change'), { code: `:${statusEmoji}:` }) : gettext('Choose a status emoji'),
    );
  };
  drawEmoji();
  emojiButton.addEventListener('click', async () => {
    const picked = await pickEmoji({ title: gettext('Status emoji') });
    if (picked) {
      statusEmoji = picked.code;
      drawEmoji();
    }
    emojiButton.focus();
  });
  const statusText = h('input', {
    type: 'text',
    id: `status-text-${id}`,
    maxlength: '100',
    value: settings.status_text || '',
    placeholder: gettext('In a meeting, on holiday…'),
  });
  const expires = h(
    'select',
    { id: `status-expires-${id}`, class: 'compact' },
    h('option', { value: '' }, gettext('Never')),
    h('option', { value: '30' }, gettext('In 30 minutes')),
    h('option', { value: '60' }, gettext('In 1 hour')),
    h('option', { value: '240' }, gettext('In 4 hours')),
    h('option', { value: 'today' }, gettext('At the end of today')),
  );
  const clearStatus = h('button', { type: 'button', class: 'link-button' }, gettext('Clear status'));
  clearStatus.addEventListener('click', () => {
    statusEmoji = '';
    statusText.value = '';
    expires.value = '';
    drawEmoji();
    statusText.focus();
  });
  const expiresNote = settings.status_expires_at
    ? h(
        'p',
        { class: 'field-hint' },
        interpolate(gettext('The current status clears at %(time)s.'), {
          time: formatDateTime(new Date(settings.status_expires_at)),
        }),
      )
    : null;

  // --- do not disturb ---
  const dndState = h('p', { class: 'dnd-state', role: 'status' }, dndSummary(settings));
  const dndButton = (label, until) =>
    h(
      'button',
      {
        type: 'button',
        class: 'button',
        onclick: async (event) => {
          try {
            const saved = await whileBusy(event.currentTarget, () => saveMySettings({ dnd_until: until() }));
            dndState.textContent = dndSummary(saved);
          } catch (error) {
            toast(errorText(error), { kind: 'error' });
          }
        },
      },
      label,
    );
  const inMinutes = (minutes) => () => new Date(Date.now() + minutes * 60_000).toISOString();
  const tomorrowMorning = () => {
    const date = new Date();
    date.setDate(date.getDate() + 1);
    date.setHours(8, 0, 0, 0);
    return date.toISOString();
  };

  // --- weekly schedule ---
  const days = weekdayNames();
  const scheduleRows = h('ul', { class: 'schedule-rows plain-list' });
  const addRow = (period = { day: 0, start: '18:00', end: '23:59' }) => {
    const rowId = `${id}-${scheduleRows.children.length}-${Math.random().toString(36).slice(2, 7)}`;
    const day = h(
      'select',
      { id: `dnd-day-${rowId}`, class: 'compact', 'aria-label': gettext('Day') },
      days.map((name, index) => h('option', { value: String(index) }, name)),
    );
    day.value = String(period.day);
    const start = h('input', { type: 'time', id: `dnd-start-${rowId}`, value: period.start, required: true });
    const end = h('input', { type: 'time', id: `dnd-end-${rowId}`, value: period.end, required: true });
    const row = h(
      'li',
      { class: 'schedule-row' },
      day,
      h('label', { for: start.id }, gettext('from')),
      start,
      h('label', { for: end.id }, gettext('to')),
      end,
    );
    row.append(
      h(
        'button',
        {
          type: 'button',
          class: 'button',
          'aria-label': gettext('Remove these quiet hours'),
          onclick: () => {
            row.remove();
            addButton.focus();
          },
        },
        gettext('Remove'),
      ),
    );
    scheduleRows.append(row);
    return row;
  };
  const addButton = h('button', { type: 'button', class: 'button' }, gettext('Add quiet hours'));
  addButton.addEventListener('click', () => addRow().querySelector('select').focus());
  for (const period of settings.dnd_schedule || []) addRow(period);
  const readSchedule = () =>
    [...scheduleRows.querySelectorAll('.schedule-row')].map((row) => {
      const [day, start, end] = row.querySelectorAll('select, input');
      return { day: Number(day.value), start: start.value, end: end.value };
    });

  // --- notifications ---
  const toggle = (name, label, checked, hint) => {
    const input = h('input', { type: 'checkbox', role: 'switch', id: `${name}-${id}`, checked: Boolean(checked) });
    return {
      input,
      element: h(
        'div',
        { class: 'switch-field' },
        input,
        h('label', { for: input.id }, label),
        hint ? h('p', { class: 'field-hint' }, hint) : null,
      ),
    };
  };
  const sound = toggle('sound', gettext('Play a sound for new notifications'), settings.sound_enabled);
  const desktop = toggle('desktop', gettext('Show desktop notifications'), settings.desktop_enabled);
  const email = toggle(
    'email',
    gettext('E-mail me about mentions and direct messages I have not read'),
    settings.email_enabled,
    gettext('One digest, a few minutes later, never one e-mail per message.'),
  );
  const permission = h('p', { class: 'field-hint', role: 'status' });
  const permissionButton = h('button', { type: 'button', class: 'button' }, gettext('Allow notifications in this browser'));
  const drawPermission = () => {
    const state = desktopPermission();
    permissionButton.hidden = state !== 'default';
    permission.textContent =
      state === 'granted'
        ? gettext('This browser may show notifications.')
        : state === 'denied'
          ? gettext('This browser blocks notifications from this site; allow them in the browser’s site settings.')
          : state === 'unsupported'
            ? gettext('This browser cannot show notifications.')
            : gettext('This browser has not been allowed to show notifications yet.');
  };
  drawPermission();
  permissionButton.addEventListener('click', async () => {
    const answer = await askDesktopPermission();
    if (answer === 'granted') desktop.input.checked = true;
    drawPermission();
  });

  const save = h('button', { type: 'submit', class: 'button primary' }, gettext('Save'));
  const titleId = `chat-settings-title-${id}`;
  const sections = {
    status: h(
      'fieldset',
      { class: 'chat-settings-group' },
      h('legend', null, gettext('Status')),
      h(
        'div',
        { class: 'status-line' },
        emojiButton,
        h('div', { class: 'field' }, h('label', { for: statusText.id }, gettext('What are you up to?')), statusText),
      ),
      h('div', { class: 'field' }, h('label', { for: expires.id }, gettext('Clear the status')), expires, expiresNote),
      clearStatus,
    ),
    dnd: h(
      'fieldset',
      { class: 'chat-settings-group' },
      h('legend', null, gettext('Do not disturb')),
      h('p', { class: 'field-hint' }, gettext('No sounds, pop-ups or e-mails while it is on; notifications wait in the list.')),
      dndState,
      h(
        'div',
        { class: 'actions wrap' },
        dndButton(gettext('30 minutes'), inMinutes(30)),
        dndButton(gettext('1 hour'), inMinutes(60)),
        dndButton(gettext('2 hours'), inMinutes(120)),
        dndButton(gettext('Until tomorrow'), tomorrowMorning),
        dndButton(gettext('Turn off'), () => null),
      ),
      h('h3', null, gettext('Every week')),
      scheduleRows,
      addButton,
    ),
    notifications: h(
      'fieldset',
      { class: 'chat-settings-group' },
      h('legend', null, gettext('Notifications')),
      sound.element,
      desktop.element,
      permission,
      permissionButton,
      email.element,
    ),
  };
  const form = h(
    'form',
    { class: 'stack', novalidate: true },
    h('h2', { id: titleId }, gettext('Chat settings')),
    alert,
    sections.status,
    sections.dnd,
    sections.notifications,
    h(
      'div',
      { class: 'dialog-actions' },
      h('button', { type: 'button', class: 'button', onclick: () => dialog.close() }, gettext('Cancel')),
      save,
    ),
  );
  const dialog = h('dialog', { class: 'dialog wide chat-settings-dialog', 'aria-labelledby': titleId }, form);

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    alert.hidden = true;
    const schedule = readSchedule();
    if (schedule.some((period) => !period.start || !period.end)) {
      alert.textContent = gettext('Give every quiet period a start and an end.');
      alert.hidden = false;
      return;
    }
    let statusExpires;
    if (expires.value === 'today') {
      const end = new Date();
      end.setHours(23, 59, 0, 0);
      statusExpires = end.toISOString();
    } else if (expires.value) {
      statusExpires = new Date(Date.now() + Number(expires.value) * 60_000).toISOString();
    } else {
      statusExpires = statusText.value.trim() || statusEmoji ? settings.status_expires_at || null : null;
    }
    try {
      await whileBusy(save, () =>
        saveMySettings({
          status_text: statusText.value.trim(),
          status_emoji: statusEmoji,
          status_expires_at: statusExpires,
          dnd_schedule: schedule,
          sound_enabled: sound.input.checked,
          desktop_enabled: desktop.input.checked,
          email_enabled: email.input.checked,
        }),
      );
      dialog.close();
      toast(gettext('Chat settings saved.'), { kind: 'success' });
    } catch (error) {
      const fields = (error.extra && error.extra.fields) || {};
      const messages = Object.values(fields).flat();
      alert.textContent = messages.length ? messages.join(' ') : errorText(error);
      alert.hidden = false;
    }
  });
  dialog.addEventListener('close', () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  const first = {
    status: statusText,
    dnd: sections.dnd.querySelector('button'),
    notifications: sound.input,
  }[focus || 'status'];
  first.focus();
}
