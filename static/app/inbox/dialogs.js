// The inbox's dialogs: assign to an agent, transfer (to an agent, a queue or a department,
// with a note), snooze until a time, and merge another conversation of the same contact.
// Each is a modal <dialog> whose form calls the API; a refusal is shown in the dialog and
// the dialog stays open.

import { api } from '../api.js';
import { field, formAlert, h, setChildren, showFormError, whileBusy } from '../components.js';
import { formatDateTime, gettext, interpolate } from '../i18n.js';
import { availabilityLabel, inboxPath, localInputValue, personName, resultsOf, statusLabel } from './util.js';

let dialogCounter = 0;

/**
 * A modal form. `submit` returns a promise; the dialog closes when it resolves and shows the
 * error when it rejects.
 * @param {{title: string, body: Node[], submitLabel: string, fields?: ReturnType<typeof field>[],
 *          submit: () => Promise<any>, testid?: string}} options
 * @returns {Promise<any>} what submit resolved with, or null when cancelled
 */
export function formDialog({ title, body, submitLabel, fields = [], submit, testid }) {
  return new Promise((resolve) => {
    const titleId = `inbox-dialog-${++dialogCounter}`;
    const alert = formAlert();
    const submitButton = h('button', { type: 'submit', class: 'button primary' }, submitLabel);
    const form = h(
      'form',
      { method: 'dialog' },
      h('h2', { id: titleId }, title),
      alert,
      body,
      h(
        'div',
        { class: 'dialog-actions' },
        h('button', { type: 'button', class: 'button', onclick: () => dialog.close() }, gettext('Cancel')),
        submitButton,
      ),
    );
    const dialog = h('dialog', { class: 'dialog wide inbox-dialog', 'aria-labelledby': titleId, 'data-testid': testid }, form);
    let result = null;
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      try {
        result = await whileBusy(submitButton, submit);
        dialog.close();
      } catch (error) {
        showFormError(fields, alert, error);
      }
    });
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve(result);
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

/** An agent's option text: "Ana Lima — Online, 2/5". */
function agentOption(agent) {
  const name = personName(agent) || personName(agent.user);
  const load = agent.capacity !== undefined ? ` ${agent.open_count ?? 0}/${agent.capacity}` : '';
  return agent.availability ? `${name} — ${availabilityLabel(agent.availability)}${load}` : name;
}

function agentId(agent) {
  return agent.user_id ?? agent.id ?? (agent.user && agent.user.id);
}

/** Choose the agent who takes the conversation. */
export function assignDialog({ store, conversation }) {
  const select = h(
    'select',
    { 'data-testid': 'assign-agent' },
    store.agents.map((agent) => h('option', { value: String(agentId(agent)) }, agentOption(agent))),
  );
  const agentField = field({ label: gettext('Agent'), name: 'user_id', control: select });
  return formDialog({
    title: gettext('Assign the conversation'),
    body: [agentField.wrapper],
    fields: [agentField],
    submitLabel: gettext('Assign'),
    testid: 'assign-dialog',
    submit: () => store.command(conversation.id, 'assign/', { user_id: Number(select.value) }),
  });
}

/** Transfer to an agent, a queue or a department, with a note for whoever gets it. */
export async function transferDialog({ store, conversation }) {
  const [queues, departments] = await Promise.all([
    api.get(inboxPath(store.organizationId, 'queues/')).then(resultsOf),
    api.get(inboxPath(store.organizationId, 'departments/')).then(resultsOf),
  ]);
  const kind = h(
    'select',
    { 'data-testid': 'transfer-kind' },
    h('option', { value: 'user_id' }, gettext('An agent')),
    h('option', { value: 'queue_id' }, gettext('A queue')),
    h('option', { value: 'department_id' }, gettext('A department')),
  );
  const others = store.agents.filter((agent) => agentId(agent) !== (conversation.assignee && conversation.assignee.id));
  const options = {
    user_id: others.map((agent) => [agentId(agent), agentOption(agent)]),
    queue_id: queues.map((queue) => [queue.id, queue.name]),
    department_id: departments.map((department) => [department.id, department.name]),
  };
  const target = h('select', { 'data-testid': 'transfer-target' });
  const drawTargets = () => setChildren(target, ...options[kind.value].map(([id, label]) => h('option', { value: String(id) }, label)));
  kind.addEventListener('change', drawTargets);
  drawTargets();
  const kindField = field({ label: gettext('Transfer to'), name: 'kind', control: kind });
  const targetField = field({ label: gettext('Who or where'), name: 'target', control: target });
  const note = h('textarea', { rows: '3', maxlength: '2000', 'data-testid': 'transfer-note' });
  const noteField = field({
    label: gettext('Note for the next person'),
    name: 'note',
    control: note,
    hint: gettext('Kept as an internal note: the contact never sees it.'),
  });
  return formDialog({
    title: gettext('Transfer the conversation'),
    body: [kindField.wrapper, targetField.wrapper, noteField.wrapper],
    fields: [kindField, targetField, noteField],
    submitLabel: gettext('Transfer'),
    testid: 'transfer-dialog',
    submit: () =>
      store.command(conversation.id, 'transfer/', { [kind.value]: Number(target.value), note: note.value.trim() }),
  });
}

/** Snooze until a time; the conversation opens again by itself then. */
export function snoozeDialog({ store, conversation }) {
  const tomorrow = new Date(Date.now() + 24 * 3600 * 1000);
  tomorrow.setHours(9, 0, 0, 0);
  const until = h('input', { type: 'datetime-local', required: true, value: localInputValue(tomorrow) });
  const untilField = field({ label: gettext('Snooze until'), name: 'snoozed_until', control: until });
  return formDialog({
    title: gettext('Snooze the conversation'),
    body: [untilField.wrapper],
    fields: [untilField],
    submitLabel: gettext('Snooze'),
    testid: 'snooze-dialog',
    submit: () =>
      store.command(conversation.id, 'status/', { status: 'snoozed', snoozed_until: new Date(until.value).toISOString() }),
  });
}

/** Merge another conversation of the same contact into this one. */
export async function mergeDialog({ store, conversation }) {
  const contact = await api.get(inboxPath(store.organizationId, `contacts/${conversation.contact.id}/`));
  const candidates = (contact.conversations || []).filter((item) => item.id !== conversation.id && !item.merged_into_id);
  if (candidates.length === 0) {
    return formDialog({
      title: gettext('Merge conversations'),
      body: [h('p', null, gettext('This contact has no other conversation to merge.'))],
      submitLabel: gettext('Close'),
      submit: async () => null,
    });
  }
  const select = h(
    'select',
    { 'data-testid': 'merge-source' },
    candidates.map((item) =>
      h(
        'option',
        { value: String(item.id) },
        interpolate(gettext('#%(id)s · %(status)s · %(date)s'), {
          id: item.id,
          status: statusLabel(item.status),
          date: formatDateTime(new Date(item.created_at)),
        }),
      ),
    ),
  );
  const sourceField = field({
    label: gettext('Conversation to merge into this one'),
    name: 'source_id',
    control: select,
    hint: gettext('Its messages move here and it is closed.'),
  });
  return formDialog({
    title: gettext('Merge conversations'),
    body: [sourceField.wrapper],
    fields: [sourceField],
    submitLabel: gettext('Merge'),
    testid: 'merge-dialog',
    submit: () => store.command(conversation.id, 'merge/', { source_id: Number(select.value) }),
  });
}
