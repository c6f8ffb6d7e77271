// The inbox's state while the screen is open: the unresolved conversations this person can
// see (the counts and the list are drawn from them), the open conversation's messages, the
// organization's agents and canned responses, my availability, and who is typing.
//
// It follows `queueing.inbox.<org>` (every conversation's changes) and
// `queueing.conversation.<id>` for the open one (its messages and typing). Delivery over the
// socket is at most once (DESIGN §5): resync() re-reads the list and the open conversation's
// messages after the last one it has.

import { api } from '../api.js';
import { socket } from '../socket.js';
import { inboxPath, resultsOf, UNRESOLVED } from './util.js';

const TYPING_SHOWN_MS = 6_000;
// Pages of each status read at start; more than this many unresolved conversations per
// status is a backlog the filters and the search are for.
const MAX_PAGES = 5;

export class InboxStore {
  /** @param {{organizationId: number, me: {id: number, name: string}, signal: AbortSignal}} options */
  constructor({ organizationId, me, signal }) {
    this.organizationId = organizationId;
    this.me = me;
    this.signal = signal;
    /** @type {Map<number, object>} id -> ConversationData */
    this.conversations = new Map();
    this.loaded = false;
    /** conversation id -> messages (id order) */
    this.messages = new Map();
    this.agents = [];
    this.canned = [];
    this.agentMe = null;
    /** conversation id -> Map(key -> {name, until}) */
    this.typing = new Map();
    this.listeners = new Map();
    this.held = new Map();
    this.confirmed = new Set();
    this.stops = [];
    this.typingTimer = null;
  }

  path(rest = '') {
    return inboxPath(this.organizationId, rest);
  }

  /**
   * @param {'conversations'|'conversation'|'created'|'messages'|'typing'|'agents'|'me'|'subscribed'} event
   * @param {(payload: any) => void} listener @returns {() => void}
   */
  on(event, listener) {
    if (!this.listeners.has(event)) this.listeners.set(event, new Set());
    this.listeners.get(event).add(listener);
    return () => this.listeners.get(event)?.delete(listener);
  }

  emit(event, payload) {
    for (const listener of this.listeners.get(event) || []) {
      try {
        listener(payload);
      } catch (error) {
        console.error(error);
      }
    }
  }

  // --- lifetime ----------------------------------------------------------------------------

  start() {
    const on = (type, handler) => this.stops.push(socket.on(type, handler));
    on('inbox.conversation.created', (data) => {
      if (this.conversationArrived(data)) this.emit('created', data);
    });
    on('inbox.conversation.updated', (data) => this.conversationArrived(data));
    on('inbox.message.created', (data) => this.messageArrived(data.conversation_id, data.message));
    on('inbox.typing', (data) => this.typingArrived(data));
    on('realtime.subscribed', (data) => {
      if (!this.held.has(data.topic)) return;
      this.confirmed.add(data.topic);
      this.emit('subscribed');
    });
    this.stops.push(
      socket.onStatus((status) => {
        if (status !== 'connected') this.confirmed.clear();
        this.emit('subscribed');
      }),
    );
    this.hold(`queueing.inbox.${this.organizationId}`);
  }

  stop() {
    this.stops.splice(0).forEach((stop) => stop());
    for (const release of this.held.values()) release();
    this.held.clear();
    clearTimeout(this.typingTimer);
  }

  hold(topic) {
    if (!this.held.has(topic)) this.held.set(topic, socket.subscribe(topic));
  }

  release(topic) {
    const release = this.held.get(topic);
    if (!release) return;
    release();
    this.held.delete(topic);
    this.confirmed.delete(topic);
  }

  /** Every topic held was confirmed by the server: events sent now reach this page. */
  allSubscribed() {
    return socket.status === 'connected' && [...this.held.keys()].every((topic) => this.confirmed.has(topic));
  }

  /** Follow one conversation's messages and typing (the one on screen). */
  follow(conversationId) {
    for (const topic of this.held.keys()) {
      if (topic.startsWith('queueing.conversation.') && topic !== `queueing.conversation.${conversationId}`) this.release(topic);
    }
    if (conversationId) this.hold(`queueing.conversation.${conversationId}`);
  }

  // --- REST ----------------------------------------------------------------------------------

  /** The unresolved conversations I can see (view=all, each status in turn). */
  async loadConversations() {
    const fresh = new Map();
    for (const status of UNRESOLVED) {
      let url = this.path(`conversations/?view=all&status=${status}`);
      for (let page = 0; url && page < MAX_PAGES; page += 1) {
        const answer = await api.get(url, { signal: this.signal });
        for (const conversation of resultsOf(answer)) fresh.set(conversation.id, conversation);
        url = answer && answer.next ? relativeApiPath(answer.next) : null;
      }
    }
    // Keep the open conversation even when it is resolved (it stays on screen).
    for (const [id, conversation] of this.conversations) {
      if (!fresh.has(id) && !UNRESOLVED.has(conversation.status) && this.messages.has(id)) fresh.set(id, conversation);
    }
    this.conversations = fresh;
    this.loaded = true;
    this.emit('conversations');
  }

  /** A search or the resolved ones: straight from the server, not kept. */
  async search({ status, q }) {
    const query = new URLSearchParams({ view: 'all' });
    if (status) query.set('status', status);
    if (q) query.set('q', q);
    return resultsOf(await api.get(this.path(`conversations/?${query}`), { signal: this.signal }));
  }

  async loadConversation(conversationId) {
    const conversation = await api.get(this.path(`conversations/${conversationId}/`), { signal: this.signal });
    this.put(conversation);
    return conversation;
  }

