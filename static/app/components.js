// Small DOM helpers shared by the screens.
//
// Everything is built with DOM nodes and text nodes, never innerHTML, so text that came from
// a person (names, e-mails, server messages) can never become markup.

import { gettext } from './i18n.js';

/**
 * Build an element.
 *   h('button', {type: 'button', class: 'primary', onclick: save}, label)
 * Props: `class`, `dataset` (object), `on<event>` (listener), booleans (set when true,
 * omitted when false), anything else as an attribute. Children: nodes, strings, numbers,
 * arrays of those; null/undefined/false are skipped so conditionals read naturally.
 * @param {string} tag @param {Record<string, any>|null} [props] @param {...any} children
 * @returns {HTMLElement}
 */
export function h(tag, props, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === 'dataset') Object.assign(element.dataset, value);
    else if (name.startsWith('on') && typeof value === 'function') {
      element.addEventListener(name.slice(2), value);
    } else if (name === 'value' && 'value' in element) element.value = value;
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  append(element, children);
  return element;
}

/**
 * Replace an element's children, with the same rules as h(): unlike the DOM's own
 * replaceChildren(), null/undefined/false are skipped instead of shown as "null".
 * @param {HTMLElement} parent @param {...any} children
 */
export function setChildren(parent, ...children) {
  parent.replaceChildren();
  append(parent, children);
}

function append(parent, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else parent.append(child instanceof Node ? child : String(child));
  }
}

// --- Messages ---------------------------------------------------------------------------------

/**
 * What to tell a person about a failed request. The server's own message is already in their
 * language; these cover the failures that never reached it or have no useful message.
 * @param {any} error an ApiError (or anything thrown)
 */
export function errorText(error) {
  switch (error && error.code) {
    case 'network_error':
      return gettext('Could not reach the server. Check your connection and try again.');
    case 'server_error':
      return gettext('Something went wrong on our side. Please try again in a moment.');
    case 'too_many_requests':
    case 'throttled':
      return gettext('Too many attempts. Please wait a minute and try again.');
    case 'auth.locked':
      return gettext('Too many failed sign-in attempts. Wait a few minutes and try again, or reset your password.');
    case 'auth.signup_closed':
      return gettext('Sign up is closed at the moment.');
    case 'auth.flow_pending':
      return gettext('Your account needs another step (such as confirming your e-mail) before you can sign in.');
    default:
      return (error && error.message) || gettext('Something went wrong. Please try again.');
  }
}

/**
 * A short-lived message in the live region, so screen readers announce it too.
 * Errors use the assertive region: they usually need the person to act.
 * @param {string} message @param {{kind?: 'info'|'success'|'error'}} [options]
 */
export function toast(message, { kind = 'info' } = {}) {
  const region = document.getElementById(kind === 'error' ? 'alerts' : 'toasts');
  if (!region) return;
  const item = h('div', { class: `toast toast-${kind}` }, message);
  region.append(item);
  // Errors stay longer: reading and acting on them takes more time.
  setTimeout(() => item.remove(), kind === 'error' ? 10_000 : 5_000);
}

/** The two live regions that toast() writes into; created once by main.js. */
export function liveRegions() {
  return h(
    'div',
    { class: 'toasts' },
    h('div', { id: 'toasts', role: 'status', 'aria-live': 'polite' }),
    h('div', { id: 'alerts', role: 'alert', 'aria-live': 'assertive' }),
  );
}

// --- Forms ------------------------------------------------------------------------------------

let fieldCounter = 0;

/**
 * A labelled form control with a hint and an error slot, wired with aria-describedby and
 * aria-invalid so assistive technology reads the error together with the label.
 * @param {{label: string, name: string, type?: string, value?: string, hint?: string,
 *          control?: HTMLElement, [attribute: string]: any}} options
 *   `control` replaces the default <input> (e.g. a <select>); other keys become attributes.
 */
