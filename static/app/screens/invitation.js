// An invitation to join an organization: the screen behind the e-mailed link. Anyone can
// see what the invitation is for; accepting needs an account with the invited address, so a
// visitor signs in or signs up first and comes straight back here.

import { api } from '../api.js';
import { getUser, loadMe, membershipIn, signOut } from '../auth.js';
import { errorText, h, loading, toast, whileBusy } from '../components.js';
import { formatDateTime, gettext, interpolate, interpolateParts } from '../i18n.js';
import { roleLabel } from '../roles.js';

export function render({ main, params, navigate, setTitle, signal }) {
  setTitle(gettext('Invitation'));
  const token = params.token;
  const here = `/invitations/${encodeURIComponent(token)}`;
  const card = h('section', { class: 'card narrow invitation', 'aria-live': 'polite' }, loading());
  main.append(card);

  async function load() {
    try {
      const invitation = await api.get(`/invitations/${encodeURIComponent(token)}/`, { signal });
      draw(invitation);
    } catch (error) {
      if (error.name === 'AbortError') return;
      if (error.status === 404) {
        closed(gettext('This invitation link does not work'), gettext('Check that you opened the whole link from the e-mail, or ask for a new invitation.'));
        return;
      }
      card.replaceChildren(
        h('h1', null, gettext('Invitation')),
        h('p', { class: 'error-text' }, errorText(error)),
        h('button', { type: 'button', class: 'button', onclick: load }, gettext('Try again')),
      );
    }
  }

  /** An invitation that can no longer be accepted, with a way onwards. */
  function closed(title, message, organizationId = null) {
    setTitle(title);
    const member = organizationId !== null && membershipIn(organizationId);
    card.replaceChildren(
      h('h1', null, title),
      h('p', null, message),
      member
        ? h('p', null, h('a', { class: 'button primary', href: `/organizations/${organizationId}/members` }, gettext('Go to the organization')))
        : h('p', null, h('a', { class: 'button', href: '/' }, gettext('Go to the home page'))),
    );
  }

  function draw(invitation) {
    const organization = invitation.organization;
    const name = organization.name;
    const ask = interpolate(gettext('Ask an admin of %(organization)s to invite you again.'), { organization: name });
    switch (invitation.status) {
      case 'expired':
        closed(gettext('This invitation has expired'), ask, organization.id);
        return;
      case 'revoked':
        closed(gettext('This invitation was withdrawn'), ask, organization.id);
        return;
      case 'accepted':
        closed(gettext('This invitation was already used'), gettext('Each invitation link works once.'), organization.id);
        return;
      default:
        break;
    }

    const title = interpolate(gettext('Join %(organization)s'), { organization: name });
    setTitle(title);
    const expires = new Date(invitation.expires_at);
    const facts = h(
      'dl',
      { class: 'facts' },
      h('dt', null, gettext('Organization')),
      h('dd', null, name),
      h('dt', null, gettext('Role')),
      h('dd', null, roleLabel(invitation.role)),
      h('dt', null, gettext('Sent to')),
      h('dd', { class: 'contact-value' }, invitation.email),
      h('dt', null, gettext('Valid until')),
      h('dd', null, h('time', { datetime: expires.toISOString() }, formatDateTime(expires))),
    );
    const heading = h('h1', null, title);
    card.replaceChildren(
      heading,
      h('p', { class: 'lead' }, interpolate(gettext('You are invited to join %(organization)s on Atende.'), { organization: name })),
      facts,
      ...actions(invitation),
    );
  }

  function actions(invitation) {
    const organization = invitation.organization;
    const user = getUser();
    if (!user) {
      const next = `?next=${encodeURIComponent(here)}`;
      return [
        h('p', null, interpolateParts(gettext('To accept, sign in with %(email)s, or create an account with that address.'), {
          email: h('strong', { class: 'contact-value' }, invitation.email),
        })),
        h(
          'div',
          { class: 'actions' },
          h('a', { class: 'button primary', href: `/signin${next}` }, gettext('Sign in to accept')),
          h('a', { class: 'button', href: `/signup${next}` }, gettext('Create an account')),
        ),
      ];
    }
    if (membershipIn(organization.id)) {
      return [
        h('p', { class: 'notice' }, interpolate(gettext('You are already a member of %(organization)s.'), { organization: organization.name })),
        h('p', null, h('a', { class: 'button primary', href: `/organizations/${organization.id}/members` }, gettext('Go to the organization'))),
      ];
    }
    const problem = h('div', { class: 'form-alert invitation-problem', role: 'alert', hidden: true });
    const accept = h('button', { type: 'button', class: 'button primary' }, gettext('Accept invitation'));
    const choices = h(
      'div',
      null,
      h('div', { class: 'actions' }, accept),
      h(
        'p',
        { class: 'muted' },
        interpolateParts(gettext('Signed in as %(email)s.'), { email: h('span', { class: 'contact-value' }, user.email) }),
        ' ',
        signOutButton(gettext('Use another account')),
      ),
    );
    accept.addEventListener('click', () => acceptInvitation(invitation, accept, problem, choices));
    return [problem, choices];
  }

  async function acceptInvitation(invitation, button, problem, choices) {
    problem.hidden = true;
    try {
      const membership = await whileBusy(button, () => api.post(`/invitations/${encodeURIComponent(token)}/accept/`, {}, { signal }));
      // Joined: a failed re-read of /me must not say otherwise (the next screen reads it again).
      await loadMe().catch(() => null);
      toast(interpolate(gettext('Welcome to %(organization)s!'), { organization: membership.organization.name }), { kind: 'success' });
      navigate(`/organizations/${membership.organization.id}/members`, { replace: true });
    } catch (error) {
      if (error.name === 'AbortError') return;
      const name = invitation.organization.name;
      const ask = interpolate(gettext('Ask an admin of %(organization)s to invite you again.'), { organization: name });
      switch (error.code) {
        case 'accounts.invitation_expired':
          closed(gettext('This invitation has expired'), ask, invitation.organization.id);
          return;
        case 'accounts.invitation_revoked':
          closed(gettext('This invitation was withdrawn'), ask, invitation.organization.id);
          return;
        case 'accounts.invitation_used':
          closed(gettext('This invitation was already used'), gettext('Each invitation link works once.'), invitation.organization.id);
          return;
        case 'accounts.already_member':
          await loadMe().catch(() => null);
          navigate(`/organizations/${invitation.organization.id}/members`, { replace: true });
          return;
        case 'accounts.invitation_wrong_account':
          problem.replaceChildren(
            h('p', null, interpolateParts(gettext('This invitation was sent to %(invited)s, but you are signed in as %(current)s. Sign in with the invited address to accept it.'), {
              invited: h('strong', { class: 'contact-value' }, invitation.email),
              current: h('strong', { class: 'contact-value' }, getUser()?.email || ''),
            })),
            h('p', null, signOutButton(gettext('Sign out and switch account'))),
          );
          problem.hidden = false;
          // Accepting again cannot work from this account: the way out is in the message.
          choices.hidden = true;
          problem.querySelector('button').focus();
          return;
        default:
          problem.replaceChildren(h('p', null, errorText(error)));
          problem.hidden = false;
      }
    }
  }

  /** Sign out and come back here to sign in with the invited address. */
  function signOutButton(label) {
    const button = h('button', { type: 'button', class: 'link-button' }, label);
    button.addEventListener('click', async () => {
      button.disabled = true;
      try {
        await signOut();
        navigate(`/signin?next=${encodeURIComponent(here)}`, { replace: true });
      } catch (error) {
        button.disabled = false;
        toast(errorText(error), { kind: 'error' });
      }
    });
    return button;
  }

  load();
}
