// Tasks (/crm/tasks): mine and open by default; filters by assignee, done and overdue; a form
// to add one about a deal or a contact (found by searching); complete and reopen. Due times
// are read and written in the person's own time zone (their profile's), and overdue ones
// say so in words as well as in colour.
//
// A reminder arrives as a chat notification (kind crm_task_due); the list re-reads itself
// when one does, so what was due shows as overdue without reloading.

import { getUser } from '../auth.js';
import { errorText, h, setChildren, toast, whileBusy } from '../components.js';
import { formatDateTime, gettext, interpolate } from '../i18n.js';
import { socket } from '../socket.js';
import { crmCanWrite } from '../crm/nav.js';
import {
  attempt,
  crm,
  crmFrame,
  debounced,
  filtersFromAddress,
  instantFromLocal,
  loadMembers,
  localFromInstant,
  ownerSelect,
  pager,
  queryOf,
  replaceAddress,
  resultsOf,
  showFailure,
  userTimeZone,
} from '../crm/records.js';

const KEYS = ['assignee', 'done', 'overdue', 'due_from', 'due_to'];

export function render({ main, query, setTitle, signal, onCleanup, onResync }) {
  const canWrite = crmCanWrite();
  const newButton = canWrite ? h('button', { type: 'button', class: 'button primary', 'data-testid': 'new-task', 'aria-expanded': 'false' }, gettext('New task')) : null;
  const body = crmFrame(main, { title: gettext('Tasks'), setTitle, actions: newButton });
  if (!body) return;
  const fromAddress = filtersFromAddress(query, KEYS);
  let filters = Object.keys(fromAddress).length ? fromAddress : { assignee: 'me', done: '0' };
  let page = 1;
  let members = [];

  const createSlot = h('div', { class: 'crm-create', hidden: true });
  const filterForm = h('form', { class: 'crm-filters crm-filters-inline', 'aria-label': gettext('Filter tasks') });
  const results = h('div', { class: 'crm-results', 'aria-live': 'polite' });
  body.append(
    createSlot,
    filterForm,
    h('p', { class: 'muted' }, interpolate(gettext('Times in %(zone)s.'), { zone: userTimeZone() })),
    results,
  );

  function drawFilters() {
    const assignee = ownerSelect({ members, value: filters.assignee || '', any: gettext('Anyone'), id: 'task-assignee-filter' });
    assignee.name = 'assignee';
    const done = h('select', { id: 'task-done-filter', name: 'done' }, h('option', { value: '0' }, gettext('To do')), h('option', { value: '1' }, gettext('Done')), h('option', { value: 'all' }, gettext('All')));
    done.value = filters.done || 'all';
    const overdue = h('input', { type: 'checkbox', id: 'task-overdue-filter', name: 'overdue', value: '1', checked: filters.overdue === '1' || filters.overdue === 'true' });
    setChildren(
      filterForm,
      h('div', { class: 'field' }, h('label', { for: assignee.id }, gettext('Assignee')), assignee),
      h('div', { class: 'field' }, h('label', { for: done.id }, gettext('Show')), done),
      h('div', { class: 'field crm-checkbox-field' }, h('label', { class: 'checkbox', for: overdue.id }, overdue, ' ', gettext('Only overdue'))),
    );
    for (const control of [assignee, done, overdue]) control.addEventListener('change', () => filterForm.requestSubmit());
  }
  filterForm.addEventListener('submit', (event) => {
    event.preventDefault();
    filters = {};
    for (const element of filterForm.elements) {
      if (!element.name) continue;
      if (element.type === 'checkbox') {
        if (element.checked) filters[element.name] = '1';
      } else {
        // "All" is kept (as 'all') so the default "to do" does not come back.
        filters[element.name] = element.value;
      }
    }
    page = 1;
    load();
  });

  let ticket = 0;
  async function load() {
    const mine = ++ticket;
    replaceAddress('/crm/tasks', filters);
    const sent = { ...filters, page };
    if (sent.done === 'all') delete sent.done;
    try {
      const answer = await crm.get(`/tasks/?${queryOf(sent)}`, { signal });
      if (mine === ticket) drawList(answer);
    } catch (error) {
      if (mine === ticket) showFailure(results, error);
    }
  }

  function subjectOf(task) {
    if (task.deal) return h('a', { href: `/crm/deals/${task.deal.id}` }, task.deal.title);
    if (task.contact) return h('a', { href: `/crm/contacts/${task.contact.id}` }, task.contact.name);
    if (task.lead) return h('a', { href: `/crm/leads/${task.lead.id}` }, task.lead.name);
    return '—';
  }

  function taskItem(task) {
    const done = Boolean(task.done_at);
    const toggle = h(
      'button',
      { type: 'button', class: 'button', 'data-testid': done ? 'reopen-task' : 'complete-task', disabled: !canWrite },
      done ? gettext('Reopen') : gettext('Mark done'),
    );
    toggle.addEventListener('click', () =>
      whileBusy(toggle, async () => {
        if (await attempt(() => crm.post(`/tasks/${task.id}/${done ? 'reopen' : 'done'}/`, {}, { signal }))) load();
      }),
    );
    return h(
      'li',
      { class: `crm-task${task.overdue && !done ? ' crm-overdue' : ''}${done ? ' crm-done' : ''}`, 'data-testid': 'task', dataset: { taskId: String(task.id) } },
      h(
        'div',
        { class: 'crm-task-main' },
        h('p', { class: 'crm-task-title' }, done ? h('span', { class: 'badge success' }, gettext('Done')) : null, ' ', task.title),
        h(
          'p',
          { class: 'muted' },
          h('time', { datetime: task.due_at }, formatDateTime(new Date(task.due_at))),
          task.overdue && !done ? [' ', h('span', { class: 'badge danger', 'data-testid': 'overdue' }, gettext('Overdue'))] : null,
          ' · ',
          subjectOf(task),
          ' · ',
          task.assignee ? task.assignee.name : '—',
        ),
        task.notes ? h('p', { class: 'crm-task-notes' }, task.notes) : null,
      ),
      toggle,
    );
  }

  function drawList(answer) {
    const tasks = resultsOf(answer);
    setChildren(
      results,
      tasks.length ? h('ul', { class: 'plain-list crm-tasks', 'aria-label': gettext('Tasks') }, tasks.map(taskItem)) : h('p', { class: 'muted crm-empty' }, gettext('No tasks here.')),
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

  // --- creating: the subject is a deal or a contact, found by searching -------------------

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
    let subject = null; // {kind: 'deal'|'contact', id, name}
    const title = h('input', { id: 'new-task-title', required: true, maxlength: 200 });
    const inAnHour = new Date(Date.now() + 3_600_000);
    const due = h('input', { id: 'new-task-due', type: 'datetime-local', required: true, value: localFromInstant(inAnHour.toISOString()) });
    const assignee = ownerSelect({ members, any: null, me: false, value: String(getUser()?.id || ''), id: 'new-task-assignee' });
    const kind = h('select', { id: 'new-task-subject-kind' }, h('option', { value: 'deal' }, gettext('Deal')), h('option', { value: 'contact' }, gettext('Contact')));
    const search = h('input', { type: 'search', id: 'new-task-subject', autocomplete: 'off', placeholder: gettext('Type to search'), 'aria-describedby': 'new-task-subject-chosen' });
    const chosen = h('p', { id: 'new-task-subject-chosen', class: 'muted', 'aria-live': 'polite' }, gettext('Nothing chosen yet.'));
    const found = h('ul', { class: 'plain-list crm-mini-list crm-search-results', 'aria-label': gettext('Search results') });
    const notes = h('textarea', { id: 'new-task-notes', rows: 2 });
    const alert = h('div', { class: 'form-alert', role: 'alert', hidden: true });
    const submit = h('button', { type: 'submit', class: 'button primary', 'data-testid': 'create-task' }, gettext('Add task'));
    const labelled = (control, text) => h('div', { class: 'field' }, h('label', { for: control.id }, text), control);
    const form = h(
      'form',
      { class: 'card crm-form', 'aria-labelledby': 'new-task-title-heading' },
      h('h2', { id: 'new-task-title-heading' }, gettext('New task')),
      alert,
      h('div', { class: 'crm-form-grid' }, labelled(title, gettext('Title')), labelled(due, gettext('Due')), labelled(assignee, gettext('Assignee'))),
      h('fieldset', { class: 'crm-filter-group' }, h('legend', null, gettext('About')), h('div', { class: 'crm-form-grid' }, labelled(kind, gettext('Kind')), labelled(search, gettext('Search'))), chosen, found),
      labelled(notes, gettext('Notes')),
      h('div', { class: 'actions' }, submit),
    );
    setChildren(createSlot, form);

    const choose = (item) => {
      subject = item;
      chosen.textContent = interpolate(gettext('Chosen: %(name)s'), { name: item.name });
      setChildren(found);
    };
    const lookUp = debounced(async () => {
      const text = search.value.trim();
      if (!text) return setChildren(found);
      try {
        const path = kind.value === 'deal' ? `/deals/?${queryOf({ q: text })}` : `/contacts/?${queryOf({ q: text })}`;
        const items = resultsOf(await crm.get(path, { signal })).slice(0, 8);
        setChildren(
          found,
          items.length
            ? items.map((item) => {
                const name = kind.value === 'deal' ? item.title : item.name;
                return h('li', null, h('button', { type: 'button', class: 'link-button', 'data-testid': 'task-subject-option', onclick: () => choose({ kind: kind.value, id: item.id, name }) }, name));
              })
            : h('li', { class: 'muted' }, gettext('Nothing found.')),
        );
      } catch (error) {
        showFailure(found, error);
      }
    }, 300);
    search.addEventListener('input', lookUp);
    kind.addEventListener('change', () => {
      subject = null;
      chosen.textContent = gettext('Nothing chosen yet.');
      lookUp();
    });

    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      alert.hidden = true;
      if (!subject) {
        alert.textContent = gettext('Choose the deal or contact this task is about.');
        alert.hidden = false;
        search.focus();
        return;
      }
      const payload = {
        title: title.value.trim(),
        due_at: instantFromLocal(due.value),
        assignee_id: Number(assignee.value),
        notes: notes.value.trim(),
        [subject.kind === 'deal' ? 'deal_id' : 'contact_id']: subject.id,
      };
      await whileBusy(submit, async () => {
        try {
          await crm.post('/tasks/', payload, { signal });
          toast(gettext('Task added.'), { kind: 'success' });
          createSlot.hidden = true;
          newButton.setAttribute('aria-expanded', 'false');
          load();
        } catch (error) {
          alert.textContent = errorText(error);
          alert.hidden = false;
        }
      });
    });
  }

  // A due reminder for me: the list changes (the task is now overdue).
  onCleanup(
    socket.on('chat.notification.created', (data) => {
      if (data && data.notification && data.notification.kind === 'crm_task_due') load();
    }),
  );
  onResync(() => load());

  (async () => {
    try {
      members = await loadMembers(signal);
    } catch (error) {
      showFailure(results, error);
      return;
    }
    drawFilters();
    load();
  })();
}
