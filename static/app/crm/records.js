// What the CRM's record screens share (deals list, contacts, companies, leads, tasks, import,
// BotConversa, the inbox panel): API calls below the organization, the pickers every filter
// panel needs (owners, labels, pipelines), tables that turn into cards on phones, paging,
// saved views, a small form dialog and the conversions between what people type (reais,
// local times in their profile's zone) and what the API stores (centavos, UTC).

import { api, apiDownload, apiRequest } from '../api.js';
import { getUser } from '../auth.js';
import { errorText, h, setChildren, toast, whileBusy } from '../components.js';
import { currentLanguage, formatDateTime, gettext, interpolate } from '../i18n.js';
import { saveBlob } from '../money.js';
import { crmNav, crmOrganizationId, crmPath } from './nav.js';

// --- Requests ------------------------------------------------------------------------------------

/** The CRM API of the person's organization; `path` like '/contacts/'. */
export const crm = {
  get: (path, options) => api.get(crmPath(path), options),
  post: (path, json, options) => api.post(crmPath(path), json, options),
  postForm: (path, formData, options) => api.postForm(crmPath(path), formData, options),
  put: (path, json, options) => apiRequest('PUT', crmPath(path), { ...options, json }),
  patch: (path, json, options) => api.patch(crmPath(path), json, options),
  delete: (path, options) => api.delete(crmPath(path), options),
};

/** A list answer may be a plain array or a page ({count, next, previous, results}). */
export function resultsOf(answer) {
  if (Array.isArray(answer)) return answer;
  return (answer && answer.results) || [];
}

export function isAbort(error) {
  return Boolean(error && error.name === 'AbortError');
}

/** A query string of the non-empty values, e.g. {q: 'ana', owner: ''} -> 'q=ana'. */
export function queryOf(values) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(values || {})) {
    if (value === null || value === undefined || value === '' || value === false) continue;
    query.set(key, String(value));
  }
  return query.toString();
}

/** The filters in the address (`?owner=me&label=3`), as a plain object. */
export function filtersFromAddress(query, keys = null) {
  const values = {};
  for (const [key, value] of query.entries()) {
    if (key === 'page' || key === 'view') continue;
    if (keys && !keys.includes(key) && !key.startsWith('cf.')) continue;
    values[key] = value;
  }
  return values;
}

/** Keep the address in step with the filters without a new history entry. */
export function replaceAddress(pathname, values) {
  const query = queryOf(values);
  history.replaceState(null, '', query ? `${pathname}?${query}` : pathname);
}

// --- Shared pickers (read once per screen) -----------------------------------------------------

/** The organization's members as owners: [{id, name, role}]. */
export async function loadMembers(signal) {
  return resultsOf(await crm.get('/members/', { signal }));
}

export async function loadLabels(signal) {
  return resultsOf(await crm.get('/labels/', { signal }));
}

export async function loadPipelines(signal) {
  return resultsOf(await crm.get('/pipelines/', { signal }));
}

/**
 * An owner <select>: anyone, me, nobody is not offered (the API has no such filter), then
 * the members by name.
 * @param {{members: any[], value?: string, any?: string|null, me?: boolean, id?: string}} options
 */
export function ownerSelect({ members, value = '', any = gettext('Anyone'), me = true, id }) {
  const select = h(
    'select',
    { id },
    any === null ? null : h('option', { value: '' }, any),
    me ? h('option', { value: 'me' }, gettext('Me')) : null,
    members.map((member) => h('option', { value: String(member.id) }, member.name)),
  );
  select.value = value;
  return select;
}

export function labelSelect({ labels, value = '', id }) {
  const select = h(
    'select',
    { id },
    h('option', { value: '' }, gettext('Any label')),
    labels.map((label) => h('option', { value: String(label.id) }, label.name)),
  );
  select.value = value;
  return select;
}

/** Labels as chips: the name says it, the colour only marks it. */
export function labelChips(labels) {
  if (!labels || !labels.length) return null;
  return h(
    'ul',
    { class: 'crm-labels', 'aria-label': gettext('Labels') },
    labels.map((label) => h('li', { class: 'crm-label', style: `--label-color: ${label.color || '#64748b'}` }, label.name)),
  );
}

/**
 * Checkboxes for choosing labels on a record.
 * @returns {{element: HTMLElement, value: () => number[]}}
 */
