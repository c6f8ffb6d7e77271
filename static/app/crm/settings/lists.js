// The custom fields of a pipeline (label, kind, choices, required), and the organization's
// lost reasons and labels: add, edit and delete each.

import { api } from '../../api.js';
import { confirmDialog, h } from '../../components.js';
import { gettext, interpolate } from '../../i18n.js';
import { crmPath, FIELD_KINDS, fieldKindLabel, safeColor } from '../board/util.js';
import { inline, run, section } from './common.js';

function kindSelect(value) {
  const select = h('select', null, FIELD_KINDS.map((kind) => h('option', { value: kind }, fieldKindLabel(kind))));
  select.value = value || 'text';
  return select;
}

/** "a, b, c" -> ["a", "b", "c"] */
function splitChoices(text) {
  return text
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

async function confirmDelete(name) {
  return confirmDialog({
    title: interpolate(gettext('Delete %(name)s?'), { name }),
    message: gettext('This cannot be undone.'),
    confirmLabel: gettext('Delete'),
    danger: true,
  });
}

/** @param {{pipeline: object, reload: (focusTestId?: string) => Promise<void>}} options */
export function customFieldsSection({ pipeline, reload }) {
  const base = `/pipelines/${pipeline.id}/custom-fields/`;

  function row(definition) {
    const label = h('input', { type: 'text', value: definition.label, required: true, maxlength: '60' });
    const kind = kindSelect(definition.kind);
    const choices = h('input', { type: 'text', value: (definition.choices || []).join(', '), placeholder: gettext('Comma-separated') });
    const required = h('input', { type: 'checkbox', checked: definition.required });
    const save = h('button', { type: 'submit', class: 'button primary' }, gettext('Save'));
    const remove = h('button', { type: 'button', class: 'button danger-outline' }, gettext('Delete'));
    const form = h(
      'form',
      { class: 'crm-settings-row', 'data-testid': `crm-custom-field-${definition.id}` },
      inline(gettext('Label'), label),
      h('p', { class: 'crm-inline-field muted' }, interpolate(gettext('Key: %(key)s'), { key: definition.key })),
      inline(gettext('Kind'), kind),
      inline(gettext('Choices'), choices),
      h('label', { class: 'crm-checkbox' }, required, gettext('Required')),
      h('div', { class: 'crm-row-actions' }, save, remove),
    );
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const body = { label: label.value.trim(), kind: kind.value, required: required.checked };
      if (kind.value === 'choice') body.choices = splitChoices(choices.value);
      if (await run(save, () => api.patch(crmPath(`${base}${definition.id}/`), body), gettext('Field saved.'))) await reload();
    });
    remove.addEventListener('click', async () => {
      if (!(await confirmDelete(definition.label))) return;
      if (await run(remove, () => api.delete(crmPath(`${base}${definition.id}/`)), gettext('Field deleted.'))) await reload();
    });
    return h('li', null, form);
  }

  const label = h('input', { type: 'text', required: true, maxlength: '60', 'data-testid': 'crm-new-field-label' });
  const kind = kindSelect('text');
  const choices = h('input', { type: 'text', placeholder: gettext('Comma-separated') });
  const required = h('input', { type: 'checkbox' });
  const add = h('button', { type: 'submit', class: 'button primary' }, gettext('Add field'));
  const addForm = h(
    'form',
    { class: 'crm-settings-row crm-add-row' },
    inline(gettext('New field'), label),
    inline(gettext('Kind'), kind),
    inline(gettext('Choices'), choices),
    h('label', { class: 'crm-checkbox' }, required, gettext('Required')),
    h('div', { class: 'crm-row-actions' }, add),
  );
  addForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = { label: label.value.trim(), kind: kind.value, required: required.checked };
    if (kind.value === 'choice') body.choices = splitChoices(choices.value);
    if (await run(add, () => api.post(crmPath(base), body), gettext('Field added.'))) await reload('crm-new-field-label');
  });

  const fields = pipeline.custom_fields || [];
  return section(
    gettext('Custom fields'),
    'crm-settings-fields',
    fields.length ? h('ol', { class: 'crm-settings-list' }, fields.map(row)) : h('p', { class: 'muted' }, gettext('No custom fields yet.')),
    addForm,
  );
}

