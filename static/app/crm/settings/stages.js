// The stages of a pipeline: rename, colour, win probability, won/lost flags, rotting days,
// order (up and down buttons, so no dragging is needed), add, and delete with a choice of
// where its deals go.

import { api } from '../../api.js';
import { h } from '../../components.js';
import { gettext, interpolate } from '../../i18n.js';
import { crmPath, safeColor } from '../board/util.js';
import { inline, run, section, uid } from './common.js';

/**
 * @param {{pipeline: object, reload: (focusTestId?: string) => Promise<void>}} options
 */
export function stagesSection({ pipeline, reload }) {
  const base = `/pipelines/${pipeline.id}/stages/`;
  const stages = pipeline.stages;

  function row(stage, index) {
    const name = h('input', { type: 'text', value: stage.name, required: true, maxlength: '60', 'data-testid': `crm-stage-name-${stage.id}` });
    const color = h('input', { type: 'color', value: safeColor(stage.color) });
    const probability = h('input', { type: 'number', min: '0', max: '100', step: '1', value: String(stage.probability), class: 'crm-narrow-input' });
    const rotting = h('input', { type: 'number', min: '1', step: '1', value: stage.rotting_days ? String(stage.rotting_days) : '', class: 'crm-narrow-input' });
    const won = h('input', { type: 'checkbox', checked: stage.is_won });
    const lost = h('input', { type: 'checkbox', checked: stage.is_lost });
    const save = h('button', { type: 'submit', class: 'button primary' }, gettext('Save'));
    const up = h(
      'button',
      { type: 'button', class: 'button', disabled: index === 0, 'aria-label': interpolate(gettext('Move %(name)s up'), { name: stage.name }), 'data-testid': `crm-stage-up-${stage.id}` },
      '↑',
    );
    const down = h(
      'button',
      {
        type: 'button',
        class: 'button',
        disabled: index === stages.length - 1,
        'aria-label': interpolate(gettext('Move %(name)s down'), { name: stage.name }),
        'data-testid': `crm-stage-down-${stage.id}`,
      },
      '↓',
    );
    const remove = h('button', { type: 'button', class: 'button danger-outline', 'data-testid': `crm-stage-delete-${stage.id}` }, gettext('Delete'));
    const form = h(
      'form',
      { class: 'crm-settings-row', style: `--stage-color: ${safeColor(stage.color)}`, 'data-testid': `crm-stage-row-${stage.id}`, dataset: { stageId: String(stage.id) } },
      inline(gettext('Name'), name),
      inline(gettext('Colour'), color),
      inline(gettext('Probability (%)'), probability),
      inline(gettext('Rotting after (days)'), rotting),
      h('label', { class: 'crm-checkbox' }, won, gettext('Won stage')),
      h('label', { class: 'crm-checkbox' }, lost, gettext('Lost stage')),
      h('div', { class: 'crm-row-actions' }, save, up, down, remove),
    );
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const body = {
        name: name.value.trim(),
        color: color.value,
        probability: Number(probability.value || 0),
        rotting_days: rotting.value ? Number(rotting.value) : null,
        is_won: won.checked,
        is_lost: lost.checked,
      };
      if (await run(save, () => api.patch(crmPath(`${base}${stage.id}/`), body), gettext('Stage saved.'))) await reload();
    });
    const reorder = async (button, offset, testid) => {
      const ids = stages.map((item) => item.id);
      ids.splice(index, 1);
      ids.splice(index + offset, 0, stage.id);
      if (await run(button, () => api.post(crmPath(`${base}reorder/`), { stage_ids: ids }), gettext('Order saved.'))) await reload(testid);
    };
    up.addEventListener('click', () => reorder(up, -1, `crm-stage-up-${stage.id}`));
    down.addEventListener('click', () => reorder(down, 1, `crm-stage-down-${stage.id}`));
    remove.addEventListener('click', async () => {
      const target = await deleteDialog(stage, stages.filter((item) => item.id !== stage.id));
      if (target === null) return;
      const query = target ? `?move_to=${target}` : '';
      if (await run(remove, () => api.delete(crmPath(`${base}${stage.id}/${query}`)), gettext('Stage deleted.'))) await reload();
    });
    return h('li', null, form);
  }

  const newName = h('input', { type: 'text', required: true, maxlength: '60', 'data-testid': 'crm-add-stage-name' });
  const newColor = h('input', { type: 'color', value: '#3b82f6' });
  const newProbability = h('input', { type: 'number', min: '0', max: '100', step: '1', value: '0', class: 'crm-narrow-input', 'data-testid': 'crm-add-stage-probability' });
  const add = h('button', { type: 'submit', class: 'button primary', 'data-testid': 'crm-add-stage-submit' }, gettext('Add stage'));
  const addForm = h(
    'form',
    { class: 'crm-settings-row crm-add-row' },
    inline(gettext('New stage'), newName),
    inline(gettext('Colour'), newColor),
    inline(gettext('Probability (%)'), newProbability),
    h('div', { class: 'crm-row-actions' }, add),
  );
  addForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = { name: newName.value.trim(), color: newColor.value, probability: Number(newProbability.value || 0) };
    if (await run(add, () => api.post(crmPath(base), body), interpolate(gettext('Stage %(name)s added.'), { name: body.name }))) {
      await reload('crm-add-stage-name');
    }
  });

  return section(gettext('Stages'), 'crm-settings-stages', h('ol', { class: 'crm-settings-list' }, stages.map(row)), addForm);
}

/** Where the deals of a stage go before it is deleted; resolves with a stage id, '' for
 *  "it has no deals", or null when cancelled. */
function deleteDialog(stage, others) {
  return new Promise((resolve) => {
    const titleId = uid('crm-delete-stage');
    const select = h(
      'select',
      { id: uid('crm-move-to'), 'data-testid': 'crm-stage-move-to' },
      others.map((item) => h('option', { value: String(item.id) }, item.name)),
    );
    let answer = null;
    const dialog = h(
      'dialog',
      { class: 'dialog', 'aria-labelledby': titleId, 'data-testid': 'crm-delete-stage-dialog' },
      h(
        'form',
        { method: 'dialog' },
        h('h2', { id: titleId }, interpolate(gettext('Delete the stage %(name)s?'), { name: stage.name })),
        h('p', null, gettext('Its deals are moved to the end of the stage you choose. The stage itself cannot be brought back.')),
        others.length ? h('div', { class: 'field' }, h('label', { for: select.id }, gettext('Move its deals to')), select) : null,
        h(
          'div',
          { class: 'dialog-actions' },
          h('button', { type: 'submit', value: 'cancel', class: 'button', autofocus: true }, gettext('Cancel')),
          h('button', { type: 'submit', value: 'confirm', class: 'button danger' }, gettext('Delete stage')),
        ),
      ),
    );
    dialog.addEventListener('close', () => {
      if (dialog.returnValue === 'confirm') answer = others.length ? select.value : '';
      dialog.remove();
      resolve(answer);
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}