export function labelPicker({ labels, chosen = [], legend = gettext('Labels') }) {
  const ids = new Set(chosen.map((label) => label.id));
  const boxes = labels.map((label) => h('input', { type: 'checkbox', value: String(label.id), checked: ids.has(label.id) }));
  const element = h(
    'fieldset',
    { class: 'crm-label-picker' },
    h('legend', null, legend),
    labels.length
      ? labels.map((label, index) => h('label', { class: 'checkbox' }, boxes[index], ' ', label.name))
      : h('p', { class: 'muted' }, gettext('No labels yet.')),
  );
  return { element, value: () => boxes.filter((box) => box.checked).map((box) => Number(box.value)) };
}

// --- Screen frame --------------------------------------------------------------------------------

/**
 * The CRM navigation, the heading and a body to draw in; null (after explaining) when the
 * person works in no organization.
 */
export function crmFrame(main, { title, actions = null, setTitle }) {
  setTitle(title);
  if (!crmOrganizationId()) {
    main.append(h('h1', null, title), h('p', { class: 'card' }, gettext('The CRM belongs to an organization: join one to use it.')));
    return null;
  }
  const body = h('div', { class: 'crm-body' });
  main.append(crmNav(), h('div', { class: 'crm-title-row' }, h('h1', null, title), actions), body);
  return body;
}

/** A failure drawn in place of what could not be loaded. */
export function showFailure(slot, error) {
  if (isAbort(error)) return;
  setChildren(slot, h('p', { class: 'error-text', role: 'alert' }, errorText(error)));
}

/** Run an action, telling the person when it fails; returns whether it worked. */
export async function attempt(work) {
  try {
    await work();
    return true;
  } catch (error) {
    if (!isAbort(error)) toast(errorText(error), { kind: 'error' });
    return false;
  }
}

// --- Tables and paging -------------------------------------------------------------------------

/**
 * A table of records that becomes a list of cards on phones (app.css .data-table): each cell
 * carries its column's name.
 * @param {{columns: {label: string, hidden?: boolean}[], rows: HTMLElement[][], empty: string,
 *          caption?: string, testid?: string}} options
 */
export function recordTable({ columns, rows, empty, caption, testid }) {
  if (!rows.length) return h('p', { class: 'muted crm-empty', 'data-testid': testid ? `${testid}-empty` : null }, empty);
  return h(
    'div',
    { class: 'table-scroll' },
    h(
      'table',
      { class: 'data-table crm-table', 'data-testid': testid },
      caption ? h('caption', { class: 'visually-hidden' }, caption) : null,
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          columns.map((column) => h('th', { scope: 'col' }, column.hidden ? h('span', { class: 'visually-hidden' }, column.label) : column.label)),
        ),
      ),
      h(
        'tbody',
        null,
        rows.map((cells) =>
          h(
            'tr',
            null,
            cells.map((cell, index) =>
              h(index === 0 ? 'th' : 'td', { scope: index === 0 ? 'row' : null, 'data-label': columns[index].label, class: columns[index].hidden ? 'actions' : null }, cell),
            ),
          ),
        ),
      ),
    ),
  );
}

/**
 * Previous / next for a numbered page ({count, next, previous}).
 * @param {{answer: any, page: number, onPage: (page: number) => void}} options
 */
export function pager({ answer, page, onPage }) {
  if (!answer || Array.isArray(answer) || (!answer.next && !answer.previous)) {
    return answer && typeof answer.count === 'number'
      ? h('p', { class: 'muted crm-count' }, interpolate(gettext('%(count)s in all'), { count: answer.count }))
      : null;
  }
  return h(
    'nav',
    { class: 'pagination', 'aria-label': gettext('Pages') },
    h('button', { type: 'button', class: 'button', disabled: !answer.previous, onclick: () => onPage(page - 1) }, gettext('Previous')),
    h('span', { class: 'muted' }, interpolate(gettext('Page %(page)s · %(count)s in all'), { page, count: answer.count })),
    h('button', { type: 'button', class: 'button', disabled: !answer.next, onclick: () => onPage(page + 1), 'data-testid': 'next-page' }, gettext('Next')),
  );
}

/**
 * "Export CSV": the records of `entity` with the filters on show, downloaded with the
 * session's credentials (a plain link could not carry the filters' later changes).
 * @param {{entity: string, filters: () => object, signal: AbortSignal}} options
 */
