// The chat workspace's state: my rooms in the organization (with unread and mention counts),
// each room's loaded messages, open threads, room details (members and their read
// positions), the people of the organization, and who is typing.
//
// It follows the socket while the workspace is open: every one of my rooms is subscribed, so
// the unread badges move live, and a room added to me is subscribed at once. Delivery over the
// socket is at most once (DESIGN §5), so nothing lives only in an event: resync() re-reads the
// rooms and asks each open timeline and thread for what came after the last message it has.

import { api } from '../api.js';
import { socket } from '../socket.js';
import { newClientId } from './util.js';

const PAGE_SIZE = 50;
const TYPING_SHOWN_MS = 6_000;

/** @typedef {{messages: object[], hasMore: boolean, loaded: boolean, loading: Promise<void>|null}} Timeline */

export class ChatStore {
  /**
   * @param {{organizationId: number, me: {id: number, name: string, avatar_url?: string}, signal: AbortSignal}} options
   */
  constructor({ organizationId, me, signal }) {
    this.organizationId = organizationId;
    this.me = me;
    this.signal = signal;
    /** @type {Map<number, object>} */
    this.rooms = new Map();
    this.roomsLoaded = false;
    /** @type {Map<number, Timeline>} */
    this.timelines = new Map();
    /** @type {Map<number, Timeline & {parent: object|null}>} parent message id -> its replies */
    this.threads = new Map();
    /** @type {Map<number, object>} room id -> detail with members */
    this.details = new Map();
    /** @type {Map<number, object>} user id -> {id, name, avatar_url} */
    this.people = new Map([[me.id, me]]);
    /** "room:thread" -> Map(user id -> {name, until}) */
    this.typing = new Map();
    /** The room on screen (its new messages are read, not counted). */
    this.viewing = null;
    this.listeners = new Map();
    /** topic -> release() */
    this.held = new Map();
    /** Topics the server confirmed on the current connection. */
    this.confirmed = new Set();
    this.stops = [];
    this.typingTimer = null;
  }

  // --- events to the views -----------------------------------------------------------------

  /**
   * @param {'rooms'|'room'|'timeline'|'thread'|'detail'|'typing'|'removed'|'sent'|'subscribed'} event
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

  /** Follow the socket; call stop() when the workspace closes. */
  start() {
    const on = (type, handler) => this.stops.push(socket.on(type, handler));
    on('chat.message.created', (data) => this.messageArrived(data.message));
    on('chat.message.updated', (data) => this.messageChanged(data.message));
    on('chat.room.updated', (data) => this.roomChanged(data));
    on('chat.room.read', (data) => this.readChanged(data));
    on('chat.member.joined', (data) => this.membersChanged(data.room_id));
    on('chat.member.left', (data) => this.memberLeft(data));
    on('chat.room.added', (data) => this.roomAdded(data.room));
    on('chat.room.removed', (data) => this.roomRemoved(data.room_id));
    on('chat.typing', (data) => this.typingArrived(data));
    on('realtime.subscribed', (data) => {
      if (!this.held.has(data.topic)) return;
      this.confirmed.add(data.topic);
      this.emit('subscribed');
    });
    this.stops.push(
      socket.onStatus((status) => {
        if (status !== 'connected') this.confirmed.clear();
      }),
    );
    this.hold(`chat.presence.${this.organizationId}`);
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
    if (release) {
      release();
      this.held.delete(topic);
      this.confirmed.delete(topic);
    }
  }

  /** Whether every topic held is live (the server confirmed it): events will reach us. */
  allSubscribed() {
    return [...this.held.keys()].every((topic) => this.confirmed.has(topic));
  }

  /** After a reconnect: everything that could have changed meanwhile, from REST. */
  async resync() {
    await this.loadRooms();
    for (const [roomId, timeline] of this.timelines) {
      if (roomId === this.viewing && timeline.loaded) await this.catchUp(roomId);
      // A room not on screen is read afresh when it is opened again.
      else if (roomId !== this.viewing) this.timelines.delete(roomId);
    }
    for (const parentId of this.threads.keys()) await this.catchUpThread(parentId);
    if (this.viewing) await this.loadDetail(this.viewing).catch(() => {});
  }

  // --- REST ----------------------------------------------------------------------------------

  roomPath(roomId, rest = '') {
    return `/chat/rooms/${roomId}/${rest}`;
  }

  async loadRooms() {
    const rooms = await api.get(`/organizations/${this.organizationId}/chat/rooms/`, { signal: this.signal });
    const list = Array.isArray(rooms) ? rooms : rooms.results || [];
    const ids = new Set(list.map((room) => room.id));
    for (const id of this.rooms.keys()) {
      if (!ids.has(id)) {
        this.rooms.delete(id);
        this.release(`chat.room.${id}`);
      }
    }
    for (const room of list) {
      this.rooms.set(room.id, room);
      for (const person of room.direct_members || []) this.rememberPerson(person);
      this.hold(`chat.room.${room.id}`);
    }
    this.roomsLoaded = true;
    this.emit('rooms');
  }

