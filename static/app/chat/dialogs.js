// The chat's dialogs: create a channel, browse and join public channels, start a direct
// message (one person or a small group), and a room's settings (name, topic, archive,
// members and their roles, invite, remove, leave).

import { api } from '../api.js';
import { confirmDialog, errorText, field, formAlert, h, showFormError, toast, whileBusy } from '../components.js';
import { gettext, interpolate, ngettext } from '../i18n.js';
import { presenceDot } from './presence.js';
import { avatar, debounce, isDirect, roomTitle } from './util.js';

let counter = 0;

/** A modal dialog that removes itself when closed. */
function modal(titleText, ...content) {
  const titleId = `chat-dialog-title-${++counter}`;
  const dialog = h('dialog', { class: 'dialog wide', 'aria-labelledby': titleId }, h('h2', { id: titleId }, titleText), ...content);
  dialog.addEventListener('close', () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  return dialog;
}

/**
 * A searchable list of the organization's people with checkboxes.
 * @param {{organizationId: number, exclude: Set<number>, max?: number, label: string}} options
 */
function peoplePicker({ organizationId, exclude, max = Infinity, label }) {
  const id = ++counter;
  const chosen = new Map();
  const search = h('input', { type: 'search', id: `people-search-${id}`, autocomplete: 'off', placeholder: gettext('Name or e-mail') });
  const list = h('ul', { class: 'people-list', 'aria-label': label });
  const summary = h('p', { class: 'muted', 'aria-live': 'polite' });
  const element = h(
    'div',
    { class: 'people-picker' },
    h('div', { class: 'field' }, h('label', { for: search.id }, label), search),
    summary,
    list,
  );
  const drawSummary = () => {
    summary.textContent = chosen.size
      ? interpolate(ngettext('%(count)s person chosen', '%(count)s people chosen', chosen.size), { count: chosen.size })
      : '';
  };
  const draw = (people) => {
    const shown = people.filter((person) => !exclude.has(person.id));
    if (!shown.length) {
      list.replaceChildren(h('li', { class: 'muted' }, gettext('Nobody found.')));
      return;
    }
    list.replaceChildren(
      ...shown.map((person) => {
        const box = h('input', { type: 'checkbox', id: `person-${id}-${person.id}`, checked: chosen.has(person.id) });
        box.addEventListener('change', () => {
          if (box.checked && chosen.size >= max) {
            box.checked = false;
            toast(interpolate(gettext('Choose at most %(count)s people.'), { count: max }), { kind: 'error' });
            return;
          }
          if (box.checked) chosen.set(person.id, person);
          else chosen.delete(person.id);
          drawSummary();
        });
        return h(
          'li',
          { class: 'person-option' },
          box,
          h(
            'label',
            { for: box.id },
            avatar(person, { size: 'small' }),
            presenceDot(person.id),
            h('span', { class: 'person-name' }, person.name),
            h('span', { class: 'muted person-email' }, person.email),
          ),
        );
      }),
    );
  };
  const load = async () => {
    const query = search.value.trim();
    try {
      const answer = await api.get(`/organizations/${organizationId}/chat/people/${query ? `?q=${encodeURIComponent(query)}` : '?page_size=100'}`);
      draw(Array.isArray(answer) ? answer : answer.results || []);
    } catch (error) {
      list.replaceChildren(h('li', { class: 'error-text', role: 'alert' }, errorText(error)));
    }
  };
  search.addEventListener('input', debounce(load, 250));
  search.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') event.preventDefault();
  });
  load();
  return { element, chosen, focus: () => search.focus() };
}

