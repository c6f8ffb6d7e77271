// Leads (/crm/leads) and one lead (/crm/leads/<id>): the list by status with search and
// saved views, a form to add one, editing, and converting a lead into a contact and a deal
// (pipeline, stage, title, value), which opens the new deal. Admins merge duplicate leads.

import { confirmDialog, errorText, h, setChildren, toast, whileBusy } from '../components.js';
import { gettext, interpolate } from '../i18n.js';
import { crmCanWrite, crmIsAdmin } from '../crm/nav.js';
import {
  attempt,
  centavosFromReais,
  crm,
  crmFrame,
  debounced,
  exportButton,
  fillStages,
  filtersFromAddress,
  formDialog,
  formatWhen,
  isAbort,
  labelChips,
  labelPicker,
  loadLabels,
  loadMembers,
  loadPipelines,
  ownerSelect,
  pager,
  queryOf,
  recordTable,
  replaceAddress,
  resultsOf,
  savedViews,
  showFailure,
} from '../crm/records.js';

const KEYS = ['q', 'status', 'owner', 'label', 'source', 'created_from', 'created_to'];
const STATUSES = ['new', 'contacted', 'qualified', 'disqualified', 'converted'];
const TEXT_FIELDS = ['name', 'email', 'phone', 'company_name', 'source'];

export function leadStatusLabel(status) {
  switch (status) {
    case 'new':
      return gettext('New');
    case 'contacted':
      return gettext('Contacted');
    case 'qualified':
      return gettext('Qualified');
    case 'disqualified':
      return gettext('Disqualified');
    case 'converted':
      return gettext('Converted');
    default:
      return status;
  }
}

function statusBadge(status) {
  const tone = status === 'converted' ? 'success' : status === 'disqualified' ? 'danger' : status === 'qualified' ? 'warning' : 'subtle';
  return h('span', { class: `badge ${tone}`, 'data-testid': 'lead-status' }, leadStatusLabel(status));
}

function fieldLabels() {
  return {
    name: gettext('Name'),
    email: gettext('E-mail'),
    phone: gettext('Phone'),
    company_name: gettext('Company'),
    source: gettext('Source'),
  };
}

export function render(context) {
  if (context.params.leadId) renderDetail(context, Number(context.params.leadId));
  else renderList(context);
}

/**
 * Convert a lead: choose the pipeline, stage, title and value; resolves with the answer
 * ({contact, deal}) or null.
 */
export function convertDialog({ lead, pipelines, signal }) {
  const first = pipelines[0];
  return formDialog({
    title: interpolate(gettext('Convert %(name)s'), { name: lead.name }),
    submitLabel: gettext('Convert'),
    intro: h('p', { class: 'muted' }, gettext('Makes a contact (or uses the one with the same e-mail or phone) and a deal for it.')),
    fields: [
      { name: 'pipeline_id', label: gettext('Pipeline'), choices: pipelines.map((pipeline) => [String(pipeline.id), pipeline.name]), value: first ? String(first.id) : '', required: true },
      { name: 'stage_id', label: gettext('Stage'), choices: [['', gettext('First stage')]] },
      { name: 'title', label: gettext('Deal title'), value: lead.company_name ? `${lead.name} · ${lead.company_name}` : lead.name, maxlength: 200 },
      { name: 'value', label: gettext('Value (R$)'), inputmode: 'decimal', placeholder: '0,00', hint: gettext('In reais, such as 1.500,00.') },
    ],
    setup(controls) {
      const refill = () => fillStages(controls.stage_id, pipelines.find((pipeline) => String(pipeline.id) === controls.pipeline_id.value));
      controls.pipeline_id.addEventListener('change', refill);
      refill();
    },
    submit(values) {
      const value = values.value.trim() ? centavosFromReais(values.value) : 0;
      if (value === null) {
        return Promise.reject({ code: 'crm.invalid_value', message: gettext('Type the value in reais, such as 1.500,00.'), extra: { field: 'value' } });
      }
      const payload = { pipeline_id: Number(values.pipeline_id), stage_id: values.stage_id ? Number(values.stage_id) : null, value };
      if (values.title.trim()) payload.title = values.title.trim();
      return crm.post(`/leads/${lead.id}/convert/`, payload, { signal });
    },
  });
}