export function field({ label, name, type = 'text', value = '', hint, control, ...attributes }) {
  const id = `field-${name}-${++fieldCounter}`;
  const input = control || h('input', { type, value, ...attributes });
  input.id = id;
  input.name = name;
  const hintElement = hint ? h('p', { class: 'field-hint', id: `${id}-hint` }, hint) : null;
  const errorElement = h('p', { class: 'field-error', id: `${id}-error`, hidden: true });
  const describedBy = [hintElement && hintElement.id, errorElement.id].filter(Boolean).join(' ');
  input.setAttribute('aria-describedby', describedBy);
  const wrapper = h('div', { class: 'field' }, h('label', { for: id }, label), input, hintElement, errorElement);

  return {
    wrapper,
    input,
    name,
    /** @param {string[]|undefined} messages */
    setError(messages) {
      const text = (messages || []).join(' ');
      errorElement.textContent = text;
      errorElement.hidden = !text;
      if (text) input.setAttribute('aria-invalid', 'true');
      else input.removeAttribute('aria-invalid');
    },
  };
}

/**
 * Show a failed submission on a form: each field gets its own messages; messages for no
 * field of this form (`non_field_errors`, `__all__`, unknown names) and failures that are
 * not validation errors go to the form's alert. Focus moves to the first invalid field so
 * keyboard users land where the work is.
 * @param {ReturnType<typeof field>[]} fields @param {HTMLElement} formAlert @param {any} error
 */
export function showFormError(fields, formAlert, error) {
  const byField = (error && error.code === 'validation_error' && error.extra && error.extra.fields) || {};
  const known = new Set(fields.map((f) => f.name));
  fields.forEach((f) => f.setError(byField[f.name]));

  const general = Object.entries(byField)
    .filter(([name]) => !known.has(name))
    .flatMap(([, messages]) => messages);
  const firstInvalid = fields.find((f) => byField[f.name]);
  // The top-level message only summarises the field errors; show it when there are none.
  if (general.length === 0 && !firstInvalid) general.push(errorText(error));

  formAlert.textContent = general.join(' ');
  formAlert.hidden = general.length === 0;
  if (firstInvalid) firstInvalid.input.focus();
}

/** Clear what showFormError put up. */
export function clearFormError(fields, formAlert) {
  fields.forEach((f) => f.setError(undefined));
  formAlert.textContent = '';
  formAlert.hidden = true;
}

/** The form-level error box: role=alert so it is announced when it appears. */
export function formAlert() {
  return h('div', { class: 'form-alert', role: 'alert', hidden: true });
}

/**
 * Disable a form's submit button while `work` runs, so a double click does not send twice.
 * @param {HTMLButtonElement} button @param {() => Promise<any>} work
 */
export async function whileBusy(button, work) {
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
  }
}

// --- Dialogs ----------------------------------------------------------------------------------

/**
 * Ask for confirmation in a modal <dialog>. The platform gives us the focus trap, Escape to
 * cancel and the inert background; we only add the wording.
 * @param {{title: string, message: string, confirmLabel: string, danger?: boolean}} options
 * @returns {Promise<boolean>}
 */
export function confirmDialog({ title, message, confirmLabel, danger = false }) {
  return new Promise((resolve) => {
    const titleId = `dialog-title-${++fieldCounter}`;
    const dialog = h(
      'dialog',
      { class: 'dialog', 'aria-labelledby': titleId },
      h(
        'form',
        { method: 'dialog' },
        h('h2', { id: titleId }, title),
        h('p', null, message),
        h(
          'div',
          { class: 'dialog-actions' },
          // Cancel comes first and gets the initial focus: the safe choice is the default.
          h('button', { type: 'submit', value: 'cancel', class: 'button', autofocus: true }, gettext('Cancel')),
          h('button', { type: 'submit', value: 'confirm', class: danger ? 'button danger' : 'button primary' }, confirmLabel),
        ),
      ),
    );
    dialog.addEventListener('close', () => {
      resolve(dialog.returnValue === 'confirm');
      dialog.remove();
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

/** A centred "loading" line for screens waiting on their first request. */
export function loading() {
  return h('p', { class: 'loading', role: 'status' }, gettext('Loading…'));
}
