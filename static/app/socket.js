// The app's one WebSocket (/ws/), shared by every screen.
//
// Delivery over the socket is at most once (DESIGN §5): an event sent while we were
// disconnected is gone. So the socket never holds state of its own. After every REconnect it
// re-subscribes to the screen's topics, waits for the server to confirm them, and only then
// calls the current screen's resync hook, which re-reads what it shows through REST. Waiting
// for the confirmations closes the gap in which an event could happen after the REST read but
// before the subscription existed.

import { config } from './config.js';

const HEARTBEAT_MS = 25_000;
const BACKOFF_FIRST_MS = 1_000;
const BACKOFF_CAP_MS = 30_000;
// Resync anyway if some subscription is never confirmed, rather than staying stale forever.
const RESUBSCRIBE_TIMEOUT_MS = 5_000;

/** @typedef {'connecting'|'connected'|'disconnected'} SocketStatus */

class RealtimeSocket {
  constructor() {
    /** @type {WebSocket|null} */
    this.ws = null;
    /** @type {SocketStatus} */
    this.status = 'disconnected';
    this.wanted = false; // true between connect() and disconnect()
    this.attempt = 0; // failed attempts since the last successful open
    this.hasConnected = false; // so an open can be told apart from a RE-connect
    this.retryTimer = null;
    this.heartbeatTimer = null;
    this.resubscribeTimer = null;
    this.lastFrameAt = 0;
    this.lastPingAt = 0;
    this.awaitingResync = false;
    /** topic -> number of holders; a topic is subscribed while anyone holds it */
    this.topics = new Map();
    /** topics re-sent after a reconnect and not yet confirmed */
    this.pendingTopics = new Set();
    /** event type (or "*") -> handlers */
    this.handlers = new Map();
    this.statusListeners = new Set();
    this.refusedListeners = new Set();
    this.resyncHook = null;
    this.opened = false; // whether the current WebSocket ever opened

    // Reconnect at once when the network comes back instead of waiting out the backoff.
    window.addEventListener('online', () => {
      if (this.wanted && this.status === 'disconnected') this.reconnectNow();
    });
    // And say so at once when it goes: the socket may take a heartbeat or two to notice, and
    // meanwhile the screen would claim to be live.
    window.addEventListener('offline', () => {
      if (!this.wanted || this.status === 'disconnected') return;
      this.dropSocket();
      this.setStatus('disconnected');
      this.scheduleReconnect();
    });
  }

  /** Start (and keep) a connection. Only for signed-in people: anonymous handshakes are refused. */
  connect() {
    if (this.wanted) return;
    this.wanted = true;
    this.hasConnected = false;
    this.attempt = 0;
    this.open();
  }

  /** Close for good (signing out). Subscriptions are kept for the next connect(). */
  disconnect() {
    this.wanted = false;
    clearTimeout(this.retryTimer);
    this.dropSocket();
    this.setStatus('disconnected');
  }

