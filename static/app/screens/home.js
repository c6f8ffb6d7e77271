// Home: a welcome and the organizations the person belongs to.

import { api } from '../api.js';
import { getUser, loadMe } from '../auth.js';
import { errorText, h } from '../components.js';
import { gettext, interpolate } from '../i18n.js';
import { roleLabel } from '../roles.js';
import { missingContactSteps, unlockedActions } from '../verification.js';

export function render({ main, setTitle, signal, onResync }) {
  setTitle(gettext('Home'));
  const user = getUser();
  const organizations = h('div');
  const verification = h('div');
  const identity = h('div');
  main.append(
    h('h1', null, interpolate(gettext('Welcome, %(name)s'), { name: user.display_name || user.email })),
    verification,
    identity,
    h('section', { class: 'card', 'aria-labelledby': 'organizations-title' },
      h('h2', { id: 'organizations-title' }, gettext('Your organizations')),
      organizations,
    ),
  );
  drawVerification(verification, user);
  drawIdentity(identity, user, signal);
  drawOrganizations(organizations, user.memberships || []);

  // Memberships change elsewhere (an admin adds or removes this person), and contacts may be
  // verified in another tab: re-read them.
  onResync(async () => {
    try {
      const me = await loadMe();
      drawVerification(verification, me);
      drawIdentity(identity, me, signal);
      drawOrganizations(organizations, me.memberships || []);
    } catch (error) {
      organizations.replaceChildren(h('p', { class: 'error-text' }, errorText(error)));
    }
  });
}

/** What is still missing before the person can use everything, with the way to fix it. */
function drawVerification(container, user) {
  const steps = missingContactSteps(user);
  if (steps.length === 0) {
    container.replaceChildren();
    return;
  }
  const labels = {
    email_verified: gettext('Confirm your e-mail address'),
    phone_verified: gettext('Confirm your mobile phone'),
  };
  const actions = unlockedActions(user);
  container.replaceChildren(
    h(
      'section',
      { class: 'notice warning verify-banner', 'aria-labelledby': 'verify-banner-title' },
      h('h2', { id: 'verify-banner-title' }, gettext('Finish verifying your account')),
      h(
        'p',
        null,
        actions
          ? interpolate(gettext('You need this to %(actions)s. Still to do:'), { actions })
          : gettext('Still to do:'),
      ),
      h('ul', null, steps.map((step) => h('li', null, labels[step]))),
      h('p', null, h('a', { href: '/verify', class: 'button primary' }, gettext('Verify now'))),
    ),
  );
}

/**
 * For a professional who cannot withdraw yet for want of an approved identity verification:
 * where it stands (not sent, under review, rejected) and the way to it.
 */
async function drawIdentity(container, user, signal) {
  const needed = user.account_type === 'professional' && (user.missing?.withdraw || []).includes('kyc_approved');
  if (!needed) {
    container.replaceChildren();
    return;
  }
  let kycStatus = 'none';
  try {
    kycStatus = (await api.get('/me/kyc/', { signal })).status;
  } catch (error) {
    if (error.name === 'AbortError') return;
  }
  const texts = {
    none: gettext('Verify your identity to withdraw what you earn.'),
    pending: gettext('Your identity documents are under review. You can withdraw once they are approved.'),
    rejected: gettext('Your identity verification was rejected. See why and send your documents again.'),
  };
  container.replaceChildren(
    h(
      'section',
      { class: 'notice warning verify-banner', 'aria-labelledby': 'kyc-banner-title' },
      h('h2', { id: 'kyc-banner-title' }, gettext('Identity verification')),
      h('p', null, texts[kycStatus] || texts.none),
      kycStatus === 'pending'
        ? h('p', null, h('a', { href: '/kyc' }, gettext('See the status')))
        : h('p', null, h('a', { href: '/kyc', class: 'button primary' }, gettext('Verify your identity'))),
    ),
  );
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