export function exportButton({ entity, filters, signal }) {
  const button = h('button', { type: 'button', class: 'button', 'data-testid': 'export-csv' }, gettext('Export CSV'));
  button.addEventListener('click', () =>
    whileBusy(button, async () => {
      try {
        const { blob, filename } = await apiDownload(crmPath(`/export/${entity}.csv?${queryOf(filters())}`), { signal });
        saveBlob(blob, filename === 'download' ? `${entity}.csv` : filename);
      } catch (error) {
        if (!isAbort(error)) toast(errorText(error), { kind: 'error' });
      }
    }),
  );
  return button;
}

// --- Saved views -------------------------------------------------------------------------------

/**
 * Pick, save, rename and delete the person's saved views of one kind of record.
 * @param {{entity: string, current: () => object, apply: (view: any) => void, signal: AbortSignal,
 *          mode?: () => string}} options
 *   current: the filters on show (what "Save as…" stores); apply: show a chosen view
 * @returns {{element: HTMLElement, load: () => Promise<void>}}
 */
export function savedViews({ entity, current, apply, signal, mode = () => 'list' }) {
  let views = [];
  const select = h('select', { id: `saved-views-${entity}`, 'data-testid': 'saved-views' });
  const rename = h('button', { type: 'button', class: 'button', disabled: true }, gettext('Rename…'));
  const remove = h('button', { type: 'button', class: 'button danger-outline', disabled: true }, gettext('Delete view'));
  const save = h('button', { type: 'button', class: 'button', 'data-testid': 'save-view' }, gettext('Save as…'));
  const element = h(
    'div',
    { class: 'crm-views', role: 'group', 'aria-label': gettext('Saved views') },
    h('label', { for: select.id }, gettext('Saved view')),
    select,
    save,
    rename,
    remove,
  );

  const chosen = () => views.find((view) => String(view.id) === select.value) || null;
  function draw(selectedId = select.value) {
    setChildren(
      select,
      h('option', { value: '' }, gettext('Current filters')),
      views.map((view) => h('option', { value: String(view.id) }, view.mode === 'board' ? interpolate(gettext('%(name)s (board)'), { name: view.name }) : view.name)),
    );
    select.value = views.some((view) => String(view.id) === String(selectedId)) ? String(selectedId) : '';
    rename.disabled = remove.disabled = !chosen();
  }
  async function load() {
    views = resultsOf(await crm.get(`/views/?entity=${entity}`, { signal }));
    draw();
  }
  select.addEventListener('change', () => {
    draw();
    const view = chosen();
    if (view) apply(view);
  });
  save.addEventListener('click', async () => {
    const answer = await formDialog({
      title: gettext('Save the current filters'),
      submitLabel: gettext('Save view'),
      fields: [
        { name: 'name', label: gettext('Name'), required: true, maxlength: 80 },
        {
          name: 'mode',
          label: gettext('Show as'),
          choices: entity === 'deals' ? [['list', gettext('List')], ['board', gettext('Board')]] : [['list', gettext('List')]],
          value: mode(),
        },
      ],
      submit: (values) => crm.post('/views/', { name: values.name, entity, mode: values.mode, filters: current() }, { signal }),
    });
    if (!answer) return;
    views.push(answer);
    draw(answer.id);
    toast(gettext('View saved.'), { kind: 'success' });
  });
  rename.addEventListener('click', async () => {
    const view = chosen();
    if (!view) return;
    const answer = await formDialog({
      title: gettext('Rename the view'),
      submitLabel: gettext('Rename'),
      fields: [{ name: 'name', label: gettext('Name'), required: true, maxlength: 80, value: view.name }],
      submit: (values) => crm.patch(`/views/${view.id}/`, { name: values.name }, { signal }),
    });
    if (!answer) return;
    Object.assign(view, answer);
    draw(view.id);
  });
  remove.addEventListener('click', async () => {
    const view = chosen();
    if (!view) return;
    const ok = await attempt(() => crm.delete(`/views/${view.id}/`, { signal }));
    if (!ok) return;
    views = views.filter((item) => item.id !== view.id);
    draw('');
    toast(gettext('View deleted.'), { kind: 'success' });
  });
  return { element, load, clear: () => draw('') };
}

// --- A form in a dialog --------------------------------------------------------------------------

let dialogCounter = 0;