  async loadDetail(roomId) {
    const detail = await api.get(this.roomPath(roomId), { signal: this.signal });
    this.details.set(roomId, detail);
    for (const member of detail.members || []) this.rememberPerson(member);
    if (this.rooms.has(roomId)) {
      const known = this.rooms.get(roomId);
      for (const key of ['name', 'topic', 'archived', 'archived_at', 'member_count', 'role', 'notify']) {
        if (key in detail) known[key] = detail[key];
      }
      this.emit('room', roomId);
    }
    this.emit('detail', roomId);
    return detail;
  }

  /** @returns {Timeline} */
  timeline(roomId) {
    if (!this.timelines.has(roomId)) {
      this.timelines.set(roomId, { messages: [], hasMore: false, loaded: false, loading: null });
    }
    return this.timelines.get(roomId);
  }

  /** The newest page of a room, once. */
  async openTimeline(roomId) {
    const timeline = this.timeline(roomId);
    if (timeline.loaded) return timeline;
    if (!timeline.loading) {
      timeline.loading = (async () => {
        const page = await api.get(this.roomPath(roomId, `messages/?limit=${PAGE_SIZE}`), { signal: this.signal });
        // Newest first from the server; events may have arrived meanwhile, keep them.
        const arrived = timeline.messages;
        timeline.messages = [];
        for (const message of [...page.results].reverse()) this.insert(timeline, message);
        for (const message of arrived) this.insert(timeline, message);
        timeline.hasMore = page.has_more;
        timeline.loaded = true;
      })().finally(() => {
        timeline.loading = null;
      });
    }
    await timeline.loading;
    this.emit('timeline', { roomId, change: 'loaded' });
    return timeline;
  }

  /** The page before the oldest message loaded (scrolling up). @returns {Promise<boolean>} more left */
  async loadOlder(roomId) {
    const timeline = this.timeline(roomId);
    const oldest = timeline.messages.find((message) => message.id);
    if (!oldest) return false;
    const page = await api.get(this.roomPath(roomId, `messages/?before=${oldest.id}&limit=${PAGE_SIZE}`), {
      signal: this.signal,
    });
    for (const message of page.results) this.insert(timeline, message);
    timeline.hasMore = page.has_more;
    this.emit('timeline', { roomId, change: 'older' });
    return page.has_more;
  }

  /** Everything after the newest message this timeline has (after a reconnect). */
  async catchUp(roomId) {
    const timeline = this.timeline(roomId);
    for (;;) {
      const newest = this.newestId(timeline.messages);
      const page = await api.get(this.roomPath(roomId, `messages/?after=${newest}&limit=${PAGE_SIZE}`), {
        signal: this.signal,
      });
      for (const message of page.results) this.insert(timeline, message);
      if (!page.has_more || page.results.length === 0) break;
    }
    this.emit('timeline', { roomId, change: 'caught-up' });
  }

  /** A thread: its parent and replies (oldest first). */
  async openThread(parentId) {
    let thread = this.threads.get(parentId);
    if (thread && thread.loaded) return thread;
    thread = { parent: null, messages: [], hasMore: false, loaded: false, loading: null };
    this.threads.set(parentId, thread);
    thread.parent = await api.get(`/chat/messages/${parentId}/`, { signal: this.signal });
    if (thread.parent.author) this.rememberPerson(thread.parent.author);
    await this.catchUpThread(parentId);
    thread.loaded = true;
    this.emit('thread', { parentId, change: 'loaded' });
    return thread;
  }

  closeThread(parentId) {
    this.threads.delete(parentId);
  }

  async catchUpThread(parentId) {
    const thread = this.threads.get(parentId);
    if (!thread) return;
    for (;;) {
      const newest = this.newestId(thread.messages);
      const page = await api.get(`/chat/messages/${parentId}/replies/?after=${newest}&limit=${PAGE_SIZE}`, {
        signal: this.signal,
      });
      for (const message of page.results) this.insert(thread, message);
      if (!page.has_more || page.results.length === 0) break;
    }
    if (thread.loaded) {
      thread.parent = await api.get(`/chat/messages/${parentId}/`, { signal: this.signal }).catch(() => thread.parent);
    }
    this.emit('thread', { parentId, change: 'caught-up' });
  }

  newestId(messages) {
    let newest = 0;
    for (const message of messages) if (message.id && message.id > newest) newest = message.id;
    return newest;
  }

