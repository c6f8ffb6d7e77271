// An organization's members. Org admins change roles, remove people, invite new ones (and
// withdraw pending invitations) and set the organization's 2FA rule; other members see the
// same list read-only. Everyone may leave. The list follows `accounts.organization.<id>`
// live, and re-reads the page through REST after the socket reconnects (events sent
// meanwhile are lost).

import { api } from '../api.js';
import { getUser, loadMe, membershipIn } from '../auth.js';
import { confirmDialog, errorText, h, loading, toast } from '../components.js';
import { gettext, interpolate, ngettext } from '../i18n.js';
import { ROLES, roleLabel } from '../roles.js';
import { socket } from '../socket.js';
import { invitationsSection, leaveSection, settingsSection, twoFactorRequiredNotice } from './organization.js';
import { notFoundContent } from './notfound.js';

export function render(context) {
  const { main, params, query, signal, setTitle, onCleanup, onResync } = context;
  const organizationId = Number(params.organizationId);
  const page = Math.max(1, Number.parseInt(query.get('page') || '1', 10) || 1);
  // `missedWhileLoading`: an event came before the first page did; read it again once loaded,
  // since the response may predate the change.
  const state = { members: [], count: 0, next: null, previous: null, loaded: false, missedWhileLoading: false };

  setTitle(gettext('Members'));
  const heading = h('h1', null, gettext('Members'));
  const summary = h('p', { class: 'muted', 'aria-live': 'polite' });
  const notice = h('p', { class: 'notice', hidden: true });
  const liveNotice = h('p', { class: 'notice warning', role: 'status', hidden: true });
  const body = h('div', null, loading());
  const isAdmin = () => membershipIn(organizationId)?.role === 'org_admin';
  // The organization may require 2FA of its admins: any refusal for that explains itself here.
  const twoFactorNotice = twoFactorRequiredNotice();
  const shared = { organizationId, signal, isAdmin, showTwoFactorRequired: twoFactorNotice.show };
  const invitations = invitationsSection(shared);
  const settings = settingsSection(shared);
  const leave = leaveSection({ ...shared, navigate: context.navigate });
  main.append(
    heading,
    summary,
    notice,
    liveNotice,
    twoFactorNotice.element,
    invitations.inviteElement,
    body,
    invitations.element,
    settings.element,
    leave.element,
  );

  /** Show what this person may do here (admin or not), after loading or a change of role. */
  function drawSections() {
    settings.draw();
    leave.draw();
    // In turn rather than at once: see the note on SQLite in security.js.
    invitations.setVisible(isAdmin()).then(() => twoFactorNotice.check(membershipIn(organizationId)));
  }

  // --- drawing ---------------------------------------------------------------------------

  const organizationName = () => membershipIn(organizationId)?.organization.name;

  function drawHeading() {
    const name = organizationName();
    const title = name ? interpolate(gettext('Members of %(organization)s'), { organization: name }) : gettext('Members');
    heading.textContent = title;
    setTitle(title);
  }

  function drawSummary() {
    summary.textContent = interpolate(
      ngettext('%(count)s member', '%(count)s members', state.count),
      { count: state.count },
    );
    notice.hidden = isAdmin();
    if (!isAdmin()) notice.textContent = gettext('Only organization admins can change roles or remove members.');
  }

  function drawList() {
    drawHeading();
    drawSummary();
    drawSections();
    const admin = isAdmin();
    const table = h(
      'table',
      { class: 'members-table' },
      h('caption', { class: 'visually-hidden' }, heading.textContent),
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          h('th', { scope: 'col' }, gettext('Name')),
          h('th', { scope: 'col' }, gettext('E-mail')),
          h('th', { scope: 'col' }, gettext('Role')),
          admin ? h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, gettext('Actions'))) : null,
        ),
      ),
      h('tbody', null, state.members.map((member) => memberRow(member, admin))),
    );
    body.replaceChildren(
      ...[
        state.members.length ? table : h('p', { class: 'muted' }, gettext('No members on this page.')),
        pagination(),
      ].filter(Boolean),
    );
  }

  function memberRow(member, admin) {
    const me = getUser();
    const name = member.user.display_name || member.user.email;
    const isMe = me && member.user.id === me.id;
    const roleCell = admin ? roleSelect(member, name) : h('span', { class: 'badge' }, roleLabel(member.role));
    return h(
      'tr',
      { dataset: { membershipId: String(member.id) } },
      h(
        'td',
        { 'data-label': gettext('Name') },
        h('span', null, name, isMe ? h('span', { class: 'badge subtle' }, gettext('you')) : null),
      ),
      h('td', { 'data-label': gettext('E-mail') }, member.user.email),
      h('td', { 'data-label': gettext('Role') }, roleCell),
      admin
        ? h(
            'td',
            { class: 'actions' },
            h(
              'button',
              {
                type: 'button',
                class: 'button danger-outline',
                'aria-label': interpolate(gettext('Remove %(name)s'), { name }),
                onclick: () => removeMember(member),
              },
              gettext('Remove'),
            ),
          )
        : null,
    );
  }

  function roleSelect(member, name) {
    const select = h(
      'select',
      { class: 'compact', 'aria-label': interpolate(gettext('Role of %(name)s'), { name }) },
      ROLES.map((role) => h('option', { value: role }, roleLabel(role))),
    );
    select.value = member.role;
    select.addEventListener('change', () => changeRole(member, select));
    return select;
  }

  function pagination() {
    if (!state.next && !state.previous) return null;
    const link = (target, label) => h('a', { class: 'button', href: `?page=${target}` }, label);
    return h(
      'nav',
      { class: 'pagination', 'aria-label': gettext('Pages') },
      state.previous ? link(page - 1, gettext('Previous page')) : null,
      h('span', null, interpolate(gettext('Page %(page)s'), { page })),
      state.next ? link(page + 1, gettext('Next page')) : null,
    );
  }

  // --- reading -----------------------------------------------------------------------------

  async function load() {
    try {
      // The heading needs the organization's name, which comes with the person's memberships.
      if (!membershipIn(organizationId)) await loadMe();
      state.missedWhileLoading = false;
      const result = await api.get(`/organizations/${organizationId}/members/?page=${page}`, { signal });
      Object.assign(state, {
        members: result.results,
        count: result.count,
        next: result.next,
        previous: result.previous,
        loaded: true,
      });
      drawList();
      if (state.missedWhileLoading) load();
    } catch (error) {
      if (error.name === 'AbortError') return;
      // A resync that failed because the connection dropped again: keep showing what we
      // have; the header already says we are disconnected and the next reconnect resyncs.
      if (state.loaded && error.code === 'network_error') return;
      // "Not found" for an organization the person is not in: say no more than that.
      if (error.status === 404) {
        release();
        setTitle(gettext('Page not found'));
        main.replaceChildren(notFoundContent());
        return;
      }
      body.replaceChildren(
        h('p', { class: 'error-text' }, errorText(error)),
        h('button', { type: 'button', class: 'button', onclick: load }, gettext('Try again')),
      );
    }
  }

  // --- writing -----------------------------------------------------------------------------

  async function changeRole(member, select) {
    const previousRole = member.role;
    select.disabled = true;
    try {
      const updated = await api.patch(`/organizations/${organizationId}/members/${member.id}/`, {
        role: select.value,
      });
      replaceMember({ ...member, ...updated });
      toast(
        interpolate(gettext('%(name)s is now %(role)s.'), {
          name: member.user.display_name || member.user.email,
          role: roleLabel(select.value),
        }),
        { kind: 'success' },
      );
      if (member.user.id === getUser()?.id) await afterMyMembershipChanged();
    } catch (error) {
      select.value = previousRole;
      if (error.code === 'accounts.two_factor_required') twoFactorNotice.show();
      else {
        toast(
          error.code === 'accounts.last_org_admin'
            ? gettext('An organization needs at least one admin. Make someone else admin first.')
            : errorText(error),
          { kind: 'error' },
        );
      }
    } finally {
      select.disabled = false;
    }
  }

  async function removeMember(member) {
    const name = member.user.display_name || member.user.email;
    const confirmed = await confirmDialog({
      title: gettext('Remove member?'),
      message: interpolate(gettext('%(name)s will lose access to %(organization)s.'), {
        name,
        organization: organizationName() || '',
      }),
      confirmLabel: gettext('Remove'),
      danger: true,
    });
    if (!confirmed) return;
    try {
      await api.delete(`/organizations/${organizationId}/members/${member.id}/`);
      dropMember(member.id);
      toast(interpolate(gettext('%(name)s was removed.'), { name }), { kind: 'success' });
      if (member.user.id === getUser()?.id) await afterMyMembershipChanged();
    } catch (error) {
      if (error.code === 'accounts.two_factor_required') twoFactorNotice.show();
      else {
        toast(
          error.code === 'accounts.last_org_admin'
            ? gettext('An organization needs at least one admin. Make someone else admin first.')
            : errorText(error),
          { kind: 'error' },
        );
      }
    }
  }

  /** My own role changed or I was removed: refresh what I may do here, or leave. */
  async function afterMyMembershipChanged() {
    const name = organizationName();
    await loadMe();
    if (!membershipIn(organizationId)) {
      toast(interpolate(gettext('You are no longer a member of %(organization)s.'), { organization: name || '' }));
      context.navigate('/', { replace: true });
      return;
    }
    drawList();
  }

  // --- applying changes (ours and live events) ---------------------------------------------

  function replaceMember(member) {
    const index = state.members.findIndex((m) => m.id === member.id);
    if (index === -1) return;
    state.members[index] = member;
    redrawKeepingFocus();
  }

  function dropMember(membershipId) {
    const before = state.members.length;
    state.members = state.members.filter((m) => m.id !== membershipId);
    if (state.members.length !== before) state.count -= 1;
    redrawKeepingFocus();
  }

  /**
   * Live events redraw the list; put focus back on the same control of the same row so a
   * keyboard user is not thrown to the top of the page by someone else's change.
   */
  function redrawKeepingFocus() {
    const active = document.activeElement;
    const row = active && active.closest && active.closest('tr[data-membership-id]');
    const id = row && row.dataset.membershipId;
    const tag = active && active.tagName;
    drawList();
    if (!id) return;
    const again = body.querySelector(`tr[data-membership-id="${id}"] ${tag === 'SELECT' ? 'select' : 'button'}`);
    if (again) again.focus();
  }

  const topic = `accounts.organization.${organizationId}`;

  /** Is this event about this organization, and is the list there to apply it to? */
  const applies = (data) => {
    if (Number(data.organization_id) !== organizationId || !data.membership) return false;
    if (!state.loaded) state.missedWhileLoading = true;
    return state.loaded;
  };

  const stopListening = [
    socket.on('accounts.membership.created', (data) => {
      if (!applies(data)) return;
      // Most new members come through an invitation, which is then no longer pending.
      invitations.reload();
      if (state.members.some((m) => m.id === data.membership.id)) return;
      state.count += 1;
      // New members sort last, so they only appear here when this is the last page.
      if (!state.next) state.members.push(data.membership);
      redrawKeepingFocus();
    }),
    socket.on('accounts.membership.updated', (data) => {
      if (!applies(data)) return;
      replaceMember(data.membership);
      if (data.membership.user && data.membership.user.id === getUser()?.id) afterMyMembershipChanged();
    }),
    socket.on('accounts.membership.deleted', (data) => {
      if (!applies(data)) return;
      const mine = membershipIn(organizationId)?.id === data.membership.id;
      dropMember(data.membership.id);
      // Leaving from this screen handles its own way out.
      if (mine && !leave.isLeaving()) afterMyMembershipChanged();
    }),
    socket.on('realtime.error', (data) => {
      if (data.topic !== topic) return;
      liveNotice.hidden = false;
      liveNotice.textContent = gettext('Live updates are not available for this list. Reload the page to see changes.');
    }),
  ];
  const unsubscribe = socket.subscribe(topic);
  const release = () => {
    unsubscribe();
    stopListening.forEach((stop) => stop());
  };
  onCleanup(release);
  // In turn rather than at once: see the note on SQLite in security.js.
  onResync(() => {
    loadMe()
      .catch(() => null)
      .then(load)
      .then(() => invitations.reload());
  });

  load();
}
