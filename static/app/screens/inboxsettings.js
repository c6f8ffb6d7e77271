// The inbox settings (/inbox/settings, org admins): departments; queues (routing strategy,
// priority, business hours with their time zone and holidays, SLA targets, re-queue time,
// members and supervisors); agents (capacity and skills); canned responses; and the website
// widget (allowed origins, look, public key, the snippet to paste, rotating the key).

import { api } from '../api.js';
import { activeMembership, getUser } from '../auth.js';
import {
  clearFormError,
  confirmDialog,
  errorText,
  field,
  formAlert,
  h,
  loading,
  setChildren,
  showFormError,
  toast,
  whileBusy,
} from '../components.js';
import { gettext, interpolate } from '../i18n.js';
import { formDialog } from '../inbox/dialogs.js';
import { inboxPath, isAbort, personName, resultsOf, STRATEGIES, strategyLabel, weekdayLabel } from '../inbox/util.js';

export function render(context) {
  const { main, setTitle, signal, onResync } = context;
  const membership = activeMembership(getUser());
  setTitle(gettext('Inbox settings'));
  main.append(h('h1', null, gettext('Inbox settings')), h('p', null, h('a', { href: '/inbox' }, gettext('Back to the inbox'))));
  if (!membership || membership.role !== 'org_admin') {
    main.append(h('p', { class: 'card' }, gettext('Only organization admins change the inbox settings.')));
    return;
  }
  const organizationId = membership.organization.id;
  const path = (rest) => inboxPath(organizationId, rest);
  const state = { departments: [], queues: [], agents: [], canned: [], widget: null };

  const sections = {
    departments: h('section', { class: 'card settings-section', 'aria-labelledby': 'settings-departments', 'data-testid': 'settings-departments' }),
    queues: h('section', { class: 'card settings-section', 'aria-labelledby': 'settings-queues', 'data-testid': 'settings-queues' }),
    agents: h('section', { class: 'card settings-section', 'aria-labelledby': 'settings-agents', 'data-testid': 'settings-agents' }),
    canned: h('section', { class: 'card settings-section', 'aria-labelledby': 'settings-canned', 'data-testid': 'settings-canned' }),
    widget: h('section', { class: 'card settings-section', 'aria-labelledby': 'settings-widget', 'data-testid': 'settings-widget' }),
  };
  const body = h('div', { class: 'inbox-settings stack' }, loading());
  main.append(body);

  async function run(work, success) {
    try {
      await work();
      if (success) toast(success, { kind: 'success' });
    } catch (error) {
      if (!isAbort(error)) toast(errorText(error), { kind: 'error' });
    }
  }

  const departmentOf = (queue) => (queue.department && typeof queue.department === 'object' ? queue.department.id : queue.department_id ?? queue.department);
  const agentId = (agent) => agent.user_id ?? agent.id;

  // --- departments -----------------------------------------------------------------------

  function drawDepartments() {
    const name = field({ label: gettext('New department'), name: 'name', maxlength: '80', required: true });
    const alert = formAlert();
    const add = h('form', { class: 'inline-form' }, alert, name.wrapper, h('button', { type: 'submit', class: 'button primary' }, gettext('Add department')));
    add.addEventListener('submit', async (event) => {
      event.preventDefault();
      clearFormError([name], alert);
      try {
        await whileBusy(add.querySelector('button'), () => api.post(path('departments/'), { name: name.input.value.trim() }));
        await reload();
      } catch (error) {
        showFormError([name], alert, error);
      }
    });
    setChildren(
      sections.departments,
      h('h2', { id: 'settings-departments' }, gettext('Departments')),
      state.departments.length
        ? h(
            'ul',
            { class: 'plain-list settings-list' },
            state.departments.map((department) =>
              h(
                'li',
                { class: 'settings-row' },
                h('span', { class: 'settings-name' }, department.name),
                h('button', {
                  type: 'button',
                  class: 'link-button',
                  onclick: () => renameDepartment(department),
                }, gettext('Rename')),
                h('button', {
                  type: 'button',
                  class: 'link-button danger',
                  onclick: () => remove(`departments/${department.id}/`, interpolate(gettext('Delete the department %(name)s?'), { name: department.name })),
                }, gettext('Delete')),
              ),
            ),
          )
        : h('p', { class: 'muted' }, gettext('No departments yet.')),
      add,
    );
  }

  async function renameDepartment(department) {
    const name = field({ label: gettext('Name'), name: 'name', value: department.name, maxlength: '80', required: true });
    const done = await formDialog({
      title: gettext('Rename the department'),
      body: [name.wrapper],
      fields: [name],
      submitLabel: gettext('Save'),
      submit: () => api.patch(path(`departments/${department.id}/`), { name: name.input.value.trim() }),
    });
    if (done) await reload();
  }

  async function remove(rest, question) {
    const sure = await confirmDialog({ title: gettext('Delete'), message: question, confirmLabel: gettext('Delete'), danger: true });
    if (!sure) return;
    await run(async () => {
      await api.delete(path(rest));
      await reload();
    }, gettext('Deleted.'));
  }

  // --- queues ----------------------------------------------------------------------------

  function drawQueues() {
    setChildren(
      sections.queues,
      h('h2', { id: 'settings-queues' }, gettext('Queues')),
      state.queues.length ? h('ul', { class: 'plain-list settings-list' }, state.queues.map(queueItem)) : h('p', { class: 'muted' }, gettext('No queues yet.')),
      h(
        'button',
        { type: 'button', class: 'button primary', disabled: state.departments.length === 0, onclick: () => editQueue(null), 'data-testid': 'add-queue' },
        gettext('Add queue'),
      ),
    );
  }

  function queueItem(queue) {
    const department = state.departments.find((item) => item.id === departmentOf(queue));
    const members = queue.members || [];
    const memberIds = new Set(members.map((member) => member.user_id ?? member.id));
    const candidates = state.agents.filter((agent) => !memberIds.has(agentId(agent)));
    const pick = h('select', { id: `queue-${queue.id}-add`, class: 'compact' }, candidates.map((agent) => h('option', { value: String(agentId(agent)) }, personName(agent))));
    const supervisor = h('input', { type: 'checkbox', id: `queue-${queue.id}-supervisor` });
    return h(
      'li',
      { class: 'settings-queue', dataset: { queueId: String(queue.id) } },
      h(
        'div',
        { class: 'settings-row' },
        h('span', { class: 'settings-name' }, queue.name),
        h('span', { class: 'muted' }, [department ? department.name : '', strategyLabel(queue.routing_strategy)].filter(Boolean).join(' · ')),
        h('button', { type: 'button', class: 'link-button', onclick: () => editQueue(queue) }, gettext('Edit')),
        h('button', {
          type: 'button',
          class: 'link-button danger',
          onclick: () => remove(`queues/${queue.id}/`, interpolate(gettext('Delete the queue %(name)s?'), { name: queue.name })),
        }, gettext('Delete')),
      ),
      h(
        'ul',
        { class: 'plain-list queue-members', 'aria-label': interpolate(gettext('Members of %(queue)s'), { queue: queue.name }) },
        members.map((member) =>
          h(
            'li',
            null,
            personName(member),
            member.is_supervisor ? h('span', { class: 'badge subtle' }, gettext('supervisor')) : null,
            h('button', {
              type: 'button',
              class: 'link-button',
              onclick: () =>
                run(async () => {
                  await api.delete(path(`queues/${queue.id}/members/${member.user_id ?? member.id}/`));
                  await reload();
                }),
            }, gettext('Remove')),
          ),
        ),
      ),
      candidates.length
        ? h(
            'div',
            { class: 'inline-form' },
            h('label', { for: pick.id }, gettext('Add agent')),
            pick,
            h('label', { class: 'check-option' }, supervisor, gettext('Supervisor')),
            h('button', {
              type: 'button',
              class: 'button',
              onclick: () =>
                run(async () => {
                  await api.post(path(`queues/${queue.id}/members/`), { user_id: Number(pick.value), is_supervisor: supervisor.checked });
                  await reload();
                }),
            }, gettext('Add')),
          )
        : null,
    );
  }

  async function editQueue(queue) {
    const values = queue || {
      name: '',
      priority: 0,
      routing_strategy: 'round_robin',
      time_zone: Intl.DateTimeFormat().resolvedOptions().timeZone,
      weekly_hours: [],
      holidays: [],
      first_response_minutes: null,
      resolution_minutes: null,
      sla_warning_minutes: 10,
      requeue_after_seconds: 120,
    };
    const department = h('select', null, state.departments.map((item) => h('option', { value: String(item.id) }, item.name)));
    if (queue) department.value = String(departmentOf(queue));
    const strategy = h('select', null, STRATEGIES.map((value) => h('option', { value }, strategyLabel(value))));
    strategy.value = values.routing_strategy;
    const zones = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
    const zoneList = h('datalist', { id: 'time-zones' }, zones.map((zone) => h('option', { value: zone })));
    const number = (value) => (value === null || value === undefined ? '' : String(value));
    const fields = {
      name: field({ label: gettext('Name'), name: 'name', value: values.name, maxlength: '80', required: true }),
      department_id: field({ label: gettext('Department'), name: 'department_id', control: department }),
      routing_strategy: field({ label: gettext('Routing'), name: 'routing_strategy', control: strategy }),
      priority: field({ label: gettext('Priority'), name: 'priority', type: 'number', min: '0', value: number(values.priority), hint: gettext('Higher-priority queues are served first.') }),
      time_zone: field({ label: gettext('Time zone'), name: 'time_zone', value: values.time_zone, list: 'time-zones' }),
      first_response_minutes: field({ label: gettext('First reply within (business minutes)'), name: 'first_response_minutes', type: 'number', min: '1', value: number(values.first_response_minutes), hint: gettext('Empty: no target.') }),
      resolution_minutes: field({ label: gettext('Resolve within (business minutes)'), name: 'resolution_minutes', type: 'number', min: '1', value: number(values.resolution_minutes), hint: gettext('Empty: no target.') }),
      sla_warning_minutes: field({ label: gettext('Warn before a breach (minutes)'), name: 'sla_warning_minutes', type: 'number', min: '0', value: number(values.sla_warning_minutes) }),
      requeue_after_seconds: field({ label: gettext('Re-queue when the agent does not answer within (seconds)'), name: 'requeue_after_seconds', type: 'number', min: '0', value: number(values.requeue_after_seconds), hint: gettext('0: never.') }),
    };
    const hours = hoursEditor(values.weekly_hours || []);
    const holidays = h('textarea', { rows: '3', placeholder: '2026-12-25' }, (values.holidays || []).join('\n'));
    fields.holidays = field({ label: gettext('Holidays'), name: 'holidays', control: holidays, hint: gettext('One date per line (YYYY-MM-DD); closed all day.') });
    const hoursError = h('p', { class: 'field-error', hidden: true });
    const hoursFieldset = h(
      'fieldset',
      { class: 'chat-settings-group' },
      h('legend', null, gettext('Business hours')),
      h('p', { class: 'field-hint' }, gettext('No hours: always open (except holidays).')),
      hours.element,
      hoursError,
    );
    const optional = (input) => (input.value === '' ? null : Number(input.value));
    const done = await formDialog({
      title: queue ? gettext('Edit the queue') : gettext('New queue'),
      body: [
        ...Object.values(fields)
          .filter((item) => item !== fields.holidays)
          .map((item) => item.wrapper),
        zoneList,
        hoursFieldset,
        fields.holidays.wrapper,
      ],
      fields: Object.values(fields),
      submitLabel: gettext('Save'),
      testid: 'queue-dialog',
      submit: async () => {
        const payload = {
          name: fields.name.input.value.trim(),
          department_id: Number(department.value),
          routing_strategy: strategy.value,
          priority: Number(fields.priority.input.value || 0),
          time_zone: fields.time_zone.input.value.trim(),
          weekly_hours: hours.value(),
          holidays: holidays.value.split(/\s+/).filter(Boolean),
          first_response_minutes: optional(fields.first_response_minutes.input),
          resolution_minutes: optional(fields.resolution_minutes.input),
          sla_warning_minutes: Number(fields.sla_warning_minutes.input.value || 0),
          requeue_after_seconds: Number(fields.requeue_after_seconds.input.value || 0),
        };
        try {
          return queue ? await api.patch(path(`queues/${queue.id}/`), payload) : await api.post(path('queues/'), payload);
        } catch (error) {
          const problems = (error.extra && error.extra.fields && error.extra.fields.weekly_hours) || null;
          hoursError.textContent = problems ? [].concat(problems).map((item) => (typeof item === 'string' ? item : JSON.stringify(item))).join(' ') : '';
          hoursError.hidden = !problems;
          throw error;
        }
      },
    });
    if (done) await reload();
  }

  /** Rows of "day, from, to"; several rows per day make split shifts. */
  function hoursEditor(initial) {
    const rows = h('ul', { class: 'plain-list hours-rows' });
    const addRow = (entry = { day: 0, start: '09:00', end: '18:00' }) => {
      const day = h('select', { class: 'compact', 'aria-label': gettext('Day') }, [0, 1, 2, 3, 4, 5, 6].map((value) => h('option', { value: String(value) }, weekdayLabel(value))));
      day.value = String(entry.day);
      const start = h('input', { type: 'time', class: 'compact', value: entry.start, 'aria-label': gettext('Opens at') });
      const end = h('input', { type: 'time', class: 'compact', value: entry.end, 'aria-label': gettext('Closes at') });
      const row = h(
        'li',
        { class: 'hours-row' },
        day,
        start,
        h('span', { 'aria-hidden': 'true' }, '–'),
        end,
        h('button', { type: 'button', class: 'link-button', onclick: () => row.remove() }, gettext('Remove')),
      );
      row.read = () => ({ day: Number(day.value), start: start.value, end: end.value });
      rows.append(row);
    };
    initial.forEach(addRow);
    const weekdays = () => [0, 1, 2, 3, 4].forEach((day) => addRow({ day, start: '09:00', end: '18:00' }));
    return {
      element: h(
        'div',
        null,
        rows,
        h('button', { type: 'button', class: 'button', onclick: () => addRow() }, gettext('Add hours')),
        ' ',
        h('button', { type: 'button', class: 'button', onclick: weekdays }, gettext('Add Monday to Friday, 9 to 18')),
      ),
      value: () => [...rows.children].map((row) => row.read()),
    };
  }

  // --- agents ----------------------------------------------------------------------------

  function drawAgents() {
    setChildren(
      sections.agents,
      h('h2', { id: 'settings-agents' }, gettext('Agents')),
      state.agents.length
        ? h(
            'div',
            { class: 'table-scroll' },
            h(
              'table',
              { class: 'data-table' },
              h(
                'thead',
                null,
                h('tr', null, h('th', { scope: 'col' }, gettext('Agent')), h('th', { scope: 'col' }, gettext('Capacity')), h('th', { scope: 'col' }, gettext('Skills')), h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, gettext('Actions')))),
              ),
              h('tbody', null, state.agents.map(agentRow)),
            ),
          )
        : h('p', { class: 'muted' }, gettext('No agents yet: the organization\'s agents and admins appear here.')),
    );
  }

  function agentRow(agent) {
    const id = agentId(agent);
    const name = personName(agent);
    const capacity = h('input', { type: 'number', min: '0', max: '100', class: 'compact', value: String(agent.capacity ?? ''), 'aria-label': interpolate(gettext('Capacity of %(name)s'), { name }) });
    const skills = h('input', { class: 'compact', value: (agent.skills || []).join(', '), 'aria-label': interpolate(gettext('Skills of %(name)s'), { name }) });
    const save = h('button', { type: 'button', class: 'button' }, gettext('Save'));
    save.addEventListener('click', () =>
      run(
        () =>
          whileBusy(save, () =>
            api.patch(path(`agents/${id}/`), {
              capacity: Number(capacity.value),
              skills: skills.value.split(',').map((skill) => skill.trim()).filter(Boolean),
            }),
          ),
        gettext('Agent saved.'),
      ),
    );
    return h('tr', { dataset: { userId: String(id) } }, h('th', { scope: 'row' }, name), h('td', null, capacity), h('td', null, skills), h('td', { class: 'row-actions' }, save));
  }

  // --- canned responses ------------------------------------------------------------------

  function drawCanned() {
    setChildren(
      sections.canned,
      h('h2', { id: 'settings-canned' }, gettext('Canned responses')),
      h('p', { class: 'muted' }, gettext('Agents insert them by typing "/" and the shortcut in the composer.')),
      state.canned.length
        ? h(
            'ul',
            { class: 'plain-list settings-list' },
            state.canned.map((item) =>
              h(
                'li',
                { class: 'settings-row' },
                h('code', null, `/${item.shortcut}`),
                h('span', { class: 'settings-name' }, item.title),
                h('button', { type: 'button', class: 'link-button', onclick: () => editCanned(item) }, gettext('Edit')),
                h('button', {
                  type: 'button',
                  class: 'link-button danger',
                  onclick: () => remove(`canned/${item.id}/`, interpolate(gettext('Delete the response /%(shortcut)s?'), { shortcut: item.shortcut })),
                }, gettext('Delete')),
              ),
            ),
          )
        : h('p', { class: 'muted' }, gettext('No canned responses yet.')),
      h('button', { type: 'button', class: 'button primary', onclick: () => editCanned(null) }, gettext('Add canned response')),
    );
  }

  async function editCanned(item) {
    const shortcut = field({ label: gettext('Shortcut'), name: 'shortcut', value: item ? item.shortcut : '', maxlength: '40', required: true, hint: gettext('Letters, digits and hyphens, e.g. "greeting".') });
    const title = field({ label: gettext('Title'), name: 'title', value: item ? item.title : '', maxlength: '100', required: true });
    const text = h('textarea', { rows: '5', maxlength: '4000' }, item ? item.body : '');
    const bodyField = field({ label: gettext('Text'), name: 'body', control: text });
    const done = await formDialog({
      title: item ? gettext('Edit the canned response') : gettext('New canned response'),
      body: [shortcut.wrapper, title.wrapper, bodyField.wrapper],
      fields: [shortcut, title, bodyField],
      submitLabel: gettext('Save'),
      submit: () => {
        const payload = { shortcut: shortcut.input.value.trim(), title: title.input.value.trim(), body: text.value };
        return item ? api.patch(path(`canned/${item.id}/`), payload) : api.post(path('canned/'), payload);
      },
    });
    if (done) await reload();
  }

  // --- widget ----------------------------------------------------------------------------

  function drawWidget() {
    const widget = state.widget;
    if (!widget) {
      setChildren(sections.widget, h('h2', { id: 'settings-widget' }, gettext('Website widget')), h('p', { class: 'muted' }, gettext('Not available.')));
      return;
    }
    const enabled = h('input', { type: 'checkbox', checked: widget.enabled });
    const fields = {
      allowed_origins: field({
        label: gettext('Allowed origins'),
        name: 'allowed_origins',
        control: h('textarea', { rows: '3', 'data-testid': 'widget-origins' }, (widget.allowed_origins || []).join('\n')),
        hint: gettext('One per line, e.g. https://www.example.com: the widget works only on these sites.'),
      }),
      title: field({ label: gettext('Title'), name: 'title', value: widget.title || '', maxlength: '80' }),
      greeting: field({ label: gettext('Greeting'), name: 'greeting', value: widget.greeting || '', maxlength: '300' }),
      color: field({ label: gettext('Colour'), name: 'color', type: 'color', value: widget.color || '#0f766e' }),
      offline_email: field({ label: gettext('Offline messages go to'), name: 'offline_email', type: 'email', value: widget.offline_email || '', hint: gettext('Empty: the organization\'s admins.') }),
    };
    const alert = formAlert();
    const form = h(
      'form',
      { class: 'stack', novalidate: true },
      alert,
      h('label', { class: 'check-option' }, enabled, gettext('Widget enabled')),
      Object.values(fields).map((item) => item.wrapper),
      h('button', { type: 'submit', class: 'button primary' }, gettext('Save widget')),
    );
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      clearFormError(Object.values(fields), alert);
      try {
        state.widget = await whileBusy(form.querySelector('button[type=submit]'), () =>
          api.patch(path('widget/'), {
            enabled: enabled.checked,
            allowed_origins: fields.allowed_origins.input.value.split(/\s+/).filter(Boolean),
            title: fields.title.input.value.trim(),
            greeting: fields.greeting.input.value.trim(),
            color: fields.color.input.value,
            offline_email: fields.offline_email.input.value.trim(),
          }),
        );
        toast(gettext('Widget saved.'), { kind: 'success' });
        drawWidget();
      } catch (error) {
        showFormError(Object.values(fields), alert, error);
      }
    });
    const snippet = widget.embed_snippet || widget.snippet || '';
    const snippetBox = h('textarea', { readonly: true, rows: '3', class: 'snippet', id: 'widget-snippet', 'data-testid': 'widget-snippet' }, snippet);
    const copy = h('button', { type: 'button', class: 'button' }, gettext('Copy the snippet'));
    copy.addEventListener('click', async () => {
      try {
        await navigator.clipboard.writeText(snippet);
        toast(gettext('Copied.'), { kind: 'success' });
      } catch {
        snippetBox.select();
        toast(gettext('Select the snippet and copy it.'));
      }
    });
    const rotate = h('button', { type: 'button', class: 'button danger' }, gettext('Rotate the key'));
    rotate.addEventListener('click', async () => {
      const sure = await confirmDialog({
        title: gettext('Rotate the key'),
        message: gettext('The widget stops working on every site until the new snippet is pasted there.'),
        confirmLabel: gettext('Rotate the key'),
        danger: true,
      });
      if (!sure) return;
      await run(async () => {
        state.widget = await api.post(path('widget/rotate-key/'), {});
        drawWidget();
      }, gettext('New key created.'));
    });
    setChildren(
      sections.widget,
      h('h2', { id: 'settings-widget' }, gettext('Website widget')),
      h('p', null, gettext('Public key:'), ' ', h('code', { 'data-testid': 'widget-public-key' }, widget.public_key)),
      h('div', { class: 'field' }, h('label', { for: snippetBox.id }, gettext('Paste this on your site, before </body>')), snippetBox),
      h('p', { class: 'actions' }, copy, ' ', rotate),
      form,
    );
  }

  // --- loading ---------------------------------------------------------------------------

  async function reload() {
    // In turn rather than at once: see the note on SQLite in security.js.
    state.departments = resultsOf(await api.get(path('departments/'), { signal }));
    state.queues = resultsOf(await api.get(path('queues/'), { signal }));
    state.agents = resultsOf(await api.get(path('agents/'), { signal }));
    state.canned = resultsOf(await api.get(path('canned/'), { signal }));
    state.widget = await api.get(path('widget/'), { signal }).catch((error) => {
      if (error.status === 404) return null;
      throw error;
    });
    drawDepartments();
    drawQueues();
    drawAgents();
    drawCanned();
    drawWidget();
    if (!body.contains(sections.departments)) setChildren(body, ...Object.values(sections));
  }

  const load = () =>
    reload().catch((error) => {
      if (!isAbort(error)) setChildren(body, h('p', { class: 'error-text', role: 'alert' }, errorText(error)));
    });
  onResync(load);
  load();
}