  /** Mark read up to the newest message on screen; the server answers with the counts. */
  async markRead(roomId) {
    const room = this.rooms.get(roomId);
    const timeline = this.timelines.get(roomId);
    if (!room || !timeline) return;
    const newest = this.newestId(timeline.messages);
    if (!newest || (newest <= (room.last_read_message_id || 0) && !room.unread_count && !room.mention_count)) return;
    const answer = await api.post(this.roomPath(roomId, 'read/'), { message_id: newest }, { signal: this.signal });
    Object.assign(room, {
      last_read_message_id: answer.last_read_message_id,
      unread_count: answer.unread_count,
      mention_count: answer.mention_count,
    });
    this.emit('room', roomId);
  }

  // --- sending -----------------------------------------------------------------------------

  /**
   * Send a message (or a reply when parentId is given), shown at once as pending. The
   * client_id makes a retried send the same message on the server.
   * @param {number} roomId
   * @param {{body: string, parentId?: number|null, attachments?: object[], kind?: string}} draft
   */
  async send(roomId, { body, parentId = null, attachments = [], kind = 'text' }) {
    const pending = {
      id: null,
      client_id: newClientId(),
      room_id: roomId,
      author: this.me,
      kind,
      body,
      html: null,
      parent_id: parentId,
      reply_count: 0,
      mentions: [],
      reactions: [],
      attachments,
      created_at: new Date().toISOString(),
      edited_at: null,
      deleted: false,
      pinned: false,
      pending: true,
      failed: null,
    };
    const list = parentId ? this.threads.get(parentId) : this.timeline(roomId);
    if (list) list.messages.push(pending);
    this.changed(pending);
    // One at a time, so messages written quickly keep their order on the server.
    this.sending = (this.sending || Promise.resolve()).then(() => this.deliver(pending));
    await this.sending;
    return pending;
  }

  /** (Re)try a pending message. */
  async deliver(pending) {
    pending.failed = null;
    pending.pending = true;
    this.changed(pending);
    try {
      const message = await api.post(this.roomPath(pending.room_id, 'messages/'), {
        body: pending.body,
        client_id: pending.client_id,
        parent_id: pending.parent_id || undefined,
        attachment_ids: pending.attachments.map((attachment) => attachment.id),
        kind: pending.kind,
      });
      this.messageArrived(message);
      this.emit('sent', { roomId: pending.room_id, message });
    } catch (error) {
      if (error.name === 'AbortError') return;
      pending.pending = false;
      pending.failed = error;
      this.changed(pending);
    }
  }

  /** Give up on a message that could not be sent. */
  discard(pending) {
    for (const list of [this.timelines.get(pending.room_id), this.threads.get(pending.parent_id)]) {
      if (list) list.messages = list.messages.filter((message) => message !== pending);
    }
    this.changed(pending);
  }

  // --- what the socket (or a REST answer) brings -------------------------------------------

  rememberPerson(person) {
    if (person && person.id) this.people.set(person.id, { ...this.people.get(person.id), ...person });
  }

  /** Put a message in a list kept in id order, replacing its pending copy or older version. */
  insert(list, message) {
    const messages = list.messages;
    const existing = messages.findIndex(
      (item) => (message.id && item.id === message.id) || (message.client_id && item.client_id === message.client_id),
    );
    if (existing >= 0) {
      messages[existing] = message;
      // A pending message confirmed after later ones arrived: keep ids in order.
      messages.sort(byId);
      return 'updated';
    }
    messages.push(message);
    messages.sort(byId);
    return 'created';
  }

  messageArrived(message) {
    if (message.author) {
      this.rememberPerson(message.author);
      this.stoppedTyping(message.room_id, message.parent_id, message.author.id);
    }
    if (message.parent_id) {
      const thread = this.threads.get(message.parent_id);
      if (thread) this.insert(thread, message);
      this.changed(message);
      return;
    }
    const timeline = this.timelines.get(message.room_id);
    const isNew = timeline ? this.insert(timeline, message) === 'created' : true;
    const room = this.rooms.get(message.room_id);
    if (room) {
      room.last_message_at = message.created_at;
      const mine = message.author && message.author.id === this.me.id;
      const wasPending = !isNew;
      if (!mine && !wasPending && message.id > (room.last_read_message_id || 0) && message.room_id !== this.viewing) {
        room.unread_count = (room.unread_count || 0) + 1;
        if (this.mentionsMe(message)) room.mention_count = (room.mention_count || 0) + 1;
      }
      this.emit('rooms');
    }
    this.changed(message);
  }

  mentionsMe(message) {
    return (message.mentions || []).includes(this.me.id) || message.mentions_all || message.mentions_here;
  }

