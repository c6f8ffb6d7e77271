// CRM screen crmdeals (drawn by its work).

import { h } from '../components.js';
import { gettext } from '../i18n.js';
import { crmNav } from '../crm/nav.js';

export function render({ main, setTitle }) {
  setTitle(gettext('CRM'));
  main.append(crmNav(), h('p', null, gettext('Loading…')));
}