/** Create a public or private channel. @param {{organizationId: number, navigate: Function}} options */
export function createChannelDialog({ organizationId, navigate }) {
  const id = ++counter;
  const publicChoice = h('input', { type: 'radio', name: `kind-${id}`, id: `kind-public-${id}`, value: 'channel', checked: true });
  const privateChoice = h('input', { type: 'radio', name: `kind-${id}`, id: `kind-private-${id}`, value: 'private' });
  const name = field({ label: gettext('Name'), name: 'name', required: true, maxlength: '80', hint: gettext('Lower case, without spaces works best, e.g. "sales-team".') });
  const topic = field({ label: gettext('Topic (optional)'), name: 'topic', maxlength: '250' });
  const picker = peoplePicker({ organizationId, exclude: new Set(), label: gettext('Add people (optional)') });
  const alert = formAlert();
  const submit = h('button', { type: 'submit', class: 'button primary' }, gettext('Create channel'));
  const form = h(
    'form',
    { class: 'stack', novalidate: true },
    alert,
    h(
      'fieldset',
      { class: 'choice-group' },
      h('legend', null, gettext('Who may join')),
      h('div', { class: 'choice' }, publicChoice, h('label', { for: publicChoice.id }, gettext('Public: anyone in the organization'))),
      h('div', { class: 'choice' }, privateChoice, h('label', { for: privateChoice.id }, gettext('Private: only people invited'))),
    ),
    name.wrapper,
    topic.wrapper,
    picker.element,
    h(
      'div',
      { class: 'dialog-actions' },
      h('button', { type: 'button', class: 'button', onclick: () => dialog.close() }, gettext('Cancel')),
      submit,
    ),
  );
  const dialog = modal(gettext('Create a channel'), form);
  name.input.focus();
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!name.input.value.trim()) {
      name.setError([gettext('Give the channel a name.')]);
      name.input.focus();
      return;
    }
    try {
      const room = await whileBusy(submit, () =>
        api.post(`/organizations/${organizationId}/chat/rooms/`, {
          kind: privateChoice.checked ? 'private' : 'channel',
          name: name.input.value.trim(),
          topic: topic.input.value.trim(),
          member_ids: [...picker.chosen.keys()],
        }),
      );
      dialog.close();
      navigate(`/chat/${room.id}`);
    } catch (error) {
      showFormError([name, topic], alert, error);
    }
  });
}

/** Browse the organization's public channels; join one or open it. */
export function browseChannelsDialog({ organizationId, navigate, onJoined }) {
  const id = ++counter;
  const search = h('input', { type: 'search', id: `channel-search-${id}`, autocomplete: 'off' });
  const list = h('ul', { class: 'channel-list plain-list', 'aria-label': gettext('Public channels') });
  const more = h('button', { type: 'button', class: 'button', hidden: true }, gettext('Load more'));
  let page = 1;
  const dialog = modal(
    gettext('Browse channels'),
    h('div', { class: 'field' }, h('label', { for: search.id }, gettext('Search channels')), search),
    list,
    h('div', { class: 'pagination' }, more),
    h('form', { method: 'dialog', class: 'dialog-actions' }, h('button', { type: 'submit', class: 'button' }, gettext('Close'))),
  );
  const row = (channel) => {
    const action = channel.is_member
      ? h(
          'button',
          { type: 'button', class: 'button', onclick: () => open(channel) },
          gettext('Open'),
        )
      : h(
          'button',
          {
            type: 'button',
            class: 'button primary',
            'aria-label': interpolate(gettext('Join #%(name)s'), { name: channel.name }),
            onclick: async (event) => {
              try {
                await whileBusy(event.currentTarget, () => api.post(`/chat/rooms/${channel.id}/join/`, {}));
                await onJoined();
                open(channel);
              } catch (error) {
                toast(errorText(error), { kind: 'error' });
              }
            },
          },
          gettext('Join'),
        );
    return h(
      'li',
      { class: 'channel-row' },
      h(
        'div',
        { class: 'item-main' },
        h('strong', null, `#${channel.name}`),
        channel.archived ? h('span', { class: 'badge subtle' }, gettext('Archived')) : null,
        channel.topic ? h('p', { class: 'muted' }, channel.topic) : null,
        h('p', { class: 'muted' }, interpolate(ngettext('%(count)s member', '%(count)s members', channel.member_count), { count: channel.member_count })),
      ),
      action,
    );
  };
  const open = (channel) => {
    dialog.close();
    navigate(`/chat/${channel.id}`);
  };
  const load = async ({ append = false } = {}) => {
    page = append ? page + 1 : 1;
    const query = search.value.trim();
    try {
      const answer = await api.get(
        `/organizations/${organizationId}/chat/channels/?page=${page}${query ? `&q=${encodeURIComponent(query)}` : ''}`,
      );
      const rows = (answer.results || []).map(row);
      if (append) list.append(...rows);
      else list.replaceChildren(...(rows.length ? rows : [h('li', { class: 'muted' }, gettext('No channels found.'))]));
      more.hidden = !answer.next;
    } catch (error) {
      list.replaceChildren(h('li', { class: 'error-text', role: 'alert' }, errorText(error)));
    }
  };
  search.addEventListener('input', debounce(() => load(), 250));
  more.addEventListener('click', () => load({ append: true }));
  load();
  search.focus();
}

