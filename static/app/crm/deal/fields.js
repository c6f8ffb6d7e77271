// A deal's fields, each edited in place: a change is saved on its own (PATCH with the version
// shown, so an edit made on an old copy is refused), and a refusal shows next to the field.

import { api } from '../../api.js';
import { errorText, field, h } from '../../components.js';
import { gettext, interpolate } from '../../i18n.js';
import { centavosToInput, crmPath, isAbort, labelChip, parseReais, resultsOf } from '../board/util.js';

/**
 * @param {{deal: object, pipeline: object, members: object[], labels: object[],
 *          canWrite: boolean, save: (changes: object) => Promise<void>, signal: AbortSignal}} options
 *   save: sends the changes; rejects with the ApiError
 */
export function dealFields({ deal, pipeline, members, labels, canWrite, save, signal }) {
  const disabled = !canWrite;

  /** Save one field's change; its error shows under it. */
  async function commit(control, changes) {
    control.setError(undefined);
    try {
      await save(changes);
    } catch (error) {
      if (isAbort(error)) return;
      const fieldErrors = error.extra && error.extra.fields ? Object.values(error.extra.fields).flat() : [];
      control.setError(fieldErrors.length ? fieldErrors : [errorText(error)]);
    }
  }

  const title = field({ label: gettext('Title'), name: 'title', value: deal.title, required: true, maxlength: '200', disabled, 'data-testid': 'crm-deal-title-input' });
  title.input.addEventListener('change', () => {
    const value = title.input.value.trim();
    if (!value) {
      title.setError([gettext('A deal needs a title.')]);
      return;
    }
    commit(title, { title: value });
  });

  const value = field({
    label: interpolate(gettext('Value (%(currency)s)'), { currency: deal.currency || pipeline.currency || 'BRL' }),
    name: 'value',
    value: centavosToInput(deal.value),
    inputmode: 'decimal',
    hint: gettext('In reais, e.g. 1.234,56'),
    disabled,
    'data-testid': 'crm-deal-value-input',
  });
  value.input.addEventListener('change', () => {
    const centavos = parseReais(value.input.value);
    if (centavos === null) {
      value.setError([gettext('Type an amount such as 1.234,56.')]);
      return;
    }
    commit(value, { value: centavos });
  });

  const ownerSelect = h(
    'select',
    { disabled, 'data-testid': 'crm-deal-owner' },
    h('option', { value: '' }, gettext('No owner')),
    members.map((member) => h('option', { value: String(member.id) }, member.name)),
  );
  ownerSelect.value = deal.owner ? String(deal.owner.id) : '';
  const owner = field({ label: gettext('Owner'), name: 'owner_id', control: ownerSelect });
  ownerSelect.addEventListener('change', () => commit(owner, { owner_id: ownerSelect.value ? Number(ownerSelect.value) : null }));

  const contact = recordPicker({
    label: gettext('Contact'),
    searchLabel: gettext('Search contacts'),
    name: 'contact_id',
    current: deal.contact,
    path: '/contacts/',
    disabled,
    signal,
    onChoose: (picker, id) => commit(picker, { contact_id: id }),
  });
  const company = recordPicker({
    label: gettext('Company'),
    searchLabel: gettext('Search companies'),
    name: 'company_id',
    current: deal.company,
    path: '/companies/',
    disabled,
    signal,
    onChoose: (picker, id) => commit(picker, { company_id: id }),
  });

  const close = field({ label: gettext('Expected close date'), name: 'expected_close_date', type: 'date', value: deal.expected_close_date || '', disabled });
  close.input.addEventListener('change', () => commit(close, { expected_close_date: close.input.value || null }));

  const stageProbability = (pipeline.stages.find((stage) => stage.id === deal.stage_id) || {}).probability;
  const probability = field({
    label: gettext('Win probability (%)'),
    name: 'probability',
    type: 'number',
    min: '0',
    max: '100',
    step: '1',
    value: deal.probability === null || deal.probability === undefined ? '' : String(deal.probability),
    hint: interpolate(gettext('Leave empty to use the stage’s %(percent)s.'), { percent: `${stageProbability ?? 0}%` }),
    disabled,
  });
  probability.input.addEventListener('change', () => {
    const text = probability.input.value.trim();
    const number = text === '' ? null : Number(text);
    if (number !== null && (!Number.isInteger(number) || number < 0 || number > 100)) {
      probability.setError([gettext('A whole number from 0 to 100.')]);
      return;
    }
    commit(probability, { probability: number });
  });

  // Labels: a checkbox each, saved as the whole set.
  const chosen = new Set((deal.labels || []).map((label) => label.id));
  const labelsError = h('p', { class: 'field-error', hidden: true });
  const labelsControl = {
    setError(messages) {
      labelsError.textContent = (messages || []).join(' ');
      labelsError.hidden = !labelsError.textContent;
    },
  };
  const labelBoxes = h(
    'fieldset',
    { class: 'crm-label-choices' },
    h('legend', null, gettext('Labels')),
    labels.length
      ? labels.map((label) => {
          const box = h('input', { type: 'checkbox', value: String(label.id), checked: chosen.has(label.id), disabled });
          box.addEventListener('change', () => {
            if (box.checked) chosen.add(label.id);
            else chosen.delete(label.id);
            commit(labelsControl, { label_ids: [...chosen] });
          });
          return h('label', { class: 'crm-checkbox' }, box, labelChip(label));
        })
      : h('p', { class: 'muted' }, gettext('No labels yet.')),
    labelsError,
  );

  const custom = (pipeline.custom_fields || []).map((definition) => customField(definition, deal.custom_fields || {}, disabled, commit));

  return h(
    'div',
    { class: 'crm-deal-fields' },
    title.wrapper,
    value.wrapper,
    owner.wrapper,
    contact.wrapper,
    company.wrapper,
    close.wrapper,
    probability.wrapper,
    labelBoxes,
    custom.length ? h('h3', null, gettext('Custom fields')) : null,
    custom,
  );
}

