// The deals as a list (/crm/deals): a filter panel (pipeline, stage, owner, label, status,
// value range in reais, created and close dates, the chosen pipeline's custom fields), the
// person's saved views, pages, and the same filters exported as CSV.
//
// The filters live in the address (`/crm/deals?pipeline=2&owner=me`), so a filtered list
// can be bookmarked or shared and a saved board view links to the board with them.

import { h, setChildren } from '../components.js';
import { gettext, interpolate } from '../i18n.js';
import {
  centavosFromReais,
  crm,
  crmFrame,
  dealStatusBadge,
  exportButton,
  filtersFromAddress,
  formatDay,
  formatValue,
  labelChips,
  labelSelect,
  loadLabels,
  loadMembers,
  loadPipelines,
  ownerSelect,
  pager,
  queryOf,
  recordTable,
  reaisFromCentavos,
  replaceAddress,
  savedViews,
  showFailure,
} from '../crm/records.js';

const KEYS = ['pipeline', 'stage', 'owner', 'label', 'status', 'value_min', 'value_max', 'created_from', 'created_to', 'close_from', 'close_to', 'q'];

export function render({ main, query, setTitle, signal, navigate }) {
  const body = crmFrame(main, { title: gettext('Deals'), setTitle });
  if (!body) return;

  let filters = filtersFromAddress(query, KEYS);
  let page = Number(query.get('page')) || 1;
  let pipelines = [];
  let members = [];
  let labels = [];

  const form = h('form', { class: 'crm-filters', 'aria-label': gettext('Filter deals'), 'data-testid': 'deal-filters' });
  const results = h('div', { class: 'crm-results', 'aria-live': 'polite', 'aria-busy': 'true' });
  const exporter = exportButton({ entity: 'deals', filters: () => filters, signal });
  const views = savedViews({
    entity: 'deals',
    signal,
    current: () => ({ ...filters }),
    apply(view) {
      const chosen = { ...(view.filters || {}) };
      if (view.mode === 'board' && chosen.pipeline) {
        const rest = { ...chosen };
        delete rest.pipeline;
        const queryString = queryOf(rest);
        navigate(`/crm/pipelines/${chosen.pipeline}${queryString ? `?${queryString}` : ''}`);
        return;
      }
      filters = chosen;
      page = 1;
      drawForm();
      load();
    },
  });
  const boardLink = h('a', { class: 'button', hidden: true, 'data-testid': 'board-link' }, gettext('Open as board'));
  body.append(
    h('div', { class: 'crm-toolbar' }, views.element, exporter, boardLink),
    h('div', { class: 'crm-list-layout' }, form, results),
  );

  // --- the filter panel ------------------------------------------------------------------

  const pipelineOf = (id) => pipelines.find((item) => String(item.id) === String(id)) || null;
  const stageName = (deal) => {
    const pipeline = pipelineOf(deal.pipeline_id);
    const stage = pipeline && pipeline.stages.find((item) => item.id === deal.stage_id);
    return stage ? stage.name : '—';
  };

  function control(label, name, element) {
    element.id = `deal-filter-${name.replace('.', '-')}`;
    element.name = name;
    return h('div', { class: 'field' }, h('label', { for: element.id }, label), element);
  }

  function input(name, type, value = filters[name] || '', attributes = {}) {
    return h('input', { type, value, ...attributes });
  }

  function customFieldControls(pipeline) {
    if (!pipeline || !(pipeline.custom_fields || []).length) return null;
    return h(
      'fieldset',
      { class: 'crm-filter-group' },
      h('legend', null, gettext('Custom fields')),
      pipeline.custom_fields.map((custom) => {
        const key = `cf.${custom.key}`;
        if (custom.kind === 'choice') {
          const select = h('select', null, h('option', { value: '' }, gettext('Any')), (custom.choices || []).map((choice) => h('option', { value: choice }, choice)));
          select.value = filters[key] || '';
          return control(custom.label, key, select);
        }
        if (custom.kind === 'number' || custom.kind === 'date') {
          const type = custom.kind === 'number' ? 'number' : 'date';
          return h(
            'div',
            { class: 'crm-range' },
            control(interpolate(gettext('%(field)s from'), { field: custom.label }), `${key}__min`, input(`${key}__min`, type, filters[`${key}__min`] || '', { step: 'any' })),
            control(interpolate(gettext('%(field)s to'), { field: custom.label }), `${key}__max`, input(`${key}__max`, type, filters[`${key}__max`] || '', { step: 'any' })),
          );
        }
        return control(custom.label, key, input(key, 'text'));
      }),
    );
  }

  function drawForm() {
    const pipelineSelect = h('select', null, h('option', { value: '' }, gettext('All pipelines')), pipelines.map((item) => h('option', { value: String(item.id) }, item.name)));
    pipelineSelect.value = filters.pipeline || '';
    const pipeline = pipelineOf(filters.pipeline);
    const stageSelect = h(
      'select',
      { disabled: !pipeline },
      h('option', { value: '' }, pipeline ? gettext('All stages') : gettext('Choose a pipeline first')),
      (pipeline ? pipeline.stages : []).map((stage) => h('option', { value: String(stage.id) }, stage.name)),
    );
    stageSelect.value = filters.stage || '';
    const status = h(
      'select',
      null,
      h('option', { value: '' }, gettext('Any status')),
      ['open', 'won', 'lost'].map((value) => h('option', { value }, dealStatusBadge(value).textContent)),
    );
    status.value = filters.status || '';
    // Reais in the form, centavos in the filters and the address.
    const valueMin = input('value_min_reais', 'text', reaisFromCentavos(filters.value_min), { inputmode: 'decimal', placeholder: '0,00' });
    const valueMax = input('value_max_reais', 'text', reaisFromCentavos(filters.value_max), { inputmode: 'decimal', placeholder: '0,00' });

    pipelineSelect.addEventListener('change', () => {
      // Stages and custom fields belong to one pipeline: drop them with it.
      filters = { ...readForm(), pipeline: pipelineSelect.value };
      delete filters.stage;
      for (const key of Object.keys(filters)) if (key.startsWith('cf.')) delete filters[key];
      drawForm();
    });

    setChildren(
      form,
      h('h2', { class: 'crm-filters-title' }, gettext('Filters')),
      control(gettext('Search'), 'q', input('q', 'search', filters.q || '', { placeholder: gettext('Title, contact or company') })),
      control(gettext('Pipeline'), 'pipeline', pipelineSelect),
      control(gettext('Stage'), 'stage', stageSelect),
      control(gettext('Owner'), 'owner', ownerSelect({ members, value: filters.owner || '' })),
      control(gettext('Label'), 'label', labelSelect({ labels, value: filters.label || '' })),
      control(gettext('Status'), 'status', status),
      h(
        'fieldset',
        { class: 'crm-filter-group crm-range' },
        h('legend', null, gettext('Value (R$)')),
        control(gettext('From'), 'value_min_reais', valueMin),
        control(gettext('To'), 'value_max_reais', valueMax),
      ),
      h(
        'fieldset',
        { class: 'crm-filter-group crm-range' },
        h('legend', null, gettext('Created')),
        control(gettext('From'), 'created_from', input('created_from', 'date')),
        control(gettext('To'), 'created_to', input('created_to', 'date')),
      ),
      h(
        'fieldset',
        { class: 'crm-filter-group crm-range' },
        h('legend', null, gettext('Expected close')),
        control(gettext('From'), 'close_from', input('close_from', 'date')),
        control(gettext('To'), 'close_to', input('close_to', 'date')),
      ),
      customFieldControls(pipeline),
      h('p', { class: 'form-alert', role: 'alert', hidden: true, 'data-testid': 'filter-error' }),
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'submit', class: 'button primary', 'data-testid': 'apply-filters' }, gettext('Apply filters')),
        h('button', { type: 'button', class: 'button', onclick: clearFilters }, gettext('Clear')),
      ),
    );
    drawBoardLink();
  }

  function readForm() {
    const values = {};
    for (const element of form.elements) {
      if (!element.name || element.disabled || !element.value) continue;
      values[element.name] = element.value.trim();
    }
    for (const [from, to] of [
      ['value_min_reais', 'value_min'],
      ['value_max_reais', 'value_max'],
    ]) {
      if (values[from] !== undefined) {
        const centavos = centavosFromReais(values[from]);
        if (centavos === null) throw new Error(gettext('Type the value in reais, such as 1.500,00.'));
        values[to] = String(centavos);
        delete values[from];
      }
    }
    return values;
  }

  function clearFilters() {
    filters = {};
    page = 1;
    views.clear();
    drawForm();
    load();
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const alert = form.querySelector('[data-testid="filter-error"]');
    try {
      filters = readForm();
    } catch (error) {
      alert.textContent = error.message;
      alert.hidden = false;
      return;
    }
    alert.hidden = true;
    page = 1;
    views.clear();
    load();
  });

  function drawBoardLink() {
    boardLink.hidden = !filters.pipeline;
    if (!filters.pipeline) return;
    const rest = { ...filters };
    delete rest.pipeline;
    const queryString = queryOf(rest);
    boardLink.href = `/crm/pipelines/${filters.pipeline}${queryString ? `?${queryString}` : ''}`;
  }

  // --- the list --------------------------------------------------------------------------

  let ticket = 0;
  async function load() {
    const mine = ++ticket;
    replaceAddress('/crm/deals', { ...filters, page: page > 1 ? page : '' });
    drawBoardLink();
    results.setAttribute('aria-busy', 'true');
    try {
      const answer = await crm.get(`/deals/?${queryOf({ ...filters, page })}`, { signal });
      if (mine !== ticket) return;
      drawList(answer);
    } catch (error) {
      if (mine === ticket) showFailure(results, error);
    } finally {
      if (mine === ticket) results.setAttribute('aria-busy', 'false');
    }
  }

  function drawList(answer) {
    const deals = Array.isArray(answer) ? answer : answer.results || [];
    const columns = [
      { label: gettext('Deal') },
      { label: gettext('Stage') },
      { label: gettext('Value') },
      { label: gettext('Owner') },
      { label: gettext('Contact') },
      { label: gettext('Expected close') },
      { label: gettext('Status') },
      { label: gettext('Labels') },
    ];
    setChildren(
      results,
      h('h2', { class: 'visually-hidden' }, gettext('Deals found')),
      recordTable({
        columns,
        testid: 'deal-list',
        empty: gettext('No deals match these filters.'),
        rows: deals.map((deal) => [
          h('a', { href: `/crm/deals/${deal.id}` }, deal.title),
          stageName(deal),
          formatValue(deal.value, deal.currency),
          deal.owner ? deal.owner.name : '—',
          deal.contact ? h('a', { href: `/crm/contacts/${deal.contact.id}` }, deal.contact.name) : '—',
          formatDay(deal.expected_close_date),
          dealStatusBadge(deal.status),
          labelChips(deal.labels) || '—',
        ]),
      }),
      pager({
        answer,
        page,
        onPage(next) {
          page = next;
          load();
        },
      }),
    );
  }

  (async () => {
    try {
      [pipelines, members, labels] = await Promise.all([loadPipelines(signal), loadMembers(signal), loadLabels(signal)]);
    } catch (error) {
      showFailure(results, error);
      return;
    }
    drawForm();
    load();
    views.load().catch((error) => showFailure(views.element, error));
  })();
}