/** Start a direct message with one person, or a group DM with a few. */
export function directMessageDialog({ organizationId, me, maxOthers, navigate, onOpened }) {
  const picker = peoplePicker({ organizationId, exclude: new Set([me.id]), max: maxOthers, label: gettext('People') });
  const alert = formAlert();
  const submit = h('button', { type: 'submit', class: 'button primary' }, gettext('Start conversation'));
  const form = h(
    'form',
    { class: 'stack', novalidate: true },
    h('p', { class: 'muted' }, gettext('Choose one person for a direct message, or a few for a group conversation.')),
    alert,
    picker.element,
    h(
      'div',
      { class: 'dialog-actions' },
      h('button', { type: 'button', class: 'button', onclick: () => dialog.close() }, gettext('Cancel')),
      submit,
    ),
  );
  const dialog = modal(gettext('New direct message'), form);
  picker.focus();
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!picker.chosen.size) {
      alert.textContent = gettext('Choose at least one person.');
      alert.hidden = false;
      return;
    }
    try {
      const room = await whileBusy(submit, () =>
        api.post(`/organizations/${organizationId}/chat/direct/`, { user_ids: [...picker.chosen.keys()] }),
      );
      await onOpened(room);
      dialog.close();
      navigate(`/chat/${room.id}`);
    } catch (error) {
      showFormError([], alert, error);
    }
  });
}

/** The room's roles, in the order the picker shows them. */
function roomRoleLabel(role) {
  switch (role) {
    case 'owner':
      return gettext('Owner');
    case 'admin':
      return gettext('Admin');
    default:
      return gettext('Member');
  }
}

/**
 * A room's settings and members.
 * @param {{store: import('./store.js').ChatStore, roomId: number, canManage: boolean,
 *          organizationId: number, navigate: Function}} options
 */
