// Small helpers shared by the chat modules: ids, names, dates, sizes and mention tokens.

import { h } from '../components.js';
import { formatDateTime, gettext, interpolate } from '../i18n.js';

/** A fresh id for a message being sent, so a retried send is the same message. */
export function newClientId() {
  if (globalThis.crypto && typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  // randomUUID exists only in secure contexts; getRandomValues everywhere.
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((byte) => byte.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** "Ana Lima" -> "AL", for avatars without a picture. @param {string} name */
export function initials(name) {
  const words = String(name || '?').trim().split(/\s+/).filter(Boolean);
  const letters = words.length > 1 ? words[0][0] + words[words.length - 1][0] : (words[0] || '?').slice(0, 2);
  return letters.toLocaleUpperCase();
}

/**
 * A person's avatar: their picture, or their initials. Decorative (the name is always next to it).
 * @param {{name?: string, avatar_url?: string}|null} person @param {{size?: 'small'|'normal'}} [options]
 */
export function avatar(person, { size = 'normal' } = {}) {
  const classes = `chat-avatar ${size === 'small' ? 'small' : ''}`;
  if (person && person.avatar_url) {
    return h('img', { class: classes, src: person.avatar_url, alt: '', 'aria-hidden': 'true', loading: 'lazy' });
  }
  return h('span', { class: classes, 'aria-hidden': 'true' }, initials(person ? person.name : '?'));
}

/**
 * What a room is called: its name for channels, the other people for direct messages.
 * @param {object} room @returns {string}
 */
export function roomName(room) {
  if (!room) return '';
  if (room.kind === 'channel' || room.kind === 'private') return room.name;
  const others = (room.direct_members || []).map((person) => person.name);
  if (others.length === 0) return room.name || gettext('Only you');
  return others.join(', ');
}

/** "#general" for a channel, the names for a DM: what the composer's label mentions. */
export function roomTitle(room) {
  if (!room) return '';
  return room.kind === 'channel' || room.kind === 'private' ? `#${room.name}` : roomName(room);
}

export function isDirect(room) {
  return room && (room.kind === 'direct' || room.kind === 'group');
}

/** @param {string} iso */
export function timeOf(iso) {
  return formatDateTime(new Date(iso), { timeStyle: 'short' });
}

/** @param {string} iso */
export function dayOf(iso) {
  return formatDateTime(new Date(iso), { dateStyle: 'full' });
}

/** The calendar day of a timestamp in the person's zone, for day separators. @param {string} iso */
export function dayKey(iso) {
  return formatDateTime(new Date(iso), { year: 'numeric', month: '2-digit', day: '2-digit' });
}

/** @param {string} iso */
export function fullDateTime(iso) {
  return formatDateTime(new Date(iso), { dateStyle: 'medium', timeStyle: 'short' });
}

/** @param {number} bytes */
export function formatSize(bytes) {
  const units = [gettext('%(size)s B'), gettext('%(size)s KB'), gettext('%(size)s MB'), gettext('%(size)s GB')];
  let size = bytes || 0;
  let unit = 0;
  while (size >= 1024 && unit < units.length - 1) {
    size /= 1024;
    unit += 1;
  }
  const shown = new Intl.NumberFormat(undefined, { maximumFractionDigits: unit ? 1 : 0 }).format(size);
  return interpolate(units[unit], { size: shown });
}

/** 65_000 -> "1:05". @param {number} milliseconds */
export function formatDuration(milliseconds) {
  const seconds = Math.max(0, Math.round((milliseconds || 0) / 1000));
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
}

/**
 * Turn the "@Name" mentions chosen from the autocomplete back into the `<@id>` tokens the
 * server understands. Longest names first, so "@Ana Lima" wins over "@Ana".
 * @param {string} text @param {Array<{id: number, name: string}>} chosen
 */
export function mentionsToTokens(text, chosen) {
  const people = [...chosen].sort((a, b) => b.name.length - a.name.length);
  let result = text;
  for (const person of people) result = result.split(`@${person.name}`).join(`<@${person.id}>`);
  return result;
}

/**
 * The other way, for editing a message: `<@12>` becomes "@Ana Lima"; returns the text and the
 * people it names so saving turns them back into tokens.
 * @param {string} body @param {(id: number) => string|undefined} nameOf
 */
export function tokensToMentions(body, nameOf) {
  const chosen = [];
  const text = String(body || '').replace(/<@(\d+)>/g, (token, id) => {
    const name = nameOf(Number(id));
    if (!name) return token;
    chosen.push({ id: Number(id), name });
    return `@${name}`;
  });
  return { text, chosen };
}

/** @param {(...args: any[]) => void} fn @param {number} wait */
export function debounce(fn, wait) {
  let timer = null;
  const debounced = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), wait);
  };
  debounced.cancel = () => clearTimeout(timer);
  return debounced;
}

/** Whether an error is the abort of a request whose screen was left. */
export function isAbort(error) {
  return error && error.name === 'AbortError';
}