/**
 * A modal form: labelled fields, a submit that calls `submit(values)`; resolves with its
 * answer, or null when cancelled. Server errors show in the dialog (per field when they
 * name one) and the dialog stays open.
 * @param {{title: string, submitLabel: string, fields: Array<{name: string, label: string,
 *   type?: string, value?: any, required?: boolean, choices?: Array<[string, string]>,
 *   hint?: string, [attribute: string]: any}>, submit: (values: Record<string, any>) => Promise<any>,
 *   intro?: any, setup?: (controls: Record<string, HTMLElement>) => void}} options
 *   setup: wire controls that depend on each other (a pipeline's stages)
 * @returns {Promise<any>}
 */
export function formDialog({ title, submitLabel, fields, submit, intro = null, setup = null }) {
  return new Promise((resolve) => {
    const number = ++dialogCounter;
    const titleId = `crm-dialog-title-${number}`;
    const alert = h('div', { class: 'form-alert', role: 'alert', hidden: true });
    const controls = fields.map(({ name, label, type = 'text', value = '', choices, hint, ...attributes }) => {
      const id = `crm-dialog-${number}-${name}`;
      let control;
      if (choices) {
        control = h('select', { id, name, ...attributes }, choices.map(([key, text]) => h('option', { value: key }, text)));
        control.value = value === null || value === undefined ? '' : String(value);
      } else if (type === 'textarea') {
        control = h('textarea', { id, name, rows: 3, ...attributes });
        control.value = value || '';
      } else if (type === 'checkbox') {
        control = h('input', { id, name, type, checked: Boolean(value), ...attributes });
      } else {
        control = h('input', { id, name, type, value: value === null || value === undefined ? '' : String(value), ...attributes });
      }
      const error = h('p', { class: 'field-error', id: `${id}-error`, hidden: true });
      control.setAttribute('aria-describedby', hint ? `${id}-hint ${id}-error` : `${id}-error`);
      const wrapper =
        type === 'checkbox'
          ? h('div', { class: 'field' }, h('label', { class: 'checkbox', for: id }, control, ' ', label), error)
          : h('div', { class: 'field' }, h('label', { for: id }, label), control, hint ? h('p', { class: 'field-hint', id: `${id}-hint` }, hint) : null, error);
      return { name, control, error, wrapper, type };
    });
    const submitButton = h('button', { type: 'submit', class: 'button primary', 'data-testid': 'dialog-submit' }, submitLabel);
    const form = h(
      'form',
      { method: 'dialog', novalidate: false },
      h('h2', { id: titleId }, title),
      intro,
      alert,
      controls.map((control) => control.wrapper),
      h(
        'div',
        { class: 'dialog-actions' },
        h('button', { type: 'button', class: 'button', onclick: () => dialog.close() }, gettext('Cancel')),
        submitButton,
      ),
    );
    const dialog = h('dialog', { class: 'dialog crm-dialog', 'aria-labelledby': titleId }, form);
    let result = null;
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      if (!form.reportValidity()) return;
      const values = {};
      for (const control of controls) values[control.name] = control.type === 'checkbox' ? control.control.checked : control.control.value;
      alert.hidden = true;
      controls.forEach((control) => {
        control.error.hidden = true;
        control.control.removeAttribute('aria-invalid');
      });
      submitButton.disabled = true;
      try {
        result = (await submit(values)) ?? true;
        dialog.close();
      } catch (error) {
        const byField = (error && error.extra && error.extra.fields) || {};
        const fieldName = error && error.extra && error.extra.field;
        let shown = false;
        for (const control of controls) {
          const messages = byField[control.name] || (fieldName === control.name || fieldName === control.name.replace(/_id$/, '') ? [errorText(error)] : null);
          if (messages) {
            control.error.textContent = messages.join(' ');
            control.error.hidden = false;
            control.control.setAttribute('aria-invalid', 'true');
            if (!shown) control.control.focus();
            shown = true;
          }
        }
        if (!shown) {
          alert.textContent = errorText(error);
          alert.hidden = false;
        }
      } finally {
        submitButton.disabled = false;
      }
    });
    dialog.addEventListener('close', () => {
      resolve(result);
      dialog.remove();
    });
    if (setup) setup(Object.fromEntries(controls.map((control) => [control.name, control.control])));
    document.body.append(dialog);
    dialog.showModal();
  });
}

/** Fill a stage <select> with the stages of the chosen pipeline. */
export function fillStages(select, pipeline, { firstLabel = gettext('First stage') } = {}) {
  setChildren(select, h('option', { value: '' }, firstLabel), (pipeline ? pipeline.stages : []).map((stage) => h('option', { value: String(stage.id) }, stage.name)));
}

// --- Values --------------------------------------------------------------------------------------