export async function roomSettingsDialog({ store, roomId, canManage, organizationId, navigate }) {
  let detail;
  try {
    detail = await store.loadDetail(roomId);
  } catch (error) {
    toast(errorText(error), { kind: 'error' });
    return;
  }
  const channel = !isDirect(detail);
  const sections = [];
  const alert = formAlert();
  sections.push(alert);

  if (channel && canManage) {
    const name = field({ label: gettext('Name'), name: 'name', value: detail.name, maxlength: '80', required: true });
    const topic = field({ label: gettext('Topic'), name: 'topic', value: detail.topic, maxlength: '250' });
    const save = h('button', { type: 'submit', class: 'button primary' }, gettext('Save'));
    const form = h('form', { class: 'stack', novalidate: true }, name.wrapper, topic.wrapper, h('div', { class: 'actions' }, save));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      try {
        const updated = await whileBusy(save, () =>
          api.patch(`/chat/rooms/${roomId}/`, { name: name.input.value.trim(), topic: topic.input.value.trim() }),
        );
        store.roomChanged({ room_id: roomId, name: updated.name, topic: updated.topic, archived: updated.archived });
        toast(gettext('Channel updated.'), { kind: 'success' });
      } catch (error) {
        showFormError([name, topic], alert, error);
      }
    });
    sections.push(form);
  } else if (channel) {
    sections.push(h('p', { class: 'muted' }, detail.topic || gettext('No topic.')));
  }

  // Members
  const members = h('ul', { class: 'member-list plain-list', 'aria-label': gettext('Members') });
  const drawMembers = () => {
    members.replaceChildren(
      ...(detail.members || []).map((member) => {
        const controls = [];
        if (canManage && channel && member.id !== store.me.id) {
          const select = h(
            'select',
            { class: 'compact', 'aria-label': interpolate(gettext('Role of %(name)s'), { name: member.name }) },
            ['owner', 'admin', 'member'].map((role) => h('option', { value: role }, roomRoleLabel(role))),
          );
          select.value = member.role;
          select.addEventListener('change', async () => {
            try {
              await api.patch(`/chat/rooms/${roomId}/members/${member.id}/`, { role: select.value });
              member.role = select.value;
            } catch (error) {
              select.value = member.role;
              toast(errorText(error), { kind: 'error' });
            }
          });
          controls.push(select);
          controls.push(
            h(
              'button',
              {
                type: 'button',
                class: 'button danger-outline',
                'aria-label': interpolate(gettext('Remove %(name)s'), { name: member.name }),
                onclick: async () => {
                  const sure = await confirmDialog({
                    title: gettext('Remove from the channel?'),
                    message: interpolate(gettext('%(name)s will no longer see this channel.'), { name: member.name }),
                    confirmLabel: gettext('Remove'),
                    danger: true,
                  });
                  if (!sure) return;
                  try {
                    await api.delete(`/chat/rooms/${roomId}/members/${member.id}/`);
                    detail.members = detail.members.filter((item) => item.id !== member.id);
                    drawMembers();
                  } catch (error) {
                    toast(errorText(error), { kind: 'error' });
                  }
                },
              },
              gettext('Remove'),
            ),
          );
        } else if (channel) {
          controls.push(h('span', { class: 'badge subtle' }, roomRoleLabel(member.role)));
        }
        return h(
          'li',
          { class: 'member-row' },
          avatar(member, { size: 'small' }),
          presenceDot(member.id),
          h('span', { class: 'person-name' }, member.id === store.me.id ? interpolate(gettext('%(name)s (you)'), { name: member.name }) : member.name),
          h('span', { class: 'member-controls' }, controls),
        );
      }),
    );
  };
  drawMembers();
  sections.push(h('h3', null, interpolate(gettext('Members (%(count)s)'), { count: (detail.members || []).length })), members);

  if (channel && (canManage || detail.kind === 'channel')) {
    const invite = h('button', { type: 'button', class: 'button' }, gettext('Invite people'));
    invite.addEventListener('click', () => {
      dialog.close();
      inviteDialog({ store, roomId, organizationId, existing: new Set((detail.members || []).map((member) => member.id)) });
    });
    sections.push(h('div', { class: 'actions' }, invite));
  }

  const dangerous = [];
  if (channel && canManage) {
    const archive = h('button', { type: 'button', class: 'button danger-outline' }, detail.archived ? gettext('Unarchive channel') : gettext('Archive channel'));
    archive.addEventListener('click', async () => {
      if (!detail.archived) {
        const sure = await confirmDialog({
          title: gettext('Archive this channel?'),
          message: gettext('Its history stays readable, but nobody can post in it until it is unarchived.'),
          confirmLabel: gettext('Archive'),
          danger: true,
        });
        if (!sure) return;
      }
      try {
        await api.post(`/chat/rooms/${roomId}/${detail.archived ? 'unarchive' : 'archive'}/`, {});
        dialog.close();
        await store.loadDetail(roomId);
        store.roomChanged({ room_id: roomId, archived: !detail.archived });
      } catch (error) {
        toast(errorText(error), { kind: 'error' });
      }
    });
    dangerous.push(archive);
  }
  if (channel) {
    const leave = h('button', { type: 'button', class: 'button danger-outline' }, gettext('Leave channel'));
    leave.addEventListener('click', async () => {
      const sure = await confirmDialog({
        title: gettext('Leave this channel?'),
        message:
          detail.kind === 'private'
            ? gettext('You will need a new invitation to come back.')
            : gettext('You can join again at any time.'),
        confirmLabel: gettext('Leave'),
        danger: true,
      });
      if (!sure) return;
      try {
        await api.post(`/chat/rooms/${roomId}/leave/`, {});
        dialog.close();
        store.roomRemoved(roomId);
        navigate('/chat');
      } catch (error) {
        toast(errorText(error), { kind: 'error' });
      }
    });
    dangerous.push(leave);
  }
  if (dangerous.length) sections.push(h('div', { class: 'actions danger-zone' }, dangerous));

  const dialog = modal(
    interpolate(gettext('Settings of %(room)s'), { room: roomTitle(detail) }),
    ...sections,
    h('form', { method: 'dialog', class: 'dialog-actions' }, h('button', { type: 'submit', class: 'button' }, gettext('Close'))),
  );
}

