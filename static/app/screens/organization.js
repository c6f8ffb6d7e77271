// The parts of the members screen around the list: inviting people and the pending
// invitations, the organization's settings (admins), leaving (everyone), and the notice for
// an admin stopped by the organization's two-factor rule.

import { api } from '../api.js';
import { loadMe, membershipIn } from '../auth.js';
import {
  clearFormError,
  confirmDialog,
  errorText,
  field,
  formAlert,
  h,
  loading,
  showFormError,
  toast,
  whileBusy,
} from '../components.js';
import { formatDateTime, gettext, interpolate, interpolateParts, ngettext } from '../i18n.js';
import { ROLES, roleLabel } from '../roles.js';

/**
 * @typedef {object} Shared
 * @property {number} organizationId
 * @property {AbortSignal} signal
 * @property {() => boolean} isAdmin
 * @property {(reason?: 'rule'|'setting') => void} showTwoFactorRequired
 */

const organizationName = (organizationId) => membershipIn(organizationId)?.organization.name || '';

// --- The two-factor rule ------------------------------------------------------------------------

/**
 * Explains `accounts.two_factor_required` with the way out (the Security page). Also shown
 * up front to an admin of an organization that requires 2FA when they do not have it.
 */
export function twoFactorRequiredNotice() {
  const element = h('div', { class: 'notice warning two-factor-notice', role: 'alert', hidden: true });
  let checked = false;

  /** @param {'rule'|'setting'} [reason] the organization's rule, or turning the rule on */
  const show = (reason = 'rule') => {
    element.replaceChildren(
      h(
        'p',
        null,
        reason === 'setting'
          ? gettext('To require two-factor authentication for admins, first turn it on for your own account.')
          : gettext('This organization requires two-factor authentication for its admins, and yours is off. Turn it on to manage members, invitations and settings.'),
      ),
      h('p', null, h('a', { href: '/security', class: 'button primary' }, gettext('Set up two-factor authentication'))),
    );
    element.hidden = false;
  };

  /** Once per visit: an admin under the rule learns before trying anything. */
  const check = async (membership) => {
    if (checked || !membership || membership.role !== 'org_admin' || !membership.organization.require_two_factor) return;
    checked = true;
    try {
      const status = await api.get('/me/two-factor/');
      if (!status.enabled) show();
    } catch {
      checked = false; // try again on the next redraw
    }
  };

  return { element, show, check };
}

// --- Invitations ----------------------------------------------------------------------------------