/** R$ 1.234,56 from centavos, in the deal's currency. */
export function formatValue(centavos, currency = 'BRL') {
  try {
    return new Intl.NumberFormat(currentLanguage(), { style: 'currency', currency: currency || 'BRL' }).format((centavos || 0) / 100);
  } catch {
    return new Intl.NumberFormat(currentLanguage(), { style: 'currency', currency: 'BRL' }).format((centavos || 0) / 100);
  }
}

/**
 * Centavos from what a person typed in reais: "1.234,56", "1234.56", "1234" -> integers, no
 * float arithmetic on the way; null when it is not an amount.
 * @param {string} text
 */
export function centavosFromReais(text) {
  let value = String(text || '').trim().replace(/^R\$\s*/i, '').replace(/\s/g, '');
  if (!value) return null;
  // The last separator followed by one or two digits is the decimal one; the others group.
  const match = value.match(/^(.*?)[.,](\d{1,2})$/);
  let whole = value;
  let cents = '00';
  if (match) {
    whole = match[1];
    cents = match[2].padEnd(2, '0');
  }
  whole = whole.replace(/[.,]/g, '');
  if (!/^\d+$/.test(whole || '0') || !/^\d{2}$/.test(cents)) return null;
  return Number(whole || '0') * 100 + Number(cents);
}

/** "1234,56" for an amount input, from centavos (empty for null). */
export function reaisFromCentavos(centavos) {
  if (centavos === null || centavos === undefined || centavos === '') return '';
  const number = Number(centavos);
  const cents = String(number % 100).padStart(2, '0');
  return `${Math.floor(number / 100)},${cents}`;
}

/** A date (YYYY-MM-DD) in the person's language, without moving it across zones. */
export function formatDay(isoDate) {
  if (!isoDate) return '—';
  const [year, month, day] = isoDate.split('-').map(Number);
  return new Intl.DateTimeFormat(currentLanguage(), { dateStyle: 'medium', timeZone: 'UTC' }).format(new Date(Date.UTC(year, month - 1, day)));
}

export function formatWhen(iso) {
  return iso ? formatDateTime(new Date(iso)) : '—';
}

/** The person's time zone (their profile's), or the browser's. */
export function userTimeZone() {
  return getUser()?.time_zone || Intl.DateTimeFormat().resolvedOptions().timeZone;
}

/** Minutes the zone is ahead of UTC at `date`. */
function zoneOffsetMinutes(date, timeZone) {
  try {
    const parts = Object.fromEntries(
      new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' })
        .formatToParts(date)
        .map((part) => [part.type, part.value]),
    );
    const asUtc = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
    return Math.round((asUtc - date.getTime()) / 60_000);
  } catch {
    return -date.getTimezoneOffset();
  }
}

/**
 * The instant (ISO, UTC) of a datetime-local value ("2026-05-01T14:30") read in the person's
 * zone rather than the browser's.
 */
export function instantFromLocal(localValue, timeZone = userTimeZone()) {
  if (!localValue) return null;
  const [day, time] = localValue.split('T');
  const [year, month, date] = day.split('-').map(Number);
  const [hour, minute] = (time || '00:00').split(':').map(Number);
  const naive = Date.UTC(year, month - 1, date, hour, minute);
  // Two passes settle the offset on either side of a daylight-saving change.
  let instant = naive - zoneOffsetMinutes(new Date(naive), timeZone) * 60_000;
  instant = naive - zoneOffsetMinutes(new Date(instant), timeZone) * 60_000;
  return new Date(instant).toISOString();
}

/** The datetime-local value of an instant, in the person's zone. */
export function localFromInstant(iso, timeZone = userTimeZone()) {
  if (!iso) return '';
  const date = new Date(iso);
  const shifted = new Date(date.getTime() + zoneOffsetMinutes(date, timeZone) * 60_000);
  return shifted.toISOString().slice(0, 16);
}

/** Words for a deal's status. */
export function dealStatusLabel(status) {
  switch (status) {
    case 'open':
      return gettext('In progress');
    case 'won':
      return gettext('Won');
    case 'lost':
      return gettext('Lost');
    default:
      return status;
  }
}

export function dealStatusBadge(status) {
  const tone = status === 'won' ? 'success' : status === 'lost' ? 'danger' : 'subtle';
  return h('span', { class: `badge ${tone}`, dataset: { status } }, dealStatusLabel(status));
}

/** Debounce for search boxes. */
export function debounced(work, wait = 300) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => work(...args), wait);
  };
}