function inviteDialog({ store, roomId, organizationId, existing }) {
  const picker = peoplePicker({ organizationId, exclude: existing, label: gettext('People to invite') });
  const alert = formAlert();
  const submit = h('button', { type: 'submit', class: 'button primary' }, gettext('Invite'));
  const form = h(
    'form',
    { class: 'stack', novalidate: true },
    alert,
    picker.element,
    h(
      'div',
      { class: 'dialog-actions' },
      h('button', { type: 'button', class: 'button', onclick: () => dialog.close() }, gettext('Cancel')),
      submit,
    ),
  );
  const dialog = modal(gettext('Invite people'), form);
  picker.focus();
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!picker.chosen.size) {
      alert.textContent = gettext('Choose at least one person.');
      alert.hidden = false;
      return;
    }
    try {
      await whileBusy(submit, () => api.post(`/chat/rooms/${roomId}/members/`, { user_ids: [...picker.chosen.keys()] }));
      await store.loadDetail(roomId);
      dialog.close();
      toast(gettext('Invitations sent.'), { kind: 'success' });
    } catch (error) {
      showFormError([], alert, error);
    }
  });
}

/** The room's pinned messages, in a dialog. */
export async function pinsDialog({ roomId, onOpen }) {
  let pins;
  try {
    pins = await api.get(`/chat/rooms/${roomId}/pins/`);
  } catch (error) {
    toast(errorText(error), { kind: 'error' });
    return;
  }
  const list = Array.isArray(pins) ? pins : pins.results || [];
  const dialog = modal(
    gettext('Pinned messages'),
    list.length
      ? h(
          'ul',
          { class: 'plain-list pin-list' },
          list.map((message) => {
            const body = h('div', { class: 'message-body' });
            // Safe: the server's rendering of escaped text (chat/markup.py).
            body.innerHTML = message.html;
            return h(
              'li',
              null,
              h('div', { class: 'item-main' }, h('strong', null, message.author ? message.author.name : gettext('Someone')), body),
              onOpen && message.reply_count
                ? h('button', { type: 'button', class: 'link-button', onclick: () => (dialog.close(), onOpen(message)) }, gettext('Open thread'))
                : null,
            );
          }),
        )
      : h('p', { class: 'muted' }, gettext('Nothing is pinned here yet.')),
    h('form', { method: 'dialog', class: 'dialog-actions' }, h('button', { type: 'submit', class: 'button' }, gettext('Close'))),
  );
}
