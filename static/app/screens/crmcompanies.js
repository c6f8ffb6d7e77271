// Companies (/crm/companies) and one company (/crm/companies/<id>): the list with search,
// owner, label and source filters, saved views and a form to add one; a company's fields
// (editable by agents and admins), its contacts and its deals.

import { confirmDialog, errorText, h, setChildren, toast, whileBusy } from '../components.js';
import { gettext, interpolate } from '../i18n.js';
import { crmCanWrite, crmIsAdmin } from '../crm/nav.js';
import {
  attempt,
  crm,
  crmFrame,
  dealStatusBadge,
  debounced,
  exportButton,
  filtersFromAddress,
  formDialog,
  formatValue,
  formatWhen,
  isAbort,
  labelChips,
  labelPicker,
  labelSelect,
  loadLabels,
  loadMembers,
  ownerSelect,
  pager,
  queryOf,
  recordTable,
  replaceAddress,
  resultsOf,
  savedViews,
  showFailure,
} from '../crm/records.js';

const KEYS = ['q', 'owner', 'label', 'source', 'created_from', 'created_to'];
const TEXT_FIELDS = ['name', 'domain', 'phone', 'tax_id', 'address', 'source'];

export function render(context) {
  if (context.params.companyId) renderDetail(context, Number(context.params.companyId));
  else renderList(context);
}

function fieldLabels() {
  return {
    name: gettext('Name'),
    domain: gettext('Website domain'),
    phone: gettext('Phone'),
    tax_id: gettext('CNPJ'),
    address: gettext('Address'),
    source: gettext('Source'),
  };
}