  /**
   * Subscribe to a topic while the returned release function has not been called.
   * Holders are counted, so two parts of a screen may hold the same topic.
   * @param {string} topic e.g. "accounts.organization.5"
   * @returns {() => void}
   */
  subscribe(topic) {
    const holders = this.topics.get(topic) || 0;
    this.topics.set(topic, holders + 1);
    if (holders === 0) this.send({ action: 'subscribe', topic });
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = this.topics.get(topic) - 1;
      if (left > 0) {
        this.topics.set(topic, left);
      } else {
        this.topics.delete(topic);
        this.pendingTopics.delete(topic);
        this.send({ action: 'unsubscribe', topic });
      }
    };
  }

  /**
   * Listen to server frames of one type ("accounts.membership.created"), or "*" for all.
   * Frames carry no topic, so handlers filter on their data (e.g. organization_id).
   * @param {string} type @param {(data: any, type: string) => void} handler
   * @returns {() => void} stop listening
   */
  on(type, handler) {
    if (!this.handlers.has(type)) this.handlers.set(type, new Set());
    this.handlers.get(type).add(handler);
    return () => this.handlers.get(type)?.delete(handler);
  }

  /**
   * Told when the first attempt of a streak fails before the socket opens: the server may
   * have refused the handshake (the session ended, or still owes its second factor), which
   * the browser does not tell apart from an unreachable server. Main asks the API which.
   * @param {() => void} listener @returns {() => void}
   */
  onRefused(listener) {
    this.refusedListeners.add(listener);
    return () => this.refusedListeners.delete(listener);
  }

  /**
   * connect(), and when already wanted but waiting out a backoff, try again at once: called
   * when the session is known to be good (e.g. it just passed its second factor, or the API
   * answered), so the attempts refused before need not push the next one far away.
   */
  reconnect() {
    if (!this.wanted) this.connect();
    else if (this.status === 'disconnected') this.reconnectNow();
  }

  /** @param {(status: SocketStatus) => void} listener @returns {() => void} */
  onStatus(listener) {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  /**
   * The current screen's way of catching up after a reconnect (one at a time: the router
   * replaces it on every navigation). Pass null to clear.
   * @param {(() => void)|null} hook
   */
  setResyncHook(hook) {
    this.resyncHook = hook;
  }

  // --- internals ---------------------------------------------------------------------------

  open() {
    clearTimeout(this.retryTimer);
    this.setStatus('connecting');
    const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws';
    const ws = new WebSocket(`${scheme}://${window.location.host}${config.ws_path}`);
    this.ws = ws;
    this.opened = false;
    ws.onopen = () => this.handleOpen();
    ws.onmessage = (event) => this.handleFrame(event.data);
    // onerror is always followed by onclose, which is where we decide what to do.
    ws.onclose = () => this.handleClose();
  }

  handleOpen() {
    this.opened = true;
    const isReconnect = this.hasConnected;
    this.hasConnected = true;
    this.attempt = 0;
    this.lastFrameAt = Date.now();
    this.setStatus('connected');
    this.startHeartbeat();
    this.pendingTopics = new Set(this.topics.keys());
    for (const topic of this.pendingTopics) this.send({ action: 'subscribe', topic });
    // Also resync on the first open when a screen already holds topics: it loaded its data
    // before the socket was up, so events from that gap would otherwise be missed.
    if (isReconnect || this.topics.size > 0) this.resyncWhenSubscribed();
  }

  resyncWhenSubscribed() {
    clearTimeout(this.resubscribeTimer);
    if (this.pendingTopics.size === 0) {
      this.runResync();
      return;
    }
    this.awaitingResync = true;
    this.resubscribeTimer = setTimeout(() => this.runResync(), RESUBSCRIBE_TIMEOUT_MS);
  }

  runResync() {
    clearTimeout(this.resubscribeTimer);
    this.awaitingResync = false;
    this.pendingTopics.clear();
    if (this.resyncHook) this.resyncHook();
  }

  /** A topic was confirmed or refused: either way it is no longer pending. */
  settleTopic(topic) {
    if (!this.pendingTopics.delete(topic)) return;
    if (this.awaitingResync && this.pendingTopics.size === 0) this.runResync();
  }

  handleFrame(raw) {
    this.lastFrameAt = Date.now();
    let frame;
    try {
      frame = JSON.parse(raw);
    } catch {
      return; // not ours to interpret; the server only sends JSON
    }
    if (!frame || typeof frame.type !== 'string') return;
    const data = frame.data || {};
    if (frame.type === 'realtime.subscribed') this.settleTopic(data.topic);
    if (frame.type === 'realtime.error' && data.topic) this.settleTopic(data.topic);
    for (const key of [frame.type, '*']) {
      for (const handler of this.handlers.get(key) || []) {
        try {
          handler(data, frame.type);
        } catch (error) {
          // One broken handler must not stop the others, nor the socket.
          console.error(error);
        }
      }
    }
  }

  handleClose() {
    const refusedFirst = !this.opened && this.attempt === 0;
    this.dropSocket();
    if (!this.wanted) return;
    this.setStatus('disconnected');
    this.scheduleReconnect();
    if (refusedFirst) this.refusedListeners.forEach((listener) => listener());
  }

  /**
   * Exponential backoff with jitter: 1 s, 2 s, 4 s... capped at 30 s, each randomised between
   * half and all of that, so a server restart is not met by every client at the same instant.
   */
  scheduleReconnect() {
    const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_FIRST_MS * 2 ** this.attempt);
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    this.attempt += 1;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.open(), delay);
  }

  reconnectNow() {
    this.attempt = 0;
    this.dropSocket();
    this.open();
  }

  /** Forget the current socket without letting its late events reach us. */
  dropSocket() {
    clearInterval(this.heartbeatTimer);
    clearTimeout(this.resubscribeTimer);
    this.awaitingResync = false;
    const ws = this.ws;
    this.ws = null;
    if (!ws) return;
    ws.onopen = ws.onmessage = ws.onclose = null;
    if (ws.readyState === WebSocket.CONNECTING || ws.readyState === WebSocket.OPEN) ws.close();
  }

  startHeartbeat() {
    clearInterval(this.heartbeatTimer);
    this.lastPingAt = 0;
    this.heartbeatTimer = setInterval(() => {
      // The previous ping got no answer at all: the connection is dead even if the browser
      // has not noticed (a laptop waking from sleep, a proxy silently dropping idle TCP).
      // Comparing with the last ping rather than with a fixed time keeps this right when a
      // background tab's timers are throttled to once a minute.
      if (this.lastPingAt && this.lastFrameAt < this.lastPingAt) {
        this.dropSocket();
        this.setStatus('disconnected');
        this.scheduleReconnect();
        return;
      }
      this.lastPingAt = Date.now();
      this.send({ action: 'ping' });
    }, HEARTBEAT_MS);
  }

  /** Send if open; otherwise drop it: subscriptions are re-sent on open anyway. */
  send(frame) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(frame));
  }

  setStatus(status) {
    if (status === this.status) return;
    this.status = status;
    this.statusListeners.forEach((listener) => listener(status));
  }
}

/** The one socket of the app. */
export const socket = new RealtimeSocket();