/** @param {{reasons: object[], reload: (focusTestId?: string) => Promise<void>}} options */
export function lostReasonsSection({ reasons, reload }) {
  function row(reason) {
    const name = h('input', { type: 'text', value: reason.name, required: true, maxlength: '100' });
    const active = h('input', { type: 'checkbox', checked: reason.active !== false });
    const save = h('button', { type: 'submit', class: 'button primary' }, gettext('Save'));
    const remove = h('button', { type: 'button', class: 'button danger-outline' }, gettext('Delete'));
    const form = h(
      'form',
      { class: 'crm-settings-row' },
      inline(gettext('Reason'), name),
      h('label', { class: 'crm-checkbox' }, active, gettext('Offered')),
      h('div', { class: 'crm-row-actions' }, save, remove),
    );
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const body = { name: name.value.trim(), active: active.checked };
      if (await run(save, () => api.patch(crmPath(`/lost-reasons/${reason.id}/`), body), gettext('Reason saved.'))) await reload();
    });
    remove.addEventListener('click', async () => {
      if (!(await confirmDelete(reason.name))) return;
      if (await run(remove, () => api.delete(crmPath(`/lost-reasons/${reason.id}/`)), gettext('Reason deleted.'))) await reload();
    });
    return h('li', null, form);
  }
  const name = h('input', { type: 'text', required: true, maxlength: '100', 'data-testid': 'crm-new-reason' });
  const add = h('button', { type: 'submit', class: 'button primary' }, gettext('Add reason'));
  const addForm = h('form', { class: 'crm-settings-row crm-add-row' }, inline(gettext('New reason'), name), h('div', { class: 'crm-row-actions' }, add));
  addForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (await run(add, () => api.post(crmPath('/lost-reasons/'), { name: name.value.trim() }), gettext('Reason added.'))) await reload('crm-new-reason');
  });
  return section(
    gettext('Lost reasons'),
    'crm-settings-reasons',
    reasons.length ? h('ol', { class: 'crm-settings-list' }, reasons.map(row)) : h('p', { class: 'muted' }, gettext('No reasons yet: a deal can be lost without one.')),
    addForm,
  );
}

/** @param {{labels: object[], reload: (focusTestId?: string) => Promise<void>}} options */
export function labelsSection({ labels, reload }) {
  function row(label) {
    const name = h('input', { type: 'text', value: label.name, required: true, maxlength: '50' });
    const color = h('input', { type: 'color', value: safeColor(label.color) });
    const save = h('button', { type: 'submit', class: 'button primary' }, gettext('Save'));
    const remove = h('button', { type: 'button', class: 'button danger-outline' }, gettext('Delete'));
    const form = h(
      'form',
      { class: 'crm-settings-row' },
      inline(gettext('Label'), name),
      inline(gettext('Colour'), color),
      h('div', { class: 'crm-row-actions' }, save, remove),
    );
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const body = { name: name.value.trim(), color: color.value };
      if (await run(save, () => api.patch(crmPath(`/labels/${label.id}/`), body), gettext('Label saved.'))) await reload();
    });
    remove.addEventListener('click', async () => {
      if (!(await confirmDelete(label.name))) return;
      if (await run(remove, () => api.delete(crmPath(`/labels/${label.id}/`)), gettext('Label deleted.'))) await reload();
    });
    return h('li', null, form);
  }
  const name = h('input', { type: 'text', required: true, maxlength: '50', 'data-testid': 'crm-new-label' });
  const color = h('input', { type: 'color', value: '#64748b' });
  const add = h('button', { type: 'submit', class: 'button primary' }, gettext('Add label'));
  const addForm = h(
    'form',
    { class: 'crm-settings-row crm-add-row' },
    inline(gettext('New label'), name),
    inline(gettext('Colour'), color),
    h('div', { class: 'crm-row-actions' }, add),
  );
  addForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (await run(add, () => api.post(crmPath('/labels/'), { name: name.value.trim(), color: color.value }), gettext('Label added.'))) await reload('crm-new-label');
  });
  return section(
    gettext('Labels'),
    'crm-settings-labels',
    labels.length ? h('ol', { class: 'crm-settings-list' }, labels.map(row)) : h('p', { class: 'muted' }, gettext('No labels yet.')),
    addForm,
  );
}
