// The tasks of a deal: what is open (overdue marked in words), what is done, a form to add one
// with a due time, and a button to complete each.

import { api } from '../../api.js';
import { errorText, h, setChildren, toast, whileBusy } from '../../components.js';
import { gettext, interpolate } from '../../i18n.js';
import { crmPath, formatWhen, isAbort, resultsOf } from '../board/util.js';

/** A datetime-local value one day from now at the same minute, as a sensible default. */
function tomorrowLocal() {
  const date = new Date(Date.now() + 86_400_000);
  date.setSeconds(0, 0);
  const pad = (number) => String(number).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/**
 * @param {{dealId: number, canWrite: boolean, signal: AbortSignal, onChange: () => void}} options
 * @returns {{element: HTMLElement, reload: () => Promise<void>}}
 */
export function tasksView({ dealId, canWrite, signal, onChange }) {
  const list = h('ul', { class: 'crm-deal-task-list', 'data-testid': 'crm-deal-tasks' });

  function taskItem(task) {
    const done = Boolean(task.done_at);
    const complete = h('button', { type: 'button', class: 'button', 'data-testid': `crm-task-done-${task.id}` }, gettext('Complete'));
    complete.addEventListener('click', async () => {
      try {
        await whileBusy(complete, () => api.post(crmPath(`/tasks/${task.id}/done/`), {}));
        toast(interpolate(gettext('Task “%(title)s” completed.'), { title: task.title }), { kind: 'success' });
        await reload();
        onChange();
      } catch (error) {
        toast(errorText(error), { kind: 'error' });
      }
    });
    return h(
      'li',
      { class: done ? 'crm-deal-task done' : 'crm-deal-task', 'data-testid': 'crm-task', dataset: { taskId: String(task.id) } },
      h(
        'div',
        { class: 'crm-deal-task-text' },
        h('span', { class: 'crm-deal-task-title' }, task.title),
        h(
          'span',
          { class: 'muted' },
          interpolate(gettext('Due %(when)s'), { when: formatWhen(task.due_at) }),
          task.assignee ? ` · ${task.assignee.name}` : '',
        ),
        done ? h('span', { class: 'badge' }, gettext('Done')) : task.overdue ? h('span', { class: 'badge crm-deal-overdue' }, gettext('Overdue')) : null,
      ),
      !done && canWrite ? complete : null,
    );
  }

  async function reload() {
    try {
      const tasks = resultsOf(await api.get(crmPath(`/tasks/?deal=${dealId}`), { signal }));
      tasks.sort((a, b) => Boolean(a.done_at) - Boolean(b.done_at) || String(a.due_at).localeCompare(String(b.due_at)));
      setChildren(list, tasks.length ? tasks.map(taskItem) : h('li', { class: 'muted' }, gettext('No tasks.')));
    } catch (error) {
      if (!isAbort(error)) setChildren(list, h('li', { class: 'error-text' }, errorText(error)));
    }
  }

  const title = h('input', { type: 'text', id: `crm-task-title-${dealId}`, required: true, maxlength: '200', 'data-testid': 'crm-deal-task-title' });
  const due = h('input', { type: 'datetime-local', id: `crm-task-due-${dealId}`, required: true, value: tomorrowLocal(), 'data-testid': 'crm-task-due' });
  const submit = h('button', { type: 'submit', class: 'button primary' }, gettext('Add task'));
  const form = canWrite
    ? h(
        'form',
        { class: 'crm-deal-task-form' },
        h('div', { class: 'field' }, h('label', { for: title.id }, gettext('New task')), title),
        h('div', { class: 'field' }, h('label', { for: due.id }, gettext('Due')), due),
        submit,
      )
    : null;
  if (form) {
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const when = new Date(due.value);
      if (!title.value.trim() || Number.isNaN(when.getTime())) return;
      try {
        await whileBusy(submit, () => api.post(crmPath('/tasks/'), { title: title.value.trim(), due_at: when.toISOString(), deal_id: dealId }));
        title.value = '';
        toast(gettext('Task added.'), { kind: 'success' });
        await reload();
        onChange();
      } catch (error) {
        toast(errorText(error), { kind: 'error' });
      }
    });
  }

  const element = h('section', { class: 'card crm-deal-tasks', 'aria-labelledby': 'crm-tasks-title' }, h('h2', { id: 'crm-tasks-title' }, gettext('Tasks')), list, form);
  return { element, reload };
}