/** @param {Shared} shared */
export function invitationsSection({ organizationId, signal, showTwoFactorRequired }) {
  const path = `/organizations/${organizationId}/invitations/`;
  const state = { invitations: [], count: 0, next: null, page: 1, visible: false, loaded: false };

  // The invite form.
  const email = field({ label: gettext('E-mail address'), name: 'email', type: 'email', autocomplete: 'off', required: true });
  const role = field({
    label: gettext('Role'),
    name: 'role',
    control: h('select', null, ROLES.map((value) => h('option', { value }, roleLabel(value)))),
  });
  role.input.value = 'agent';
  const alert = formAlert();
  const send = h('button', { type: 'submit', class: 'button primary' }, gettext('Send invitation'));
  const form = h(
    'form',
    { class: 'invite-form', novalidate: true },
    alert,
    h('div', { class: 'invite-fields' }, email.wrapper, role.wrapper, h('div', { class: 'invite-submit' }, send)),
  );
  const inviteElement = h(
    'section',
    { class: 'card', 'aria-labelledby': 'invite-title', hidden: true },
    h('h2', { id: 'invite-title' }, gettext('Invite someone')),
    h('p', { class: 'muted' }, gettext('We e-mail them a link to join. It works once and expires after a week.')),
    form,
  );

  // The pending invitations.
  const summary = h('p', { class: 'muted', 'aria-live': 'polite' });
  const list = h('div', null, loading());
  const element = h(
    'section',
    { class: 'card', 'aria-labelledby': 'invitations-title', hidden: true },
    h('h2', { id: 'invitations-title' }, gettext('Pending invitations')),
    summary,
    list,
  );

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFormError([email, role], alert);
    const address = email.input.value.trim();
    if (!email.input.checkValidity() || !address) {
      email.setError([gettext('Enter an e-mail address, like name@example.com.')]);
      email.input.focus();
      return;
    }
    try {
      const invitation = await whileBusy(send, () => api.post(path, { email: address, role: role.input.value }, { signal }));
      // Inviting the same address again replaces its earlier invitation.
      const replaced = state.invitations.some((item) => item.email === invitation.email);
      state.invitations = [invitation, ...state.invitations.filter((item) => item.email !== invitation.email)];
      if (!replaced) state.count += 1;
      draw();
      toast(interpolate(gettext('Invitation sent to %(email)s.'), { email: invitation.email }), { kind: 'success' });
      email.input.value = '';
      email.input.focus();
    } catch (error) {
      if (error.name === 'AbortError') return;
      if (error.code === 'accounts.two_factor_required') showTwoFactorRequired();
      else if (error.code === 'accounts.already_member') {
        email.setError([gettext('This person is already a member of the organization.')]);
        email.input.focus();
      } else showFormError([email, role], alert, error);
    }
  });

  async function reload() {
    if (!state.visible) return;
    await loadPage(1);
  }

  async function loadPage(page) {
    try {
      const result = await api.get(`${path}?page=${page}`, { signal });
      state.invitations = page === 1 ? result.results : [...state.invitations, ...result.results];
      state.count = result.count;
      state.next = result.next;
      state.page = page;
      state.loaded = true;
      draw();
    } catch (error) {
      if (error.name === 'AbortError') return;
      if (error.code === 'accounts.two_factor_required') {
        showTwoFactorRequired();
        summary.textContent = '';
        list.replaceChildren(h('p', { class: 'muted' }, gettext('Invitations are shown once your two-factor authentication is on.')));
        return;
      }
      // A resync that failed on a dropped connection keeps what is shown.
      if (state.loaded && error.code === 'network_error') return;
      list.replaceChildren(
        h('p', { class: 'error-text' }, errorText(error)),
        h('button', { type: 'button', class: 'button', onclick: () => loadPage(page) }, gettext('Try again')),
      );
    }
  }

  function draw() {
    summary.textContent = interpolate(
      ngettext('%(count)s invitation waiting for an answer', '%(count)s invitations waiting for an answer', state.count),
      { count: state.count },
    );
    if (state.invitations.length === 0) {
      summary.textContent = '';
      list.replaceChildren(h('p', { class: 'muted' }, gettext('No pending invitations.')));
      return;
    }
    const more = state.next
      ? h('button', { type: 'button', class: 'button', onclick: () => loadPage(state.page + 1) }, gettext('Show more'))
      : null;
    const focused = document.activeElement?.closest?.('li[data-invitation-id]')?.dataset.invitationId;
    list.replaceChildren(
      h('ul', { class: 'invitation-list' }, state.invitations.map((invitation) => invitationItem(invitation))),
      ...(more ? [more] : []),
    );
    if (focused) list.querySelector(`li[data-invitation-id="${focused}"] button`)?.focus();
  }

  function invitationItem(invitation) {
    const inviter = invitation.invited_by ? invitation.invited_by.display_name || invitation.invited_by.email : '';
    const expires = new Date(invitation.expires_at);
    const revoke = h(
      'button',
      {
        type: 'button',
        class: 'button danger-outline',
        'aria-label': interpolate(gettext('Withdraw the invitation to %(email)s'), { email: invitation.email }),
      },
      gettext('Withdraw'),
    );
    revoke.addEventListener('click', () => withdraw(invitation, revoke));
    return h(
      'li',
      { class: 'invitation-item', dataset: { invitationId: String(invitation.id) } },
      h(
        'div',
        { class: 'invitation-main' },
        h('p', { class: 'invitation-email' }, h('strong', { class: 'contact-value' }, invitation.email), ' ', h('span', { class: 'badge' }, roleLabel(invitation.role))),
        h(
          'p',
          { class: 'muted invitation-details' },
          inviter ? interpolate(gettext('Invited by %(name)s'), { name: inviter }) : null,
          inviter ? ' · ' : null,
          interpolateParts(gettext('expires %(date)s'), {
            date: h('time', { datetime: expires.toISOString() }, formatDateTime(expires)),
          }),
        ),
      ),
      revoke,
    );
  }

  async function withdraw(invitation, button) {
    const confirmed = await confirmDialog({
      title: gettext('Withdraw this invitation?'),
      message: interpolate(gettext('The link sent to %(email)s will stop working. You can invite them again later.'), {
        email: invitation.email,
      }),
      confirmLabel: gettext('Withdraw'),
      danger: true,
    });
    if (!confirmed) {
      button.focus();
      return;
    }
    try {
      await whileBusy(button, () => api.delete(`${path}${invitation.id}/`, { signal }));
      state.invitations = state.invitations.filter((item) => item.id !== invitation.id);
      state.count = Math.max(0, state.count - 1);
      draw();
      toast(interpolate(gettext('The invitation to %(email)s was withdrawn.'), { email: invitation.email }), { kind: 'success' });
      email.input.focus();
    } catch (error) {
      if (error.name === 'AbortError') return;
      if (error.code === 'accounts.two_factor_required') showTwoFactorRequired();
      else toast(errorText(error), { kind: 'error' });
    }
  }

  /** @param {boolean} visible whether this person (an admin) sees invitations */
  async function setVisible(visible) {
    const becameVisible = visible && !state.visible;
    state.visible = visible;
    element.hidden = inviteElement.hidden = !visible;
    if (becameVisible) await reload();
  }

  return { inviteElement, element, reload, setVisible };
}