function renderList({ main, query, setTitle, signal, navigate }) {
  const canWrite = crmCanWrite();
  const newButton = canWrite ? h('button', { type: 'button', class: 'button primary', 'data-testid': 'new-company' }, gettext('New company')) : null;
  const body = crmFrame(main, { title: gettext('Companies'), setTitle, actions: newButton });
  if (!body) return;
  let filters = filtersFromAddress(query, KEYS);
  let page = Number(query.get('page')) || 1;
  let members = [];
  let labels = [];

  const filterForm = h('form', { class: 'crm-filters crm-filters-inline', role: 'search', 'aria-label': gettext('Filter companies') });
  const results = h('div', { class: 'crm-results', 'aria-live': 'polite' });
  const views = savedViews({
    entity: 'companies',
    signal,
    current: () => ({ ...filters }),
    apply(view) {
      filters = { ...(view.filters || {}) };
      page = 1;
      drawFilters();
      load();
    },
  });
  body.append(h('div', { class: 'crm-toolbar' }, views.element, exportButton({ entity: 'companies', filters: () => filters, signal })), filterForm, results);

  function drawFilters() {
    const search = h('input', { type: 'search', id: 'company-search', name: 'q', value: filters.q || '', placeholder: gettext('Name or domain') });
    const owner = ownerSelect({ members, value: filters.owner || '', id: 'company-owner' });
    owner.name = 'owner';
    const label = labelSelect({ labels, value: filters.label || '', id: 'company-label' });
    label.name = 'label';
    const source = h('input', { id: 'company-source', name: 'source', value: filters.source || '' });
    setChildren(
      filterForm,
      h('div', { class: 'field' }, h('label', { for: search.id }, gettext('Search')), search),
      h('div', { class: 'field' }, h('label', { for: owner.id }, gettext('Owner')), owner),
      h('div', { class: 'field' }, h('label', { for: label.id }, gettext('Label')), label),
      h('div', { class: 'field' }, h('label', { for: source.id }, gettext('Source')), source),
      h('button', { type: 'submit', class: 'button' }, gettext('Filter')),
    );
    search.addEventListener('input', debounced(() => filterForm.requestSubmit(), 400));
  }
  filterForm.addEventListener('submit', (event) => {
    event.preventDefault();
    filters = {};
    for (const element of filterForm.elements) if (element.name && element.value.trim()) filters[element.name] = element.value.trim();
    page = 1;
    views.clear();
    load();
  });

  let ticket = 0;
  async function load() {
    const mine = ++ticket;
    replaceAddress('/crm/companies', { ...filters, page: page > 1 ? page : '' });
    try {
      const answer = await crm.get(`/companies/?${queryOf({ ...filters, page })}`, { signal });
      if (mine !== ticket) return;
      setChildren(
        results,
        recordTable({
          testid: 'company-list',
          caption: gettext('Companies'),
          empty: gettext('No companies match.'),
          columns: [{ label: gettext('Name') }, { label: gettext('Website domain') }, { label: gettext('Phone') }, { label: gettext('Contacts') }, { label: gettext('Owner') }, { label: gettext('Labels') }],
          rows: resultsOf(answer).map((company) => [
            h('a', { href: `/crm/companies/${company.id}` }, company.name),
            company.domain || '—',
            company.phone || '—',
            String(company.contact_count ?? '—'),
            company.owner ? company.owner.name : '—',
            labelChips(company.labels) || '—',
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
      const names = fieldLabels();
      const company = await formDialog({
        title: gettext('New company'),
        submitLabel: gettext('Add company'),
        fields: TEXT_FIELDS.map((name) => ({ name, label: names[name], required: name === 'name' })),
        submit: (values) => crm.post('/companies/', values, { signal }),
      });
      if (company && company.id) navigate(`/crm/companies/${company.id}`);
    });
  }

  (async () => {
    try {
      [members, labels] = await Promise.all([loadMembers(signal), loadLabels(signal)]);
    } catch (error) {
      showFailure(results, error);
      return;
    }
    drawFilters();
    load();
    views.load().catch((error) => showFailure(views.element, error));
  })();
}

function renderDetail({ main, setTitle, signal, navigate }, companyId) {
  const body = crmFrame(main, { title: gettext('Company'), setTitle });
  if (!body) return;
  const heading = main.querySelector('h1');
  const canWrite = crmCanWrite();
  const fieldsSection = h('section', { class: 'card crm-section', 'aria-labelledby': 'company-fields-title' });
  const contactsSection = h('section', { class: 'card crm-section', 'aria-labelledby': 'company-contacts-title' });
  const dealsSection = h('section', { class: 'card crm-section', 'aria-labelledby': 'company-deals-title' });
  body.append(
    h('p', null, h('a', { href: '/crm/companies' }, gettext('← All companies'))),
    h('div', { class: 'crm-detail' }, h('div', { class: 'crm-detail-main' }, fieldsSection), h('div', { class: 'crm-detail-side' }, contactsSection, dealsSection)),
  );
  let members = [];
  let labels = [];

  function drawFields(company) {
    heading.textContent = company.name;
    setTitle(company.name);
    const names = fieldLabels();
    const inputs = TEXT_FIELDS.map((name) => h('input', { id: `company-${name}`, name, value: company[name] || '', required: name === 'name', disabled: !canWrite }));
    const notes = h('textarea', { id: 'company-notes', name: 'notes', rows: 3, disabled: !canWrite });
    notes.value = company.notes || '';
    const owner = ownerSelect({ members, any: gettext('Nobody'), me: false, value: company.owner ? String(company.owner.id) : '', id: 'company-owner-id' });
    owner.disabled = !canWrite;
    const picker = labelPicker({ labels, chosen: company.labels || [] });
    picker.element.disabled = !canWrite;
    const alert = h('div', { class: 'form-alert', role: 'alert', hidden: true });
    const save = h('button', { type: 'submit', class: 'button primary' }, gettext('Save'));
    const remove = crmIsAdmin() ? h('button', { type: 'button', class: 'button danger-outline' }, gettext('Delete company')) : null;
    const form = h(
      'form',
      { class: 'crm-form' },
      h('h2', { id: 'company-fields-title' }, gettext('Details')),
      alert,
      h(
        'div',
        { class: 'crm-form-grid' },
        inputs.map((input) => h('div', { class: 'field' }, h('label', { for: input.id }, names[input.name]), input)),
        h('div', { class: 'field' }, h('label', { for: owner.id }, gettext('Owner')), owner),
      ),
      h('div', { class: 'field' }, h('label', { for: notes.id }, gettext('Notes')), notes),
      picker.element,
      h('p', { class: 'muted' }, interpolate(gettext('Created %(when)s'), { when: formatWhen(company.created_at) })),
      canWrite ? h('div', { class: 'actions' }, save, remove) : null,
    );
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      alert.hidden = true;
      const payload = Object.fromEntries(inputs.map((input) => [input.name, input.value.trim()]));
      payload.notes = notes.value.trim();
      payload.owner_id = owner.value ? Number(owner.value) : null;
      payload.label_ids = picker.value();
      await whileBusy(save, async () => {
        try {
          drawAll(await crm.patch(`/companies/${companyId}/`, payload, { signal }));
          toast(gettext('Company saved.'), { kind: 'success' });
        } catch (error) {
          alert.textContent = errorText(error);
          alert.hidden = false;
        }
      });
    });
    if (remove) {
      remove.addEventListener('click', async () => {
        const sure = await confirmDialog({ title: gettext('Delete this company?'), message: gettext('Its contacts and deals stay, without a company.'), confirmLabel: gettext('Delete company'), danger: true });
        if (sure && (await attempt(() => crm.delete(`/companies/${companyId}/`, { signal })))) navigate('/crm/companies');
      });
    }
    setChildren(fieldsSection, form);
  }

  async function drawRelated(company) {
    // The detail may carry its contacts and deals; otherwise ask the lists for them.
    let contacts = company.contacts;
    let deals = company.deals;
    try {
      if (!contacts) contacts = resultsOf(await crm.get(`/contacts/?company=${companyId}`, { signal }));
      if (!deals) deals = resultsOf(await crm.get(`/deals/?company=${companyId}`, { signal }));
    } catch (error) {
      if (isAbort(error)) return;
      contacts = contacts || [];
      deals = deals || [];
    }
    setChildren(
      contactsSection,
      h('h2', { id: 'company-contacts-title' }, gettext('Contacts')),
      contacts.length
        ? h('ul', { class: 'plain-list crm-mini-list' }, contacts.map((contact) => h('li', null, h('a', { href: `/crm/contacts/${contact.id}` }, contact.name), ' ', h('span', { class: 'muted' }, contact.email || contact.phone || ''))))
        : h('p', { class: 'muted' }, gettext('No contacts yet.')),
    );
    setChildren(
      dealsSection,
      h('h2', { id: 'company-deals-title' }, gettext('Deals')),
      deals.length
        ? h('ul', { class: 'plain-list crm-mini-list' }, deals.map((deal) => h('li', null, h('a', { href: `/crm/deals/${deal.id}` }, deal.title), ' ', h('span', { class: 'muted' }, formatValue(deal.value, deal.currency)), ' ', dealStatusBadge(deal.status))))
        : h('p', { class: 'muted' }, gettext('No deals yet.')),
    );
  }

  function drawAll(company) {
    drawFields(company);
    drawRelated(company);
  }

  (async () => {
    let company;
    try {
      [members, labels, company] = await Promise.all([loadMembers(signal), loadLabels(signal), crm.get(`/companies/${companyId}/`, { signal })]);
    } catch (error) {
      if (isAbort(error)) return;
      heading.textContent = gettext('Company not available');
      setChildren(body, h('p', { class: 'error-text', role: 'alert' }, error.status === 404 ? gettext('This company does not exist, or you cannot see it.') : errorText(error)));
      return;
    }
    drawAll(company);
  })();
}
