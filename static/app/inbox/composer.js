// The inbox composer: Reply (to the contact) and Note (internal, for the team) tabs, "/"
// to pick a canned response, "@" to mention an agent in a note, files, and the typing signal.
// Notes look different while written, so nobody sends to the contact what was meant for the
// team.

import { errorText, h, setChildren, toast } from '../components.js';
import { gettext } from '../i18n.js';
import { icon } from '../chat/icons.js';
import { formatSize, mentionsToTokens, newClientId } from '../chat/util.js';
import { socket } from '../socket.js';
import { personName } from './util.js';

const TYPING_EVERY_MS = 3_000;
let counter = 0;

/**
 * @param {{store: import('./store.js').InboxStore, conversationId: number, canReply: boolean,
 *          canNote: boolean}} options
 */
export function inboxComposer({ store, conversationId, canReply, canNote }) {
  const id = ++counter;
  const listboxId = `inbox-suggestions-${id}`;
  let mode = canReply ? 'reply' : 'note';
  let chosen = [];
  let attachments = [];
  let lastTyping = 0;

  const tab = (value, text) =>
    h(
      'button',
      {
        type: 'button',
        role: 'tab',
        id: `inbox-tab-${value}-${id}`,
        class: 'composer-tab',
        'data-testid': `composer-tab-${value}`,
        'aria-controls': `inbox-composer-${id}`,
        onclick: () => setMode(value),
      },
      text,
    );
  const replyTab = tab('reply', gettext('Reply'));
  const noteTab = tab('note', gettext('Internal note'));
  replyTab.disabled = !canReply;
  noteTab.disabled = !canNote;
  const textarea = h('textarea', {
    id: `inbox-composer-input-${id}`,
    class: 'composer-input',
    rows: '2',
    autocomplete: 'off',
    'aria-autocomplete': 'list',
    'aria-controls': listboxId,
    'aria-expanded': 'false',
    'data-testid': 'inbox-composer-input',
  });
  const label = h('label', { for: textarea.id, class: 'visually-hidden' });
  const suggestions = h('ul', { id: listboxId, class: 'composer-suggestions', role: 'listbox', hidden: true, 'aria-label': gettext('Suggestions') });
  const chips = h('ul', { class: 'composer-attachments', 'aria-label': gettext('Files to send'), hidden: true });
  const fileInput = h('input', { type: 'file', multiple: true, hidden: true, tabindex: '-1', 'data-testid': 'inbox-file' });
  const attachButton = h(
    'button',
    { type: 'button', class: 'toolbar-button', 'aria-label': gettext('Attach files'), title: gettext('Attach files') },
    icon('attach'),
  );
  const sendButton = h('button', { type: 'submit', class: 'button primary send-button', 'data-testid': 'inbox-send' });
  const hint = h('p', { class: 'composer-hint' }, gettext('Enter to send, Shift+Enter for a new line. "/" inserts a saved reply.'));
  const panel = h(
    'div',
    { id: `inbox-composer-${id}`, role: 'tabpanel' },
    label,
    chips,
    h('div', { class: 'composer-row' }, textarea, sendButton),
    h('div', { class: 'composer-tools' }, attachButton, fileInput, hint),
    suggestions,
  );
  const form = h(
    'form',
    { class: 'composer inbox-composer', novalidate: true, dataset: { mode } },
    h('div', { class: 'composer-tabs', role: 'tablist', 'aria-label': gettext('Message type') }, replyTab, noteTab),
    panel,
  );

  function setMode(value) {
    mode = value;
    form.dataset.mode = mode;
    for (const [button, name] of [
      [replyTab, 'reply'],
      [noteTab, 'note'],
    ]) {
      button.setAttribute('aria-selected', String(mode === name));
      button.tabIndex = mode === name ? 0 : -1;
    }
    panel.setAttribute('aria-labelledby', (mode === 'note' ? noteTab : replyTab).id);
    const text = mode === 'note' ? gettext('Write an internal note (the contact never sees it)') : gettext('Reply to the contact');
    label.textContent = text;
    textarea.placeholder = text;
    sendButton.textContent = mode === 'note' ? gettext('Add note') : gettext('Send reply');
  }
  setMode(mode);

  // --- sending ---------------------------------------------------------------------------

  async function send() {
    const text = textarea.value.trim();
    if (attachments.some((attachment) => attachment.uploading)) {
      toast(gettext('Wait for the files to finish uploading.'));
      return;
    }
    const ready = attachments.filter((attachment) => attachment.id);
    if (!text && !ready.length) return;
    const body = mode === 'note' ? mentionsToTokens(text, chosen) : text;
    const draft = { body, note: mode === 'note', clientId: newClientId(), attachmentIds: ready.map((item) => item.id) };
    sendButton.disabled = true;
    try {
      await store.send(conversationId, draft);
      textarea.value = '';
      chosen = [];
      attachments = [];
      drawChips();
      closeSuggestions();
    } catch (error) {
      toast(errorText(error), { kind: 'error' });
    } finally {
      sendButton.disabled = false;
      textarea.focus();
    }
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    send();
  });
  textarea.addEventListener('keydown', (event) => {
    if (!suggestions.hidden && handleSuggestionKey(event)) return;
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      send();
    }
  });
  textarea.addEventListener('input', () => {
    updateSuggestions();
    if (Date.now() - lastTyping > TYPING_EVERY_MS && textarea.value.trim()) {
      lastTyping = Date.now();
      socket.send({ action: 'inbox.typing', conversation_id: conversationId, note: mode === 'note' });
    }
  });
  textarea.addEventListener('blur', () => setTimeout(closeSuggestions, 150));

  // --- "/" canned responses and "@" mentions -------------------------------------------------

  let options = [];
  let active = 0;
  let query = null;

  function currentToken() {
    const caret = textarea.selectionStart;
    const before = textarea.value.slice(0, caret);
    const canned = /(^|\s)\/([\w-]{0,40})$/.exec(before);
    if (canned) return { type: '/', start: caret - canned[2].length - 1, text: canned[2].toLowerCase() };
    const mention = mode === 'note' && /(^|\s)@([^\s@]{0,30})$/.exec(before);
    if (mention) return { type: '@', start: caret - mention[2].length - 1, text: mention[2].toLowerCase() };
    return null;
  }

  function updateSuggestions() {
    query = currentToken();
    if (!query) {
      closeSuggestions();
      return;
    }
    if (query.type === '/') {
      options = store.canned
        .filter((item) => item.shortcut.toLowerCase().startsWith(query.text) || item.title.toLowerCase().includes(query.text))
        .slice(0, 8)
        .map((item) => ({ label: `/${item.shortcut}`, description: item.title, insert: item.body }));
    } else {
      options = store.agents
        .map((agent) => ({ id: agent.user_id ?? agent.id, name: personName(agent) }))
        .filter((person) => person.id !== store.me.id && person.name.toLowerCase().includes(query.text))
        .slice(0, 8)
        .map((person) => ({ label: person.name, person, insert: `@${person.name} ` }));
    }
    active = 0;
    drawSuggestions();
  }

  function drawSuggestions() {
    if (!options.length) {
      closeSuggestions();
      return;
    }
    setChildren(
      suggestions,
      ...options.map((option, index) =>
        h(
          'li',
          {
            id: `${listboxId}-${index}`,
            role: 'option',
            class: 'suggestion',
            'aria-selected': String(index === active),
            onmousedown: (event) => {
              event.preventDefault();
              choose(index);
            },
          },
          h('span', { class: 'suggestion-label' }, option.label),
          option.description ? h('span', { class: 'suggestion-description muted' }, option.description) : null,
        ),
      ),
    );
    suggestions.hidden = false;
    textarea.setAttribute('aria-expanded', 'true');
    textarea.setAttribute('aria-activedescendant', `${listboxId}-${active}`);
  }

  function closeSuggestions() {
    suggestions.hidden = true;
    options = [];
    textarea.setAttribute('aria-expanded', 'false');
    textarea.removeAttribute('aria-activedescendant');
  }

  function handleSuggestionKey(event) {
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      active = (active + (event.key === 'ArrowDown' ? 1 : -1) + options.length) % options.length;
      drawSuggestions();
      return true;
    }
    if ((event.key === 'Enter' && !event.shiftKey) || event.key === 'Tab') {
      event.preventDefault();
      choose(active);
      return true;
    }
    if (event.key === 'Escape') {
      event.preventDefault();
      event.stopPropagation();
      closeSuggestions();
      return true;
    }
    return false;
  }

  function choose(index) {
    const option = options[index];
    if (!option || !query) return;
    const caret = textarea.selectionStart;
    const value = textarea.value;
    textarea.value = value.slice(0, query.start) + option.insert + value.slice(caret);
    const position = query.start + option.insert.length;
    textarea.setSelectionRange(position, position);
    if (option.person) chosen = [...chosen.filter((person) => person.id !== option.person.id), option.person];
    closeSuggestions();
    textarea.focus();
  }

  // --- attachments -------------------------------------------------------------------------

  attachButton.addEventListener('click', () => fileInput.click());
  fileInput.addEventListener('change', () => {
    for (const file of fileInput.files) upload(file);
    fileInput.value = '';
  });

  async function upload(file) {
    const item = { name: file.name, size: file.size, uploading: true };
    attachments.push(item);
    drawChips();
    try {
      const uploaded = await store.upload(conversationId, file);
      Object.assign(item, uploaded, { uploading: false });
    } catch (error) {
      attachments = attachments.filter((other) => other !== item);
      toast(errorText(error), { kind: 'error' });
    }
    drawChips();
  }

  function drawChips() {
    chips.hidden = attachments.length === 0;
    setChildren(
      chips,
      ...attachments.map((item) =>
        h(
          'li',
          { class: 'attachment-chip' },
          h('span', { class: 'attachment-name' }, item.name),
          ' ',
          h('span', { class: 'muted' }, item.uploading ? gettext('Uploading…') : formatSize(item.size)),
          h(
            'button',
            {
              type: 'button',
              class: 'toolbar-button',
              'aria-label': gettext('Remove file'),
              onclick: () => {
                attachments = attachments.filter((other) => other !== item);
                drawChips();
              },
            },
            icon('close'),
          ),
        ),
      ),
    );
  }

  return {
    element: form,
    focus: () => textarea.focus(),
  };
}