  async loadMessages(conversationId) {
    const list = this.messages.get(conversationId) || [];
    const newest = list.reduce((max, message) => Math.max(max, message.id || 0), 0);
    for (let page = 0; page < 50; page += 1) {
      const after = list.reduce((max, message) => Math.max(max, message.id || 0), newest);
      const answer = await api.get(this.path(`conversations/${conversationId}/messages/${after ? `?after=${after}` : ''}`), {
        signal: this.signal,
      });
      const results = resultsOf(answer);
      for (const message of results) insert(list, message);
      if (!answer || !answer.has_more || results.length === 0) break;
    }
    this.messages.set(conversationId, list);
    this.emit('messages', conversationId);
    return list;
  }

  async loadAgents() {
    this.agents = resultsOf(await api.get(this.path('agents/'), { signal: this.signal }));
    this.emit('agents');
  }

  async loadCanned() {
    this.canned = resultsOf(await api.get(this.path('canned/'), { signal: this.signal }));
  }

  async loadMe() {
    this.agentMe = await api.get(this.path('agents/me/'), { signal: this.signal });
    this.emit('me');
  }

  async setAvailability(availability) {
    this.agentMe = await api.patch(this.path('agents/me/'), { availability }, { signal: this.signal });
    this.emit('me');
  }

  /** After a reconnect: the list, and the open conversation's messages after the newest. */
  async resync(openId) {
    await this.loadConversations();
    if (openId) {
      await this.loadConversation(openId).catch(() => {});
      await this.loadMessages(openId);
    }
    await this.loadMe().catch(() => {});
  }

  // --- commands (each answers the conversation as it is now) ---------------------------------

  async command(conversationId, rest, json, method = 'post') {
    const answer = await api[method](this.path(`conversations/${conversationId}/${rest}`), json);
    if (answer && answer.id) this.put(answer);
    return answer;
  }

  async pullNext() {
    const conversation = await api.post(this.path('conversations/pull/'), {});
    this.put(conversation);
    return conversation;
  }

  /** Send a reply or a note; the client_id makes a retried send the same message. */
  async send(conversationId, { body, note, clientId, attachmentIds }) {
    const message = await api.post(this.path(`conversations/${conversationId}/messages/`), {
      body,
      note,
      client_id: clientId,
      attachment_ids: attachmentIds,
    });
    this.messageArrived(conversationId, message);
    return message;
  }

  async upload(conversationId, file) {
    const form = new FormData();
    form.append('file', file);
    return api.postForm(this.path(`conversations/${conversationId}/attachments/`), form);
  }

  // --- what the socket (or a REST answer) brings -------------------------------------------

  put(conversation) {
    this.conversations.set(conversation.id, { ...this.conversations.get(conversation.id), ...conversation });
    this.emit('conversations');
    this.emit('conversation', conversation.id);
  }

  /** @returns {boolean} whether it is one of this organization's */
  conversationArrived(data) {
    if (!data || !data.id) return false;
    if (data.organization_id && data.organization_id !== this.organizationId) return false;
    this.put(data);
    return true;
  }

  messageArrived(conversationId, message) {
    if (!message) return;
    const list = this.messages.get(conversationId);
    if (list) insert(list, message);
    const typing = this.typing.get(conversationId);
    const key = message.by_contact ? 'contact' : message.author && `user:${message.author.id}`;
    if (typing && key && typing.delete(key)) this.emit('typing', conversationId);
    if (list) this.emit('messages', conversationId);
  }

  typingArrived(data) {
    if (!data || !data.conversation_id) return;
    if (!data.contact && data.user_id === this.me.id) return;
    const key = data.contact ? 'contact' : `user:${data.user_id}`;
    if (!this.typing.has(data.conversation_id)) this.typing.set(data.conversation_id, new Map());
    this.typing.get(data.conversation_id).set(key, { name: data.name || '', contact: Boolean(data.contact), note: Boolean(data.note), until: Date.now() + TYPING_SHOWN_MS });
    this.emit('typing', data.conversation_id);
    this.scheduleTypingExpiry();
  }

  /** @returns {{name: string, contact: boolean}[]} who is typing in a conversation now */
  typingIn(conversationId) {
    const now = Date.now();
    const people = this.typing.get(conversationId);
    if (!people) return [];
    return [...people.values()].filter((item) => item.until > now);
  }

  scheduleTypingExpiry() {
    clearTimeout(this.typingTimer);
    const now = Date.now();
    let next = Infinity;
    for (const [conversationId, people] of this.typing) {
      for (const [key, item] of people) {
        if (item.until <= now) {
          people.delete(key);
          this.emit('typing', conversationId);
        } else next = Math.min(next, item.until);
      }
    }
    if (next !== Infinity) this.typingTimer = setTimeout(() => this.scheduleTypingExpiry(), next - now + 50);
  }
}

/** Put a message in an id-ordered list, replacing an older copy (same id or client id). */
function insert(list, message) {
  const existing = list.findIndex(
    (item) => (message.id && item.id === message.id) || (message.client_id && item.client_id === message.client_id),
  );
  if (existing >= 0) list[existing] = { ...list[existing], ...message };
  else list.push(message);
  list.sort((a, b) => (a.id || Infinity) - (b.id || Infinity));
}

/** A page's `next` link (absolute) as a path under the API base, for api.get(). */
function relativeApiPath(next) {
  const url = new URL(next, window.location.origin);
  const base = url.pathname.indexOf('/inbox/');
  return url.pathname.slice(base) + url.search;
}
