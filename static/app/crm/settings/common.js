// What the CRM settings' sections share: a titled section, and running a change with its
// button busy, a toast for the outcome, and a redraw after it.

import { errorText, h, toast, whileBusy } from '../../components.js';

let counter = 0;

/** A unique id for a control's label. @param {string} prefix */
export function uid(prefix) {
  return `${prefix}-${++counter}`;
}

/** @param {string} title @param {string} testid @param {...any} children */
export function section(title, testid, ...children) {
  const id = uid('crm-settings-section');
  return h('section', { class: 'card crm-settings-section', 'aria-labelledby': id, 'data-testid': testid }, h('h2', { id }, title), ...children);
}

/**
 * Run one change: the button is busy meanwhile, success and failure are told in toasts.
 * @param {HTMLButtonElement|null} button @param {() => Promise<any>} work
 * @param {string} done what to say when it worked
 * @returns {Promise<boolean>} whether it worked
 */
export async function run(button, work, done) {
  try {
    if (button) await whileBusy(button, work);
    else await work();
    if (done) toast(done, { kind: 'success' });
    return true;
  } catch (error) {
    if (error && error.name === 'AbortError') return false;
    toast(errorText(error), { kind: 'error' });
    return false;
  }
}

/** A labelled input in a row of controls (settings tables are dense). */
export function inline(labelText, control) {
  control.id = control.id || uid('crm-settings-control');
  return h('div', { class: 'crm-inline-field' }, h('label', { for: control.id }, labelText), control);
}
