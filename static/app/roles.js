// Organization roles, in the order the role picker lists them.

import { gettext } from './i18n.js';

export const ROLES = ['org_admin', 'agent', 'viewer'];

/** @param {string} role */
export function roleLabel(role) {
  switch (role) {
    case 'org_admin':
      return gettext('Admin');
    case 'agent':
      return gettext('Agent');
    case 'viewer':
      return gettext('Viewer');
    default:
      return role; // a role newer than this screen: show its code rather than nothing
  }
}
