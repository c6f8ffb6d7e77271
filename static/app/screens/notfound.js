// Any URL the app does not know, and organizations the person cannot see (the API answers
// "not found" for both, so the screen does not hint that something exists).

import { h } from '../components.js';
import { gettext } from '../i18n.js';

export function render({ main, setTitle }) {
  setTitle(gettext('Page not found'));
  main.append(notFoundContent());
}

/** Also used by screens whose object turned out not to exist. */
export function notFoundContent() {
  return h(
    'section',
    { class: 'card narrow' },
    h('h1', null, gettext('Page not found')),
    h('p', null, gettext('The address may be mistyped, or the page may no longer exist.')),
    h('p', null, h('a', { href: '/' }, gettext('Go to the home page'))),
  );
}