// --- Settings -------------------------------------------------------------------------------------

/** @param {Shared} shared */
export function settingsSection({ organizationId, signal, isAdmin, showTwoFactorRequired }) {
  const hintId = `require-2fa-hint-${organizationId}`;
  const checkbox = h('input', { type: 'checkbox', role: 'switch', id: `require-2fa-${organizationId}`, 'aria-describedby': hintId });
  const element = h(
    'section',
    { class: 'card', 'aria-labelledby': 'settings-title', hidden: true },
    h('h2', { id: 'settings-title' }, gettext('Organization settings')),
    h(
      'div',
      { class: 'switch-field' },
      checkbox,
      h('label', { for: checkbox.id }, gettext('Require two-factor authentication for admins')),
    ),
    h(
      'p',
      { class: 'field-hint', id: hintId },
      gettext('Admins without it cannot manage members, invitations or settings until they turn it on. You need it yourself to switch this on.'),
    ),
  );
  let busy = false;

  const draw = () => {
    element.hidden = !isAdmin();
    if (!busy) checkbox.checked = Boolean(membershipIn(organizationId)?.organization.require_two_factor);
  };

  checkbox.addEventListener('change', async () => {
    const wanted = checkbox.checked;
    busy = true;
    checkbox.disabled = true;
    try {
      await api.patch(`/organizations/${organizationId}/`, { require_two_factor: wanted }, { signal });
      await loadMe();
      toast(
        wanted
          ? gettext('Admins of this organization now need two-factor authentication.')
          : gettext('Admins of this organization no longer need two-factor authentication.'),
        { kind: 'success' },
      );
    } catch (error) {
      if (error.name === 'AbortError') return;
      checkbox.checked = !wanted;
      if (error.code === 'accounts.two_factor_required') showTwoFactorRequired(wanted ? 'setting' : 'rule');
      else toast(errorText(error), { kind: 'error' });
    } finally {
      busy = false;
      checkbox.disabled = false;
      draw();
      checkbox.focus();
    }
  });

  return { element, draw };
}

// --- Leaving --------------------------------------------------------------------------------------

/** @param {Shared & {navigate: (url: string, options?: object) => void}} shared */
export function leaveSection({ organizationId, signal, navigate }) {
  const text = h('p', { class: 'muted' });
  const button = h('button', { type: 'button', class: 'button danger-outline' }, gettext('Leave organization'));
  const element = h(
    'section',
    { class: 'card', 'aria-labelledby': 'leave-title', hidden: true },
    h('h2', { id: 'leave-title' }, gettext('Leave organization')),
    text,
    button,
  );
  let leaving = false;

  const draw = () => {
    element.hidden = !membershipIn(organizationId);
    text.textContent = interpolate(gettext('You will lose access to %(organization)s. To come back, an admin has to invite you again.'), {
      organization: organizationName(organizationId),
    });
  };

  button.addEventListener('click', async () => {
    const name = organizationName(organizationId);
    const confirmed = await confirmDialog({
      title: interpolate(gettext('Leave %(organization)s?'), { organization: name }),
      message: gettext('You will lose access right away. To come back, an admin has to invite you again.'),
      confirmLabel: gettext('Leave'),
      danger: true,
    });
    if (!confirmed) {
      button.focus();
      return;
    }
    leaving = true;
    try {
      await whileBusy(button, () => api.post(`/organizations/${organizationId}/leave/`, undefined, { signal }));
      await loadMe().catch(() => null);
      toast(interpolate(gettext('You left %(organization)s.'), { organization: name }), { kind: 'success' });
      navigate('/', { replace: true });
    } catch (error) {
      leaving = false;
      if (error.name === 'AbortError') return;
      toast(
        error.code === 'accounts.last_org_admin'
          ? interpolate(gettext('You are the only admin of %(organization)s. Make someone else admin before you leave.'), { organization: name })
          : errorText(error),
        { kind: 'error' },
      );
    }
  });

  return { element, draw, isLeaving: () => leaving };
}