function leadDialog({ lead = null, signal }) {
  const names = fieldLabels();
  return formDialog({
    title: lead ? gettext('Edit lead') : gettext('New lead'),
    submitLabel: lead ? gettext('Save') : gettext('Add lead'),
    fields: [
      ...TEXT_FIELDS.map((name) => ({ name, label: names[name], value: lead ? lead[name] : '', required: name === 'name', type: name === 'email' ? 'email' : name === 'phone' ? 'tel' : 'text' })),
      { name: 'status', label: gettext('Status'), choices: STATUSES.filter((status) => status !== 'converted').map((status) => [status, leadStatusLabel(status)]), value: lead ? lead.status : 'new' },
      { name: 'notes', label: gettext('Notes'), type: 'textarea', value: lead ? lead.notes : '' },
    ],
    submit: (values) => (lead ? crm.patch(`/leads/${lead.id}/`, values, { signal }) : crm.post('/leads/', values, { signal })),
  });
}

function renderList({ main, query, setTitle, signal, navigate }) {
  const canWrite = crmCanWrite();
  const newButton = canWrite ? h('button', { type: 'button', class: 'button primary', 'data-testid': 'new-lead' }, gettext('New lead')) : null;
  const body = crmFrame(main, { title: gettext('Leads'), setTitle, actions: newButton });
  if (!body) return;
  let filters = filtersFromAddress(query, KEYS);
  let page = Number(query.get('page')) || 1;
  let pipelines = [];
  let members = [];

  const filterForm = h('form', { class: 'crm-filters crm-filters-inline', role: 'search', 'aria-label': gettext('Filter leads') });
  const results = h('div', { class: 'crm-results', 'aria-live': 'polite' });
  const views = savedViews({
    entity: 'leads',
    signal,
    current: () => ({ ...filters }),
    apply(view) {
      filters = { ...(view.filters || {}) };
      page = 1;
      drawFilters();
      load();
    },
  });
  body.append(h('div', { class: 'crm-toolbar' }, views.element, exportButton({ entity: 'leads', filters: () => filters, signal })), filterForm, results);

  function drawFilters() {
    const search = h('input', { type: 'search', id: 'lead-search', name: 'q', value: filters.q || '', placeholder: gettext('Name, e-mail or phone') });
    const status = h('select', { id: 'lead-status', name: 'status', 'data-testid': 'lead-status-filter' }, h('option', { value: '' }, gettext('Any status')), STATUSES.map((value) => h('option', { value }, leadStatusLabel(value))));
    status.value = filters.status || '';
    const owner = ownerSelect({ members, value: filters.owner || '', id: 'lead-owner' });
    owner.name = 'owner';
    setChildren(
      filterForm,
      h('div', { class: 'field' }, h('label', { for: search.id }, gettext('Search')), search),
      h('div', { class: 'field' }, h('label', { for: status.id }, gettext('Status')), status),
      h('div', { class: 'field' }, h('label', { for: owner.id }, gettext('Owner')), owner),
      h('button', { type: 'submit', class: 'button' }, gettext('Filter')),
    );
    search.addEventListener('input', debounced(() => filterForm.requestSubmit(), 400));
    status.addEventListener('change', () => filterForm.requestSubmit());
  }
  filterForm.addEventListener('submit', (event) => {
    event.preventDefault();
    filters = {};
    for (const element of filterForm.elements) if (element.name && element.value.trim()) filters[element.name] = element.value.trim();
    page = 1;
    views.clear();
    load();
  });

  async function convert(lead) {
    const answer = await convertDialog({ lead, pipelines, signal });
    if (answer && answer.deal) {
      toast(gettext('Lead converted.'), { kind: 'success' });
      navigate(`/crm/deals/${answer.deal.id}`);
    }
  }

  let ticket = 0;
  async function load() {
    const mine = ++ticket;
    replaceAddress('/crm/leads', { ...filters, page: page > 1 ? page : '' });
    try {
      const answer = await crm.get(`/leads/?${queryOf({ ...filters, page })}`, { signal });
      if (mine !== ticket) return;
      setChildren(
        results,
        recordTable({
          testid: 'lead-list',
          caption: gettext('Leads'),
          empty: gettext('No leads match.'),
          columns: [{ label: gettext('Name') }, { label: gettext('Company') }, { label: gettext('E-mail') }, { label: gettext('Phone') }, { label: gettext('Status') }, { label: gettext('Created') }, { label: gettext('Actions'), hidden: true }],
          rows: resultsOf(answer).map((lead) => [
            h('a', { href: `/crm/leads/${lead.id}` }, lead.name),
            lead.company_name || '—',
            lead.email || '—',
            lead.phone || '—',
            statusBadge(lead.status),
            formatWhen(lead.created_at),
            canWrite && lead.status !== 'converted'
              ? h('button', { type: 'button', class: 'button', 'data-testid': 'convert-lead', 'aria-label': interpolate(gettext('Convert %(name)s'), { name: lead.name }), onclick: () => convert(lead) }, gettext('Convert…'))
              : lead.converted_deal_id
                ? h('a', { href: `/crm/deals/${lead.converted_deal_id}` }, gettext('Open the deal'))
                : '',
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
    } catch (error) {
      if (mine === ticket) showFailure(results, error);
    }
  }

  if (newButton) {
    newButton.addEventListener('click', async () => {
      const lead = await leadDialog({ signal });
      if (lead) {
        toast(gettext('Lead added.'), { kind: 'success' });
        load();
      }
    });
  }

  (async () => {
    try {
      [pipelines, members] = await Promise.all([loadPipelines(signal), loadMembers(signal)]);
    } catch (error) {
      showFailure(results, error);
      return;
    }
    drawFilters();
    load();
    views.load().catch((error) => showFailure(views.element, error));
  })();
}

function renderDetail({ main, setTitle, signal, navigate }, leadId) {
  const body = crmFrame(main, { title: gettext('Lead'), setTitle });
  if (!body) return;
  const heading = main.querySelector('h1');
  const canWrite = crmCanWrite();
  const isAdmin = crmIsAdmin();
  let pipelines = [];
  let members = [];
  let labels = [];
  const section = h('section', { class: 'card crm-section', 'aria-labelledby': 'lead-fields-title' });
  const mergeSection = h('section', { class: 'card crm-section', 'aria-labelledby': 'lead-merge-title', hidden: !isAdmin });
  body.append(h('p', null, h('a', { href: '/crm/leads' }, gettext('← All leads'))), section, mergeSection);

  function draw(lead) {
    heading.textContent = lead.name;
    setTitle(lead.name);
    const converted = lead.status === 'converted';
    const editable = canWrite && !converted;
    const names = fieldLabels();
    const inputs = TEXT_FIELDS.map((name) => h('input', { id: `lead-${name}`, name, value: lead[name] || '', required: name === 'name', disabled: !editable }));
    const status = h('select', { id: 'lead-status-field', disabled: !editable }, STATUSES.filter((value) => value !== 'converted' || converted).map((value) => h('option', { value }, leadStatusLabel(value))));
    status.value = lead.status;
    const notes = h('textarea', { id: 'lead-notes', rows: 3, disabled: !editable });
    notes.value = lead.notes || '';
    const owner = ownerSelect({ members, any: gettext('Nobody'), me: false, value: lead.owner ? String(lead.owner.id) : '', id: 'lead-owner-id' });
    owner.disabled = !editable;
    const picker = labelPicker({ labels, chosen: lead.labels || [] });
    picker.element.disabled = !editable;
    const alert = h('div', { class: 'form-alert', role: 'alert', hidden: true });
    const save = h('button', { type: 'submit', class: 'button primary' }, gettext('Save'));
    const convertButton = h('button', { type: 'button', class: 'button', 'data-testid': 'convert-lead' }, gettext('Convert…'));
    const form = h(
      'form',
      { class: 'crm-form' },
      h('h2', { id: 'lead-fields-title' }, gettext('Details'), ' ', statusBadge(lead.status)),
      converted
        ? h(
            'p',
            { class: 'crm-note' },
            gettext('Converted.'),
            ' ',
            lead.converted_contact_id ? h('a', { href: `/crm/contacts/${lead.converted_contact_id}` }, gettext('Open the contact')) : null,
            ' ',
            lead.converted_deal_id ? h('a', { href: `/crm/deals/${lead.converted_deal_id}` }, gettext('Open the deal')) : null,
          )
        : null,
      alert,
      h(
        'div',
        { class: 'crm-form-grid' },
        inputs.map((input) => h('div', { class: 'field' }, h('label', { for: input.id }, names[input.name]), input)),
        h('div', { class: 'field' }, h('label', { for: status.id }, gettext('Status')), status),
        h('div', { class: 'field' }, h('label', { for: owner.id }, gettext('Owner')), owner),
      ),
      h('div', { class: 'field' }, h('label', { for: notes.id }, gettext('Notes')), notes),
      picker.element,
      labelChips(lead.labels),
      editable ? h('div', { class: 'actions' }, save, convertButton) : null,
    );
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      alert.hidden = true;
      const payload = Object.fromEntries(inputs.map((input) => [input.name, input.value.trim()]));
      payload.status = status.value;
      payload.notes = notes.value.trim();
      payload.owner_id = owner.value ? Number(owner.value) : null;
      payload.label_ids = picker.value();
      await whileBusy(save, async () => {
        try {
          draw(await crm.patch(`/leads/${leadId}/`, payload, { signal }));
          toast(gettext('Lead saved.'), { kind: 'success' });
        } catch (error) {
          alert.textContent = errorText(error);
          alert.hidden = false;
        }
      });
    });
    convertButton.addEventListener('click', async () => {
      const answer = await convertDialog({ lead, pipelines, signal });
      if (answer && answer.deal) {
        toast(gettext('Lead converted.'), { kind: 'success' });
        navigate(`/crm/deals/${answer.deal.id}`);
      }
    });
    setChildren(section, form);
    if (isAdmin && !converted) drawMerge(lead);
    else mergeSection.hidden = true;
  }

  function drawMerge(lead) {
    const search = h('input', { type: 'search', id: 'lead-merge-search', placeholder: gettext('Name, e-mail or phone') });
    const found = h('ul', { class: 'plain-list crm-mini-list', 'aria-live': 'polite' });
    setChildren(
      mergeSection,
      h('h2', { id: 'lead-merge-title' }, gettext('Merge another lead into this one')),
      h('div', { class: 'field' }, h('label', { for: search.id }, gettext('Find the duplicate lead')), search),
      found,
    );
    search.addEventListener(
      'input',
      debounced(async () => {
        const text = search.value.trim();
        if (!text) return setChildren(found);
        try {
          const leads = resultsOf(await crm.get(`/leads/?${queryOf({ q: text })}`, { signal })).filter((item) => item.id !== lead.id && item.status !== 'converted');
          setChildren(
            found,
            leads.length
              ? leads.map((item) =>
                  h(
                    'li',
                    null,
                    item.name,
                    ' ',
                    h('span', { class: 'muted' }, [item.email, item.phone].filter(Boolean).join(' · ')),
                    h(
                      'button',
                      {
                        type: 'button',
                        class: 'button',
                        async onclick() {
                          const sure = await confirmDialog({
                            title: gettext('Merge these leads?'),
                            message: interpolate(gettext('%(other)s is merged into %(name)s and leaves the list.'), { other: item.name, name: lead.name }),
                            confirmLabel: gettext('Merge'),
                          });
                          const merged = sure && (await attempt(async () => {
                            await crm.post(`/leads/${leadId}/merge/`, { source_ids: [item.id] }, { signal });
                            draw(await crm.get(`/leads/${leadId}/`, { signal }));
                          }));
                          if (merged) {
                            toast(gettext('Leads merged.'), { kind: 'success' });
                          }
                        },
                      },
                      gettext('Merge into this one'),
                    ),
                  ),
                )
              : h('li', { class: 'muted' }, gettext('No other lead matches.')),
          );
        } catch (error) {
          showFailure(found, error);
        }
      }, 350),
    );
  }

  (async () => {
    let lead;
    try {
      [pipelines, members, labels, lead] = await Promise.all([loadPipelines(signal), loadMembers(signal), loadLabels(signal), crm.get(`/leads/${leadId}/`, { signal })]);
    } catch (error) {
      if (isAbort(error)) return;
      heading.textContent = gettext('Lead not available');
      setChildren(body, h('p', { class: 'error-text', role: 'alert' }, error.status === 404 ? gettext('This lead does not exist, or you cannot see it.') : errorText(error)));
      return;
    }
    draw(lead);
  })();
}
