// The pipelines: which one is being configured, a new one, and the chosen one's name,
// currency, archiving (and restoring) and who may use it.

import { api, apiRequest } from '../../api.js';
import { confirmDialog, h } from '../../components.js';
import { gettext, interpolate } from '../../i18n.js';
import { crmPath } from '../board/util.js';
import { inline, run, section } from './common.js';

const CURRENCIES = ['BRL', 'USD', 'EUR'];

function currencySelect(value) {
  const select = h('select', null, CURRENCIES.map((code) => h('option', { value: code }, code)));
  if (value && !CURRENCIES.includes(value)) select.append(h('option', { value }, value));
  select.value = value || 'BRL';
  return select;
}

/**
 * @param {{pipelines: object[], pipeline: object|null, choose: (id: number) => void,
 *          reload: (focusTestId?: string, pipelineId?: number) => Promise<void>}} options
 */
export function pipelinesSection({ pipelines, pipeline, choose, reload }) {
  const picker = h(
    'select',
    { 'data-testid': 'crm-settings-pipeline' },
    pipelines.map((item) =>
      h('option', { value: String(item.id) }, item.archived ? interpolate(gettext('%(name)s (archived)'), { name: item.name }) : item.name),
    ),
  );
  if (pipeline) picker.value = String(pipeline.id);
  picker.addEventListener('change', () => choose(Number(picker.value)));

  const newName = h('input', { type: 'text', required: true, maxlength: '100', 'data-testid': 'crm-new-pipeline-name' });
  const newCurrency = currencySelect('BRL');
  const create = h('button', { type: 'submit', class: 'button primary', 'data-testid': 'crm-new-pipeline-submit' }, gettext('Create pipeline'));
  const createForm = h(
    'form',
    { class: 'crm-settings-row crm-add-row' },
    inline(gettext('New pipeline'), newName),
    inline(gettext('Currency'), newCurrency),
    h('div', { class: 'crm-row-actions' }, create),
  );
  createForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    let created = null;
    const ok = await run(
      create,
      async () => {
        created = await api.post(crmPath('/pipelines/'), { name: newName.value.trim(), currency: newCurrency.value });
      },
      gettext('Pipeline created, with the usual stages.'),
    );
    if (ok && created) await reload(undefined, created.id);
  });

  let editForm = null;
  if (pipeline) {
    const name = h('input', { type: 'text', value: pipeline.name, required: true, maxlength: '100', 'data-testid': 'crm-pipeline-name' });
    const currency = currencySelect(pipeline.currency);
    const save = h('button', { type: 'submit', class: 'button primary' }, gettext('Save'));
    const archive = pipeline.archived
      ? h('button', { type: 'button', class: 'button' }, gettext('Restore'))
      : h('button', { type: 'button', class: 'button danger-outline', 'data-testid': 'crm-pipeline-archive' }, gettext('Archive'));
    editForm = h(
      'form',
      { class: 'crm-settings-row' },
      inline(gettext('Name'), name),
      inline(gettext('Currency'), currency),
      h('div', { class: 'crm-row-actions' }, save, archive, h('a', { class: 'button', href: `/crm/pipelines/${pipeline.id}` }, gettext('Open the board'))),
    );
    editForm.addEventListener('submit', async (event) => {
      event.preventDefault();
      const body = { name: name.value.trim(), currency: currency.value };
      if (await run(save, () => api.patch(crmPath(`/pipelines/${pipeline.id}/`), body), gettext('Pipeline saved.'))) await reload();
    });
    archive.addEventListener('click', async () => {
      if (pipeline.archived) {
        if (await run(archive, () => api.patch(crmPath(`/pipelines/${pipeline.id}/`), { archived: false }), gettext('Pipeline restored.'))) await reload();
        return;
      }
      const sure = await confirmDialog({
        title: interpolate(gettext('Archive %(name)s?'), { name: pipeline.name }),
        message: gettext('Its board leaves the pipeline picker; its deals are kept and it can be restored here.'),
        confirmLabel: gettext('Archive'),
        danger: true,
      });
      if (sure && (await run(archive, () => api.delete(crmPath(`/pipelines/${pipeline.id}/`)), gettext('Pipeline archived.')))) await reload();
    });
  }

  return section(
    gettext('Pipelines'),
    'crm-settings-pipelines',
    pipelines.length ? inline(gettext('Pipeline to configure'), picker) : h('p', { class: 'muted' }, gettext('There is no pipeline yet.')),
    editForm,
    createForm,
  );
}

/**
 * Who may use a restricted pipeline (org admins always may).
 * @param {{pipeline: object, members: object[], signal: AbortSignal}} options
 */
export function accessSection({ pipeline, members, signal }) {
  const restricted = h('input', { type: 'checkbox', 'data-testid': 'crm-access-restricted' });
  const list = h('fieldset', { class: 'crm-access-members' }, h('legend', null, gettext('Agents who may use it')));
  const boxes = new Map();
  for (const member of members.filter((item) => item.role !== 'org_admin')) {
    const box = h('input', { type: 'checkbox', value: String(member.id) });
    boxes.set(member.id, box);
    list.append(h('label', { class: 'crm-checkbox' }, box, member.name));
  }
  if (!boxes.size) list.append(h('p', { class: 'muted' }, gettext('No agents in the organization.')));
  const save = h('button', { type: 'submit', class: 'button primary', 'data-testid': 'crm-access-save' }, gettext('Save access'));
  const form = h(
    'form',
    { class: 'stack' },
    h('label', { class: 'crm-checkbox' }, restricted, gettext('Only chosen agents may use this pipeline')),
    h('p', { class: 'muted' }, gettext('Organization admins always see every pipeline.')),
    list,
    h('div', null, save),
  );
  const sync = () => {
    list.disabled = !restricted.checked;
  };
  restricted.addEventListener('change', sync);
  (async () => {
    try {
      const access = await api.get(crmPath(`/pipelines/${pipeline.id}/access/`), { signal });
      restricted.checked = Boolean(access.restricted);
      for (const user of access.users || []) if (boxes.has(user.id)) boxes.get(user.id).checked = true;
    } catch (error) {
      if (error.name !== 'AbortError') restricted.checked = Boolean(pipeline.restricted);
    }
    sync();
  })();
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const userIds = [...boxes.entries()].filter(([, box]) => box.checked).map(([id]) => id);
    await run(save, () => apiRequest('PUT', crmPath(`/pipelines/${pipeline.id}/access/`), { json: { restricted: restricted.checked, user_ids: userIds } }), gettext('Access saved.'));
  });
  return section(gettext('Access'), 'crm-settings-access', form);
}