  messageChanged(message) {
    if (message.parent_id) {
      const thread = this.threads.get(message.parent_id);
      if (thread) this.insert(thread, message);
    } else {
      const timeline = this.timelines.get(message.room_id);
      if (timeline && timeline.messages.some((item) => item.id === message.id)) this.insert(timeline, message);
    }
    const asParent = this.threads.get(message.id);
    if (asParent) asParent.parent = message;
    this.changed(message);
  }

  /** Tell the views about a message: its room's timeline, or its thread. */
  changed(message) {
    if (message.parent_id) this.emit('thread', { parentId: message.parent_id, message });
    else this.emit('timeline', { roomId: message.room_id, message });
    if (this.threads.has(message.id)) this.emit('thread', { parentId: message.id, message });
  }

  roomChanged(data) {
    const room = this.rooms.get(data.room_id);
    const detail = this.details.get(data.room_id);
    for (const target of [room, detail]) {
      if (!target) continue;
      for (const key of ['name', 'topic', 'archived']) if (key in data) target[key] = data[key];
    }
    this.emit('rooms');
    this.emit('room', data.room_id);
  }

  readChanged(data) {
    const room = this.rooms.get(data.room_id);
    if (!data.user_id || data.user_id === this.me.id) {
      // Read in another of my tabs (or here): the badges go.
      if (room) {
        room.last_read_message_id = Math.max(room.last_read_message_id || 0, data.last_read_message_id || 0);
        if ('unread_count' in data) room.unread_count = data.unread_count;
        if ('mention_count' in data) room.mention_count = data.mention_count;
        if (!('unread_count' in data)) {
          room.unread_count = 0;
          room.mention_count = 0;
        }
        this.emit('rooms');
        this.emit('room', data.room_id);
      }
    }
    const detail = this.details.get(data.room_id);
    const member = detail && (detail.members || []).find((item) => item.id === data.user_id);
    if (member) {
      member.last_read_message_id = data.last_read_message_id;
      this.emit('detail', data.room_id);
    }
  }

  async membersChanged(roomId) {
    const room = this.rooms.get(roomId);
    if (this.details.has(roomId)) await this.loadDetail(roomId).catch(() => {});
    else if (room) this.emit('room', roomId);
  }

  memberLeft(data) {
    if (data.user_id === this.me.id) {
      this.roomRemoved(data.room_id);
      return;
    }
    this.membersChanged(data.room_id);
  }

  roomAdded(room) {
    if (!room || room.organization_id !== this.organizationId) return;
    this.rooms.set(room.id, { ...this.rooms.get(room.id), ...room });
    for (const person of room.direct_members || []) this.rememberPerson(person);
    this.hold(`chat.room.${room.id}`);
    this.emit('rooms');
  }

  roomRemoved(roomId) {
    if (!this.rooms.has(roomId)) return;
    this.rooms.delete(roomId);
    this.timelines.delete(roomId);
    this.details.delete(roomId);
    this.release(`chat.room.${roomId}`);
    this.emit('rooms');
    this.emit('removed', roomId);
  }

  typingArrived(data) {
    if (data.user_id === this.me.id) return;
    const key = `${data.room_id}:${data.thread_id || ''}`;
    if (!this.typing.has(key)) this.typing.set(key, new Map());
    this.typing.get(key).set(data.user_id, { name: data.name, until: Date.now() + TYPING_SHOWN_MS });
    this.emit('typing', { roomId: data.room_id, threadId: data.thread_id || null });
    this.scheduleTypingExpiry();
  }

  /** @returns {string[]} names of the people typing there now */
  typingIn(roomId, threadId = null) {
    const now = Date.now();
    const people = this.typing.get(`${roomId}:${threadId || ''}`);
    if (!people) return [];
    return [...people.values()].filter((item) => item.until > now).map((item) => item.name);
  }

  /** Someone who sent their message stopped typing, even if the timer has not run out. */
  stoppedTyping(roomId, threadId, userId) {
    const people = this.typing.get(`${roomId}:${threadId || ''}`);
    if (people && people.delete(userId)) this.emit('typing', { roomId, threadId });
  }

  scheduleTypingExpiry() {
    clearTimeout(this.typingTimer);
    const now = Date.now();
    let next = Infinity;
    for (const [key, people] of this.typing) {
      for (const [userId, item] of people) {
        if (item.until <= now) {
          people.delete(userId);
          const [roomId, threadId] = key.split(':');
          this.emit('typing', { roomId: Number(roomId), threadId: threadId ? Number(threadId) : null });
        } else next = Math.min(next, item.until);
      }
    }
    if (next !== Infinity) this.typingTimer = setTimeout(() => this.scheduleTypingExpiry(), next - now + 50);
  }
}

/** Messages by id, pending ones (no id yet) last in the order they were written. */
function byId(a, b) {
  if (a.id && b.id) return a.id - b.id;
  if (a.id) return -1;
  if (b.id) return 1;
  return 0;
}