/** One custom field's control, by its kind. */
function customField(definition, values, disabled, commit) {
  const current = values[definition.key];
  const label = definition.required ? `${definition.label} *` : definition.label;
  const name = `cf-${definition.key}`;
  let control;
  if (definition.kind === 'choice') {
    const select = h(
      'select',
      { disabled },
      h('option', { value: '' }, gettext('None')),
      (definition.choices || []).map((choice) => h('option', { value: String(choice) }, String(choice))),
    );
    select.value = current === null || current === undefined ? '' : String(current);
    control = field({ label, name, control: select });
  } else {
    const type = definition.kind === 'number' ? 'number' : definition.kind === 'date' ? 'date' : 'text';
    control = field({ label, name, type, value: current === null || current === undefined ? '' : String(current), step: type === 'number' ? 'any' : null, disabled });
  }
  control.input.dataset.customField = definition.key;
  control.input.addEventListener('change', () => {
    const raw = control.input.value;
    let parsed = raw === '' ? null : raw;
    if (parsed !== null && definition.kind === 'number') {
      parsed = Number(raw);
      if (Number.isNaN(parsed)) {
        control.setError([gettext('A number, please.')]);
        return;
      }
    }
    commit(control, { custom_fields: { [definition.key]: parsed } });
  });
  return control.wrapper;
}

/**
 * A contact or company chooser: the current one, or one found by a search.
 * @returns {{wrapper: HTMLElement, setError: (messages?: string[]) => void}}
 */
function recordPicker({ label, searchLabel, name, current, path, disabled, signal, onChoose }) {
  const select = h('select', { disabled, 'data-testid': `crm-deal-${name}` });
  const options = (results) => {
    const seen = new Set();
    const items = [current, ...results].filter((item) => item && !seen.has(item.id) && seen.add(item.id));
    select.replaceChildren(h('option', { value: '' }, gettext('None')), ...items.map((item) => h('option', { value: String(item.id) }, item.name)));
    select.value = current ? String(current.id) : '';
  };
  options([]);
  const picker = field({ label, name, control: select });
  const search = h('input', { type: 'search', placeholder: searchLabel, 'aria-label': searchLabel, disabled, class: 'crm-picker-search' });
  let timer = null;
  let ticket = 0;
  search.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const mine = ++ticket;
      const q = search.value.trim();
      try {
        const answer = q ? await api.get(crmPath(`${path}?q=${encodeURIComponent(q)}`), { signal }) : [];
        if (mine !== ticket) return;
        options(resultsOf(answer).slice(0, 20));
        picker.setError(undefined);
      } catch (error) {
        if (!isAbort(error)) picker.setError([errorText(error)]);
      }
    }, 300);
  });
  select.addEventListener('change', () => {
    const id = select.value ? Number(select.value) : null;
    const chosenOption = select.selectedOptions[0];
    current = id ? { id, name: chosenOption ? chosenOption.textContent : '' } : null;
    onChoose(picker, id);
  });
  picker.wrapper.append(search);
  return { wrapper: picker.wrapper, setError: picker.setError };
}
