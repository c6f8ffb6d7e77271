// The CRM's own navigation, above every CRM screen: board, deals, contacts, companies, leads,
// tasks, import; settings and BotConversa for org admins. The current page is marked.

import { activeMembership, getUser } from '../auth.js';
import { h } from '../components.js';
import { gettext } from '../i18n.js';

/** The organization the person works in (every CRM API path starts with its id), or null. */
export function crmOrganizationId() {
  const membership = activeMembership(getUser());
  return membership ? membership.organization.id : null;
}

/** Whether the person configures the CRM (org admins). */
export function crmIsAdmin() {
  const membership = activeMembership(getUser());
  return Boolean(membership && membership.role === 'org_admin');
}

/** Whether the person may create and edit records (agents and admins; viewers read). */
export function crmCanWrite() {
  const membership = activeMembership(getUser());
  return Boolean(membership && (membership.role === 'org_admin' || membership.role === 'agent'));
}

/** `/api/v1` paths below the organization: crmPath('/deals/') -> '/crm/12/deals/'. */
export function crmPath(path) {
  return `/crm/${crmOrganizationId()}${path}`;
}

export function crmNav() {
  const here = window.location.pathname;
  const items = [
    { href: '/crm', label: gettext('Board') },
    { href: '/crm/deals', label: gettext('Deals') },
    { href: '/crm/contacts', label: gettext('Contacts') },
    { href: '/crm/companies', label: gettext('Companies') },
    { href: '/crm/leads', label: gettext('Leads') },
    { href: '/crm/tasks', label: gettext('Tasks') },
    { href: '/crm/import', label: gettext('Import') },
    crmIsAdmin() ? { href: '/crm/settings', label: gettext('Settings') } : null,
    crmIsAdmin() ? { href: '/crm/botconversa', label: gettext('BotConversa') } : null,
  ].filter(Boolean);
  const current = (href) =>
    href === '/crm' ? here === '/crm' || here.startsWith('/crm/pipelines') : here === href || here.startsWith(`${href}/`);
  return h(
    'nav',
    { class: 'crm-nav', 'aria-label': gettext('CRM') },
    h(
      'ul',
      null,
      items.map((item) =>
        h('li', null, h('a', { href: item.href, 'aria-current': current(item.href) ? 'page' : null }, item.label)),
      ),
    ),
  );
}
