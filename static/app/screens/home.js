// Home: a welcome and the organizations the person belongs to.

import { getUser, loadMe } from '../auth.js';
import { errorText, h } from '../components.js';
import { gettext, interpolate } from '../i18n.js';
import { roleLabel } from '../roles.js';

export function render({ main, setTitle, onResync }) {
  setTitle(gettext('Home'));
  const user = getUser();
  const organizations = h('div');
  main.append(
    h('h1', null, interpolate(gettext('Welcome, %(name)s'), { name: user.display_name || user.email })),
    h('section', { class: 'card', 'aria-labelledby': 'organizations-title' },
      h('h2', { id: 'organizations-title' }, gettext('Your organizations')),
      organizations,
    ),
  );
  drawOrganizations(organizations, user.memberships || []);

  // Memberships change elsewhere (an admin adds or removes this person): re-read them.
  onResync(async () => {
    try {
      const me = await loadMe();
      drawOrganizations(organizations, me.memberships || []);
    } catch (error) {
      organizations.replaceChildren(h('p', { class: 'error-text' }, errorText(error)));
    }
  });
}

function drawOrganizations(container, memberships) {
  if (memberships.length === 0) {
    container.replaceChildren(
      h('p', { class: 'muted' }, gettext('You are not a member of any organization yet. An organization admin can add you.')),
    );
    return;
  }
  container.replaceChildren(
    h(
      'ul',
      { class: 'organization-list' },
      memberships.map((membership) =>
        h(
          'li',
          null,
          h('span', { class: 'organization-name' }, membership.organization.name),
          h('span', { class: 'badge' }, roleLabel(membership.role)),
          h(
            'a',
            {
              href: `/organizations/${membership.organization.id}/members`,
              // Several "Members" links in a row need the organization in their name.
              'aria-label': interpolate(gettext('%(organization)s members'), {
                organization: membership.organization.name,
              }),
            },
            gettext('Members'),
          ),
        ),
      ),
    ),
  );
}
