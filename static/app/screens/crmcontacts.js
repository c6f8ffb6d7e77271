// Contacts (/crm/contacts) and one contact (/crm/contacts/<id>).
//
// The list: search, owner, label and source filters, saved views, pages, and a form to add a
// contact that warns while typing when the e-mail or phone already belongs to someone.
// A contact: its fields (editable by agents and admins), labels, owner and company, its deals,
// support conversations and calls, the timeline with notes, its tasks, and the contacts that
// look like duplicates, which admins can merge into it.

import { getUser } from '../auth.js';
import { confirmDialog, errorText, h, setChildren, toast, whileBusy } from '../components.js';
import { formatDateTime, gettext, interpolate } from '../i18n.js';
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
  instantFromLocal,
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

export function render(context) {
  if (context.params.contactId) renderDetail(context, Number(context.params.contactId));
  else renderList(context);
}

// --- The list ------------------------------------------------------------------------------------

function renderList({ main, query, setTitle, signal, navigate }) {
  const canWrite = crmCanWrite();
  const newButton = canWrite ? h('button', { type: 'button', class: 'button primary', 'data-testid': 'new-contact', 'aria-expanded': 'false' }, gettext('New contact')) : null;
  const body = crmFrame(main, { title: gettext('Contacts'), setTitle, actions: newButton });
  if (!body) return;

  let filters = filtersFromAddress(query, KEYS);
  let page = Number(query.get('page')) || 1;
  let members = [];
  let labels = [];

  const createSlot = h('div', { class: 'crm-create', hidden: true });
  const filterForm = h('form', { class: 'crm-filters crm-filters-inline', 'aria-label': gettext('Filter contacts'), role: 'search' });
  const results = h('div', { class: 'crm-results', 'aria-live': 'polite' });
  const views = savedViews({
    entity: 'contacts',
    signal,
    current: () => ({ ...filters }),
    apply(view) {
      filters = { ...(view.filters || {}) };
      page = 1;
      drawFilters();
      load();
    },
  });
  body.append(createSlot, h('div', { class: 'crm-toolbar' }, views.element, exportButton({ entity: 'contacts', filters: () => filters, signal })), filterForm, results);

  function drawFilters() {
    const search = h('input', { type: 'search', id: 'contact-search', name: 'q', value: filters.q || '', placeholder: gettext('Name, e-mail or phone'), 'data-testid': 'contact-search' });
    const owner = ownerSelect({ members, value: filters.owner || '', id: 'contact-owner' });
    owner.name = 'owner';
    const label = labelSelect({ labels, value: filters.label || '', id: 'contact-label' });
    label.name = 'label';
    const source = h('input', { type: 'text', id: 'contact-source', name: 'source', value: filters.source || '' });
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
    replaceAddress('/crm/contacts', { ...filters, page: page > 1 ? page : '' });
    try {
      const answer = await crm.get(`/contacts/?${queryOf({ ...filters, page })}`, { signal });
      if (mine === ticket) drawList(answer);
    } catch (error) {
      if (mine === ticket) showFailure(results, error);
    }
  }

  function drawList(answer) {
    const contacts = resultsOf(answer);
    setChildren(
      results,
      recordTable({
        testid: 'contact-list',
        caption: gettext('Contacts'),
        empty: gettext('No contacts match.'),
        columns: [{ label: gettext('Name') }, { label: gettext('E-mail') }, { label: gettext('Phone') }, { label: gettext('Company') }, { label: gettext('Owner') }, { label: gettext('Labels') }],
        rows: contacts.map((contact) => [
          h('a', { href: `/crm/contacts/${contact.id}` }, contact.name),
          contact.email || '—',
          contact.phone || '—',
          contact.company ? h('a', { href: `/crm/companies/${contact.company.id}` }, contact.company.name) : '—',
          contact.owner ? contact.owner.name : '—',
          labelChips(contact.labels) || '—',
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

  // --- creating, with the duplicate warning ----------------------------------------------

  if (newButton) {
    newButton.addEventListener('click', () => {
      const open = createSlot.hidden;
      createSlot.hidden = !open;
      newButton.setAttribute('aria-expanded', String(open));
      if (open) {
        drawCreate();
        createSlot.querySelector('input').focus();
      }
    });
  }

  function drawCreate() {
    const fields = {
      name: h('input', { id: 'new-contact-name', name: 'name', required: true, maxlength: 150, autocomplete: 'off' }),
      email: h('input', { id: 'new-contact-email', name: 'email', type: 'email', autocomplete: 'off' }),
      phone: h('input', { id: 'new-contact-phone', name: 'phone', type: 'tel', autocomplete: 'off', placeholder: '+55 11 99999-8888' }),
      job_title: h('input', { id: 'new-contact-job', name: 'job_title', maxlength: 100 }),
      source: h('input', { id: 'new-contact-source', name: 'source', maxlength: 60 }),
    };
    const owner = ownerSelect({ members, any: gettext('Nobody'), me: false, value: String(getUser()?.id || ''), id: 'new-contact-owner' });
    const duplicates = h('div', { class: 'crm-duplicates', 'aria-live': 'polite', 'data-testid': 'duplicate-warning' });
    const alert = h('div', { class: 'form-alert', role: 'alert', hidden: true });
    const submit = h('button', { type: 'submit', class: 'button primary', 'data-testid': 'create-contact' }, gettext('Add contact'));
    const label = (control, text) => h('div', { class: 'field' }, h('label', { for: control.id }, text), control);
    const form = h(
      'form',
      { class: 'card crm-form', 'aria-labelledby': 'new-contact-title' },
      h('h2', { id: 'new-contact-title' }, gettext('New contact')),
      alert,
      h(
        'div',
        { class: 'crm-form-grid' },
        label(fields.name, gettext('Name')),
        label(fields.email, gettext('E-mail')),
        label(fields.phone, gettext('Phone')),
        label(fields.job_title, gettext('Job title')),
        label(fields.source, gettext('Source')),
        label(owner, gettext('Owner')),
      ),
      duplicates,
      h('div', { class: 'actions' }, submit),
    );
    setChildren(createSlot, form);

    let checkTicket = 0;
    const check = debounced(async () => {
      const email = fields.email.value.trim();
      const phone = fields.phone.value.trim();
      const mine = ++checkTicket;
      if (!email && !phone) {
        setChildren(duplicates);
        return;
      }
      try {
        const found = resultsOf(await crm.get(`/contacts/duplicates/?${queryOf({ email, phone })}`, { signal }));
        if (mine !== checkTicket) return;
        setChildren(
          duplicates,
          found.length
            ? h(
                'div',
                { class: 'crm-warning', role: 'status' },
                h('strong', null, gettext('Possible duplicate:')),
                ' ',
                gettext('a contact with this e-mail or phone already exists.'),
                h(
                  'ul',
                  null,
                  found.map((contact) =>
                    h('li', null, h('a', { href: `/crm/contacts/${contact.id}` }, contact.name), ' ', h('span', { class: 'muted' }, [contact.email, contact.phone].filter(Boolean).join(' · '))),
                  ),
                ),
              )
            : null,
        );
      } catch (error) {
        // A phone still being typed may not parse yet: say nothing until it does.
        if (!isAbort(error) && mine === checkTicket) setChildren(duplicates);
      }
    }, 350);
    fields.email.addEventListener('input', check);
    fields.phone.addEventListener('input', check);

    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      alert.hidden = true;
      const payload = {};
      for (const [name, control] of Object.entries(fields)) payload[name] = control.value.trim();
      payload.owner_id = owner.value ? Number(owner.value) : null;
      await whileBusy(submit, async () => {
        try {
          const contact = await crm.post('/contacts/', payload, { signal });
          toast(gettext('Contact added.'), { kind: 'success' });
          navigate(`/crm/contacts/${contact.id}`);
        } catch (error) {
          alert.textContent = errorText(error);
          alert.hidden = false;
        }
      });
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

// --- One contact -------------------------------------------------------------------------------

function renderDetail({ main, setTitle, signal, navigate }, contactId) {
  const body = crmFrame(main, { title: gettext('Contact'), setTitle });
  if (!body) return;
  const heading = main.querySelector('h1');
  const canWrite = crmCanWrite();
  const isAdmin = crmIsAdmin();
  let members = [];
  let labels = [];
  let companies = [];
  let contact = null;

  const sections = {
    fields: h('section', { class: 'card crm-section', 'aria-labelledby': 'contact-fields-title' }),
    deals: h('section', { class: 'card crm-section', 'aria-labelledby': 'contact-deals-title' }),
    conversations: h('section', { class: 'card crm-section', 'aria-labelledby': 'contact-conversations-title' }),
    calls: h('section', { class: 'card crm-section', 'aria-labelledby': 'contact-calls-title' }),
    tasks: h('section', { class: 'card crm-section', 'aria-labelledby': 'contact-tasks-title' }),
    duplicates: h('section', { class: 'card crm-section', 'aria-labelledby': 'contact-duplicates-title', hidden: true }),
    timeline: h('section', { class: 'card crm-section', 'aria-labelledby': 'contact-timeline-title' }),
  };
  body.append(
    h('p', null, h('a', { href: '/crm/contacts' }, gettext('← All contacts'))),
    h(
      'div',
      { class: 'crm-detail' },
      h('div', { class: 'crm-detail-main' }, sections.fields, sections.duplicates, sections.timeline),
      h('div', { class: 'crm-detail-side' }, sections.deals, sections.tasks, sections.conversations, sections.calls),
    ),
  );

  function drawFields() {
    heading.textContent = contact.name;
    setTitle(contact.name);
    const field = (name, text, attributes = {}) => {
      const id = `contact-${name}`;
      const control =
        name === 'notes'
          ? h('textarea', { id, name, rows: 3, disabled: !canWrite })
          : h('input', { id, name, value: contact[name] || '', disabled: !canWrite, ...attributes });
      if (name === 'notes') control.value = contact.notes || '';
      return h('div', { class: 'field' }, h('label', { for: id }, text), control);
    };
    const owner = ownerSelect({ members, any: gettext('Nobody'), me: false, value: contact.owner ? String(contact.owner.id) : '', id: 'contact-owner-id' });
    owner.name = 'owner_id';
    owner.disabled = !canWrite;
    const company = h(
      'select',
      { id: 'contact-company-id', name: 'company_id', disabled: !canWrite },
      h('option', { value: '' }, gettext('No company')),
      companies.map((item) => h('option', { value: String(item.id) }, item.name)),
      contact.company && !companies.some((item) => item.id === contact.company.id) ? h('option', { value: String(contact.company.id) }, contact.company.name) : null,
    );
    company.value = contact.company ? String(contact.company.id) : '';
    const picker = labelPicker({ labels, chosen: contact.labels || [] });
    picker.element.disabled = !canWrite;
    const alert = h('div', { class: 'form-alert', role: 'alert', hidden: true });
    const save = h('button', { type: 'submit', class: 'button primary', 'data-testid': 'save-contact' }, gettext('Save'));
    const remove = isAdmin ? h('button', { type: 'button', class: 'button danger-outline' }, gettext('Delete contact')) : null;
    const form = h(
      'form',
      { class: 'crm-form' },
      h('h2', { id: 'contact-fields-title' }, gettext('Details')),
      alert,
      h(
        'div',
        { class: 'crm-form-grid' },
        field('name', gettext('Name'), { required: true, maxlength: 150 }),
        field('email', gettext('E-mail'), { type: 'email' }),
        field('phone', gettext('Phone'), { type: 'tel' }),
        field('job_title', gettext('Job title')),
        field('source', gettext('Source')),
        h('div', { class: 'field' }, h('label', { for: owner.id }, gettext('Owner')), owner),
        h('div', { class: 'field' }, h('label', { for: company.id }, gettext('Company')), company),
      ),
      field('notes', gettext('Notes')),
      picker.element,
      h('p', { class: 'muted' }, interpolate(gettext('Created %(when)s'), { when: formatWhen(contact.created_at) })),
      canWrite ? h('div', { class: 'actions' }, save, remove) : null,
    );
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      alert.hidden = true;
      const payload = {};
      for (const name of ['name', 'email', 'phone', 'job_title', 'source', 'notes']) payload[name] = form.elements[name].value.trim();
      payload.owner_id = owner.value ? Number(owner.value) : null;
      payload.company_id = company.value ? Number(company.value) : null;
      payload.label_ids = picker.value();
      await whileBusy(save, async () => {
        try {
          await crm.patch(`/contacts/${contactId}/`, payload, { signal });
          toast(gettext('Contact saved.'), { kind: 'success' });
          await load();
        } catch (error) {
          alert.textContent = errorText(error);
          alert.hidden = false;
        }
      });
    });
    if (remove) {
      remove.addEventListener('click', async () => {
        const sure = await confirmDialog({ title: gettext('Delete this contact?'), message: gettext('Its timeline goes with it; its deals stay, without a contact.'), confirmLabel: gettext('Delete contact'), danger: true });
        if (sure && (await attempt(() => crm.delete(`/contacts/${contactId}/`, { signal })))) navigate('/crm/contacts');
      });
    }
    setChildren(sections.fields, form, labelChips(contact.labels));
  }

  function drawDeals() {
    const deals = contact.deals || [];
    setChildren(
      sections.deals,
      h('h2', { id: 'contact-deals-title' }, gettext('Deals')),
      deals.length
        ? h(
            'ul',
            { class: 'plain-list crm-mini-list', 'data-testid': 'contact-deals' },
            deals.map((deal) => h('li', null, h('a', { href: `/crm/deals/${deal.id}` }, deal.title), ' ', h('span', { class: 'muted' }, formatValue(deal.value, deal.currency)), ' ', dealStatusBadge(deal.status))),
          )
        : h('p', { class: 'muted' }, gettext('No deals yet.')),
    );
  }

  function drawConversations() {
    const conversations = contact.conversations || [];
    setChildren(
      sections.conversations,
      h('h2', { id: 'contact-conversations-title' }, gettext('Support conversations')),
      conversations.length
        ? h(
            'ul',
            { class: 'plain-list crm-mini-list' },
            conversations.map((item) =>
              h(
                'li',
                null,
                h('a', { href: `/inbox/${item.id}` }, item.subject || interpolate(gettext('Conversation #%(id)s'), { id: item.id })),
                ' ',
                h('span', { class: 'muted' }, [item.channel, item.status, item.last_message_at ? formatWhen(item.last_message_at) : null].filter(Boolean).join(' · ')),
              ),
            ),
          )
        : h('p', { class: 'muted' }, gettext('No support conversations.')),
    );
  }

  function drawCalls() {
    const calls = contact.calls || [];
    setChildren(
      sections.calls,
      h('h2', { id: 'contact-calls-title' }, gettext('Calls')),
      calls.length
        ? h(
            'ul',
            { class: 'plain-list crm-mini-list' },
            calls.map((call) =>
              h(
                'li',
                null,
                h('a', { href: `/calls/${call.id}` }, interpolate(gettext('Call %(id)s'), { id: call.id })),
                ' ',
                h('span', { class: 'muted' }, [call.status, call.started_at ? formatWhen(call.started_at) : null, call.duration_seconds ? interpolate(gettext('%(minutes)s min'), { minutes: Math.round(call.duration_seconds / 60) }) : null].filter(Boolean).join(' · ')),
              ),
            ),
          )
        : h('p', { class: 'muted' }, gettext('No calls.')),
    );
  }

  function drawDuplicates() {
    const duplicates = contact.duplicates || [];
    sections.duplicates.hidden = duplicates.length === 0;
    setChildren(
      sections.duplicates,
      h('h2', { id: 'contact-duplicates-title' }, gettext('Possible duplicates')),
      h('p', { class: 'muted' }, gettext('Same e-mail or phone as this contact.')),
      h(
        'ul',
        { class: 'plain-list crm-mini-list', 'data-testid': 'contact-duplicates' },
        duplicates.map((duplicate) =>
          h(
            'li',
            null,
            h('a', { href: `/crm/contacts/${duplicate.id}` }, duplicate.name),
            ' ',
            h('span', { class: 'muted' }, [duplicate.email, duplicate.phone].filter(Boolean).join(' · ')),
            isAdmin
              ? h(
                  'button',
                  {
                    type: 'button',
                    class: 'button',
                    'data-testid': 'merge-duplicate',
                    async onclick() {
                      const sure = await confirmDialog({
                        title: gettext('Merge into this contact?'),
                        message: interpolate(gettext('%(other)s’s deals, tasks, conversations and timeline move to %(name)s, and %(other)s leaves the lists.'), { other: duplicate.name, name: contact.name }),
                        confirmLabel: gettext('Merge'),
                      });
                      if (sure && (await attempt(() => crm.post(`/contacts/${contactId}/merge/`, { source_ids: [duplicate.id] }, { signal })))) {
                        toast(gettext('Contacts merged.'), { kind: 'success' });
                        load();
                      }
                    },
                  },
                  gettext('Merge into this one'),
                )
              : null,
          ),
        ),
      ),
    );
  }

  // --- tasks -----------------------------------------------------------------------------

  async function drawTasks() {
    const list = h('div', { 'aria-live': 'polite' });
    const add = canWrite ? h('button', { type: 'button', class: 'button', 'data-testid': 'add-contact-task' }, gettext('Add task')) : null;
    setChildren(sections.tasks, h('h2', { id: 'contact-tasks-title' }, gettext('Tasks')), list, add);
    if (add) {
      add.addEventListener('click', async () => {
        const created = await formDialog({
          title: gettext('New task'),
          submitLabel: gettext('Add task'),
          fields: [
            { name: 'title', label: gettext('Title'), required: true, maxlength: 200 },
            { name: 'due_at', label: gettext('Due'), type: 'datetime-local', required: true },
            { name: 'assignee_id', label: gettext('Assignee'), choices: members.map((member) => [String(member.id), member.name]), value: String(getUser()?.id || '') },
          ],
          submit: (values) => crm.post('/tasks/', { title: values.title, due_at: instantFromLocal(values.due_at), assignee_id: Number(values.assignee_id), contact_id: contactId }, { signal }),
        });
        if (created) drawTasks();
      });
    }
    try {
      const tasks = resultsOf(await crm.get(`/tasks/?${queryOf({ contact: contactId, done: '0' })}`, { signal }));
      setChildren(
        list,
        tasks.length
          ? h(
              'ul',
              { class: 'plain-list crm-mini-list' },
              tasks.map((task) =>
                h('li', { class: task.overdue ? 'crm-overdue' : null }, task.title, ' ', h('span', { class: 'muted' }, formatDateTime(new Date(task.due_at))), task.overdue ? h('span', { class: 'badge danger' }, gettext('Overdue')) : null),
              ),
            )
          : h('p', { class: 'muted' }, gettext('No open tasks.')),
      );
    } catch (error) {
      showFailure(list, error);
    }
  }

  // --- timeline --------------------------------------------------------------------------

  async function drawTimeline() {
    const list = h('ol', { class: 'crm-timeline', 'data-testid': 'contact-timeline' });
    const more = h('button', { type: 'button', class: 'button', hidden: true }, gettext('Older'));
    const note = h('textarea', { id: 'contact-note', rows: 2, required: true, 'data-testid': 'note-body' });
    const addNote = h('button', { type: 'submit', class: 'button primary', 'data-testid': 'add-note' }, gettext('Add note'));
    const noteForm = canWrite
      ? h('form', { class: 'crm-note-form' }, h('label', { for: note.id }, gettext('Note')), note, h('div', { class: 'actions' }, addNote))
      : null;
    setChildren(sections.timeline, h('h2', { id: 'contact-timeline-title' }, gettext('Timeline')), noteForm, list, more);
    let next = null;
    const page = async (path) => {
      try {
        const answer = await crm.get(path, { signal });
        resultsOf(answer).forEach((activity) => list.append(activityItem(activity)));
        next = answer && answer.next ? answer.next : null;
        more.hidden = !next;
        if (!list.children.length) list.append(h('li', { class: 'muted' }, gettext('Nothing yet.')));
      } catch (error) {
        showFailure(list, error);
      }
    };
    more.addEventListener('click', () => {
      const url = new URL(next, window.location.origin);
      page(`/contacts/${contactId}/timeline/${url.search}`);
    });
    if (noteForm) {
      noteForm.addEventListener('submit', async (event) => {
        event.preventDefault();
        const text = note.value.trim();
        if (!text) return;
        await whileBusy(addNote, async () => {
          if (await attempt(() => crm.post(`/contacts/${contactId}/notes/`, { body: text }, { signal }))) {
            note.value = '';
            drawTimeline();
          }
        });
      });
    }
    await page(`/contacts/${contactId}/timeline/`);
  }

  async function load() {
    try {
      contact = await crm.get(`/contacts/${contactId}/`, { signal });
    } catch (error) {
      if (isAbort(error)) return;
      heading.textContent = gettext('Contact not available');
      setChildren(body, h('p', { class: 'error-text', role: 'alert' }, error.status === 404 ? gettext('This contact does not exist, or you cannot see it.') : errorText(error)), h('a', { href: '/crm/contacts' }, gettext('All contacts')));
      return;
    }
    drawFields();
    drawDeals();
    drawConversations();
    drawCalls();
    drawDuplicates();
  }

  (async () => {
    try {
      [members, labels, companies] = await Promise.all([loadMembers(signal), loadLabels(signal), crm.get('/companies/?page_size=200', { signal }).then(resultsOf)]);
    } catch (error) {
      showFailure(body, error);
      return;
    }
    await load();
    if (!contact) return;
    drawTasks();
    drawTimeline();
  })();
}

/** One line of a timeline: what, who, when. */
export function activityItem(activity) {
  const who = activity.actor ? activity.actor.name : gettext('System');
  let what = activity.body || '';
  if (activity.kind === 'stage_change' && activity.data && activity.data.to) {
    what = interpolate(gettext('Moved from %(from)s to %(to)s'), { from: (activity.data.from && activity.data.from.name) || '—', to: activity.data.to.name });
  } else if (activity.conversation) {
    what = what || interpolate(gettext('Support conversation #%(id)s'), { id: activity.conversation.id });
  } else if (activity.task) {
    what = what || activity.task.title;
  }
  return h(
    'li',
    { class: `crm-activity kind-${activity.kind}`, dataset: { kind: activity.kind } },
    h('p', { class: 'crm-activity-meta' }, h('strong', null, activityKindLabel(activity.kind)), ' · ', who, ' · ', h('time', { datetime: activity.created_at }, formatWhen(activity.created_at))),
    what ? h('p', { class: 'crm-activity-body' }, what) : null,
    activity.conversation ? h('a', { href: `/inbox/${activity.conversation.id}` }, gettext('Open the conversation')) : null,
  );
}

function activityKindLabel(kind) {
  const labels = {
    created: gettext('Created'),
    note: gettext('Note'),
    stage_change: gettext('Stage change'),
    field_change: gettext('Edit'),
    won: gettext('Won'),
    lost: gettext('Lost'),
    reopened: gettext('Reopened'),
    task: gettext('Task'),
    task_done: gettext('Task done'),
    conversation: gettext('Support conversation'),
    call: gettext('Call'),
    merge: gettext('Merge'),
    conversion: gettext('Lead converted'),
    import: gettext('Imported'),
    botconversa: gettext('BotConversa'),
  };
  return labels[kind] || kind;
}
