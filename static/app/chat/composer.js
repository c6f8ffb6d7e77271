// The composer: a textarea where Enter sends and Shift+Enter starts a new line, with an
// autocomplete for "@" (people of the organization, @channel, @here) and ":" (emoji by
// shortcode), the emoji picker, attachments (uploaded first, then sent with the message) and
// voice messages recorded in the browser (MediaRecorder).
//
// Mentions are shown as "@Name" while writing and sent as `<@id>` tokens, which the server
// turns into the highlighted name. A message gets a client id when it is sent: retrying it
// never makes a second copy (see store.js).

import { api } from '../api.js';
import { errorText, h, toast } from '../components.js';
import { gettext, interpolate } from '../i18n.js';
import { socket } from '../socket.js';
import { pickEmoji, searchEmoji } from './emoji.js';
import { icon } from './icons.js';
import { avatar, formatDuration, formatSize, isAbort, mentionsToTokens } from './util.js';

const TYPING_EVERY_MS = 3_000;
const MAX_VOICE_MS = 5 * 60_000;

let composerCounter = 0;

/**
 * @param {{store: import('./store.js').ChatStore, roomId: number, parentId?: number|null,
 *          label: string, placeholder: string, organizationId: number, signal: AbortSignal}} options
 */
export function composer({ store, roomId, parentId = null, label, placeholder, organizationId, signal }) {
  const id = ++composerCounter;
  const textareaId = `composer-${id}`;
  const listboxId = `composer-suggestions-${id}`;
  /** People chosen from the autocomplete, to turn "@Name" into <@id> when sending. */
  let chosen = [];
  /** Attachments uploaded for this message: {id?, name, size, kind, url?, uploading, error} */
  let attachments = [];
  let lastTyping = 0;

  const textarea = h('textarea', {
    id: textareaId,
    class: 'composer-input',
    rows: '1',
    placeholder,
    autocomplete: 'off',
    'aria-autocomplete': 'list',
    'aria-controls': listboxId,
    'aria-expanded': 'false',
    'data-testid': parentId ? 'thread-composer-input' : 'composer-input',
  });
  const suggestions = h('ul', { id: listboxId, class: 'composer-suggestions', role: 'listbox', hidden: true, 'aria-label': gettext('Suggestions') });
  const chips = h('ul', { class: 'composer-attachments', 'aria-label': gettext('Files to send'), hidden: true });
  const fileInput = h('input', { type: 'file', multiple: true, hidden: true, tabindex: '-1' });
  const iconButton = (name, text, props = {}) =>
    h('button', { type: 'button', class: 'toolbar-button', 'aria-label': text, title: text, ...props }, icon(name));
  const emojiButton = iconButton('smile', gettext('Insert emoji'));
  const attachButton = iconButton('attach', gettext('Attach files'));
  const recordButton = iconButton('mic', gettext('Record a voice message'), { 'data-testid': parentId ? null : 'record-voice' });
  const sendButton = h('button', { type: 'submit', class: 'button primary send-button' }, gettext('Send'));
  const recorderArea = h('div', { class: 'recorder', hidden: true });
  const hint = h('p', { class: 'composer-hint', id: `composer-hint-${id}` }, gettext('Enter to send, Shift+Enter for a new line.'));
  textarea.setAttribute('aria-describedby', hint.id);

  const form = h(
    'form',
    { class: 'composer', novalidate: true },
    h('label', { for: textareaId, class: 'visually-hidden' }, label),
    chips,
    recorderArea,
    h('div', { class: 'composer-row' }, textarea, sendButton),
    h('div', { class: 'composer-tools' }, emojiButton, attachButton, recordButton, fileInput, hint),
    suggestions,
  );

  // --- sending ---------------------------------------------------------------------------

  const setEnabled = (enabled, reason = '') => {
    for (const control of [textarea, sendButton, emojiButton, attachButton, recordButton]) control.disabled = !enabled;
    textarea.placeholder = enabled ? placeholder : reason;
  };

  const send = async () => {
    const text = textarea.value.trim();
    const ready = attachments.filter((attachment) => attachment.id);
    if (attachments.some((attachment) => attachment.uploading)) {
      toast(gettext('Wait for the files to finish uploading.'));
      return;
    }
    if (!text && !ready.length) return;
    const body = mentionsToTokens(text, chosen);
    textarea.value = '';
    chosen = [];
    attachments = [];
    drawChips();
    autosize();
    closeSuggestions();
    await store.send(roomId, { body, parentId, attachments: ready });
  };

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
    autosize();
    updateSuggestions();
    if (Date.now() - lastTyping > TYPING_EVERY_MS && textarea.value.trim()) {
      lastTyping = Date.now();
      socket.send({ action: 'typing', room: roomId, thread: parentId });
    }
  });
  textarea.addEventListener('blur', () => setTimeout(closeSuggestions, 150));

  function autosize() {
    textarea.style.height = 'auto';
    textarea.style.height = `${Math.min(textarea.scrollHeight, 200)}px`;
  }

  // --- autocomplete ------------------------------------------------------------------------

  let options = [];
  let active = 0;
  let query = null; // {type: '@'|':', start, text}
  let lookup = 0;

  function currentToken() {
    const caret = textarea.selectionStart;
    const before = textarea.value.slice(0, caret);
    const mention = /(^|\s)@([^\s@]{0,30}(?: [^\s@]{0,30})?)$/.exec(before);
    if (mention) return { type: '@', start: caret - mention[2].length - 1, text: mention[2] };
    const emoji = /(^|\s):([a-z0-9_+-]{2,30})$/i.exec(before);
    if (emoji) return { type: ':', start: caret - emoji[2].length - 1, text: emoji[2] };
    return null;
  }

  async function updateSuggestions() {
    query = currentToken();
    if (!query) {
      closeSuggestions();
      return;
    }
    const ticket = ++lookup;
    let found = [];
    if (query.type === ':') {
      found = (await searchEmoji(query.text).catch(() => [])).map((item) => ({
        kind: 'emoji',
        label: `:${item.code}:`,
        icon: item.char,
        insert: `${item.char} `,
      }));
    } else {
      found = await mentionOptions(query.text);
    }
    if (ticket !== lookup) return; // a later keystroke asked again
    options = found;
    active = 0;
    drawSuggestions();
  }

  async function mentionOptions(text) {
    const wanted = text.toLowerCase();
    const groups = [
      { code: 'channel', description: gettext('Notify everyone in this room') },
      { code: 'here', description: gettext('Notify everyone online in this room') },
    ]
      .filter((group) => group.code.startsWith(wanted))
      .map((group) => ({ kind: 'group', label: `@${group.code}`, description: group.description, insert: `@${group.code} ` }));
    let people = [];
    try {
      const answer = await api.get(
        `/organizations/${organizationId}/chat/people/?q=${encodeURIComponent(text)}`,
        { signal },
      );
      people = (Array.isArray(answer) ? answer : answer.results || []).filter((person) => person.id !== store.me.id);
    } catch (error) {
      if (isAbort(error)) return [];
    }
    return [
      ...people.slice(0, 8).map((person) => ({
        kind: 'person',
        label: person.name,
        description: person.email,
        person,
        insert: `@${person.name} `,
      })),
      ...groups,
    ];
  }

  function drawSuggestions() {
    if (!options.length) {
      closeSuggestions();
      return;
    }
    suggestions.replaceChildren(
      ...options.map((option, index) =>
        h(
          'li',
          {
            id: `${listboxId}-${index}`,
            role: 'option',
            class: 'suggestion',
            'aria-selected': String(index === active),
            onmousedown: (event) => {
              event.preventDefault(); // keep the focus in the textarea
              choose(index);
            },
          },
          option.kind === 'person' ? avatar(option.person, { size: 'small' }) : h('span', { class: 'suggestion-icon', 'aria-hidden': 'true' }, option.icon || '@'),
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
    if (option.kind === 'person') {
      store.rememberPerson(option.person);
      chosen = [...chosen.filter((person) => person.id !== option.person.id), { id: option.person.id, name: option.person.name }];
    }
    closeSuggestions();
    textarea.focus();
    autosize();
  }

  // --- emoji -------------------------------------------------------------------------------

  emojiButton.addEventListener('click', async () => {
    const start = textarea.selectionStart;
    const end = textarea.selectionEnd;
    const picked = await pickEmoji({ title: gettext('Insert emoji') });
    textarea.focus();
    if (!picked) return;
    textarea.value = textarea.value.slice(0, start) + picked.char + textarea.value.slice(end);
    const position = start + picked.char.length;
    textarea.setSelectionRange(position, position);
    autosize();
  });

  // --- attachments -------------------------------------------------------------------------

  attachButton.addEventListener('click', () => fileInput.click());
  fileInput.addEventListener('change', () => {
    for (const file of fileInput.files) upload(file);
    fileInput.value = '';
  });
  form.addEventListener('dragover', (event) => {
    if (event.dataTransfer && [...event.dataTransfer.types].includes('Files')) {
      event.preventDefault();
      form.classList.add('dropping');
    }
  });
  form.addEventListener('dragleave', () => form.classList.remove('dropping'));
  form.addEventListener('drop', (event) => {
    form.classList.remove('dropping');
    if (!event.dataTransfer || !event.dataTransfer.files.length) return;
    event.preventDefault();
    for (const file of event.dataTransfer.files) upload(file);
  });
  textarea.addEventListener('paste', (event) => {
    const files = event.clipboardData ? [...event.clipboardData.files] : [];
    if (files.length) {
      event.preventDefault();
      files.forEach((file) => upload(file));
    }
  });

  /**
   * Upload a file to the room; the message refers to it by id when sent.
   * @param {Blob} file @param {{durationMs?: number, name?: string}} [extra]
   */
  async function upload(file, { durationMs, name } = {}) {
    const entry = { name: name || file.name, size: file.size, uploading: true, error: null };
    attachments.push(entry);
    drawChips();
    const data = new FormData();
    data.append('file', file, entry.name);
    if (durationMs !== undefined) data.append('duration_ms', String(Math.round(durationMs)));
    try {
      const uploaded = await api.postForm(`/chat/rooms/${roomId}/attachments/`, data, { signal });
      Object.assign(entry, uploaded, { uploading: false });
    } catch (error) {
      if (isAbort(error)) return null;
      entry.uploading = false;
      entry.error = error;
      toast(interpolate(gettext('%(name)s was not uploaded: %(reason)s'), { name: entry.name, reason: errorText(error) }), {
        kind: 'error',
      });
      attachments = attachments.filter((item) => item !== entry);
    }
    drawChips();
    return entry.id ? entry : null;
  }

  function drawChips() {
    chips.hidden = attachments.length === 0;
    chips.replaceChildren(
      ...attachments.map((attachment) =>
        h(
          'li',
          { class: 'attachment-chip' },
          h('span', { class: 'attachment-name' }, attachment.name),
          h('span', { class: 'muted' }, attachment.uploading ? gettext('Uploading…') : formatSize(attachment.size)),
          h(
            'button',
            {
              type: 'button',
              class: 'toolbar-button',
              'aria-label': interpolate(gettext('Remove %(name)s'), { name: attachment.name }),
              onclick: () => {
                attachments = attachments.filter((item) => item !== attachment);
                drawChips();
                textarea.focus();
              },
            },
            icon('close'),
          ),
        ),
      ),
    );
  }

  // --- voice -------------------------------------------------------------------------------

  let recording = null; // {recorder, stream, chunks, startedAt, timer, cancelled}

  recordButton.addEventListener('click', () => (recording ? stopRecording() : startRecording()));

  async function startRecording() {
    if (!navigator.mediaDevices || !window.MediaRecorder) {
      toast(gettext('This browser cannot record audio.'), { kind: 'error' });
      return;
    }
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch {
      toast(gettext('The microphone is not available. Allow it in the browser to record a voice message.'), { kind: 'error' });
      return;
    }
    const mimeType = ['audio/webm;codecs=opus', 'audio/webm', 'audio/ogg;codecs=opus', 'audio/mp4'].find((type) =>
      MediaRecorder.isTypeSupported(type),
    );
    const recorder = new MediaRecorder(stream, mimeType ? { mimeType } : undefined);
    recording = { recorder, stream, chunks: [], startedAt: Date.now(), timer: null, cancelled: false };
    recorder.addEventListener('dataavailable', (event) => {
      if (event.data && event.data.size) recording.chunks.push(event.data);
    });
    recorder.addEventListener('stop', finishRecording, { once: true });
    recorder.start(250);

    const elapsed = h('span', { class: 'recorder-time', role: 'timer', 'aria-live': 'off' }, '0:00');
    const stop = h('button', { type: 'button', class: 'button primary', 'data-testid': 'stop-recording' }, gettext('Stop and send'));
    const cancel = h('button', { type: 'button', class: 'button' }, gettext('Cancel'));
    stop.addEventListener('click', stopRecording);
    cancel.addEventListener('click', () => {
      recording.cancelled = true;
      stopRecording();
    });
    recorderArea.replaceChildren(
      h('span', { class: 'recorder-dot', 'aria-hidden': 'true' }),
      h('span', { role: 'status' }, gettext('Recording…')),
      elapsed,
      cancel,
      stop,
    );
    recorderArea.hidden = false;
    recordButton.setAttribute('aria-pressed', 'true');
    recordButton.setAttribute('aria-label', gettext('Stop recording'));
    recording.timer = setInterval(() => {
      const duration = Date.now() - recording.startedAt;
      elapsed.textContent = formatDuration(duration);
      if (duration >= MAX_VOICE_MS) stopRecording();
    }, 250);
    stop.focus();
  }

  function stopRecording() {
    if (!recording || recording.recorder.state === 'inactive') return;
    clearInterval(recording.timer);
    recording.durationMs = Date.now() - recording.startedAt;
    recording.recorder.stop();
  }

  async function finishRecording() {
    const done = recording;
    recording = null;
    done.stream.getTracks().forEach((track) => track.stop());
    recorderArea.hidden = true;
    recorderArea.replaceChildren();
    recordButton.removeAttribute('aria-pressed');
    recordButton.setAttribute('aria-label', gettext('Record a voice message'));
    recordButton.focus();
    if (done.cancelled || !done.chunks.length) return;
    const type = (done.recorder.mimeType || 'audio/webm').split(';')[0];
    const blob = new Blob(done.chunks, { type });
    const extension = type === 'audio/ogg' ? 'ogg' : type === 'audio/mp4' ? 'm4a' : 'webm';
    const entry = await upload(blob, { durationMs: done.durationMs, name: `voice-message.${extension}` });
    if (!entry) return;
    attachments = attachments.filter((item) => item !== entry);
    drawChips();
    await store.send(roomId, { body: '', parentId, attachments: [entry], kind: 'voice' });
  }

  return {
    element: form,
    focus: () => textarea.focus(),
    setEnabled,
    /** Stop a recording in progress (the room is being left). */
    destroy() {
      if (recording) {
        recording.cancelled = true;
        stopRecording();
      }
    },
  };
}
