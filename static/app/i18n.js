// Translation helpers.
//
// Django's JavaScriptCatalog is loaded as a classic script before any module, and defines
// `gettext`, `ngettext` and `interpolate` on the global object in the page's language. The
// wrappers below let modules import those names explicitly, and fall back to the English
// msgid if the catalog failed to load, so a missing catalog degrades the language instead
// of breaking the app.
//
// Convention checked by core/tests/test_js_translations.py: call `gettext`/`ngettext` only
// with string literals, so every msgid can be found in the source and in djangojs.po.

import { config } from './config.js';
import { getUser, updateMe } from './auth.js';
import { postForm } from './api.js';

const catalog = globalThis;

/** @param {string} msgid */
export function gettext(msgid) {
  return typeof catalog.gettext === 'function' ? catalog.gettext(msgid) : msgid;
}

/** @param {string} singular @param {string} plural @param {number} count */
export function ngettext(singular, plural, count) {
  if (typeof catalog.ngettext === 'function') return catalog.ngettext(singular, plural, count);
  return count === 1 ? singular : plural;
}

/**
 * Fill `%(name)s` placeholders. Named placeholders (never positional `%s`) let a translation
 * reorder them, which Portuguese often needs.
 * @param {string} format @param {Record<string, unknown>} values
 */
export function interpolate(format, values) {
  if (typeof catalog.interpolate === 'function') return catalog.interpolate(format, values, true);
  return format.replace(/%\((\w+)\)s/g, (_, name) => String(values[name]));
}

/**
 * interpolate() for sentences that hold markup, e.g. an address in <strong>: returns the
 * pieces to append (strings and the given nodes), so a translation can still put the
 * placeholder anywhere in the sentence.
 * @param {string} format @param {Record<string, Node|string>} values
 * @returns {Array<Node|string>}
 */
export function interpolateParts(format, values) {
  return format.split(/%\((\w+)\)s/).map((part, index) => (index % 2 ? values[part] : part));
}

/**
 * Each language named in itself ("Português (Brasil)", "English"), whatever the page's
 * language: a person who landed on a page they cannot read must still recognise their own.
 * The server's name is the fallback for a browser without Intl.DisplayNames.
 * @returns {Array<[string, string]>}
 */
export function languageChoices() {
  return config.languages.map(([code, serverName]) => {
    try {
      const native = new Intl.DisplayNames([code], { type: 'language' }).of(code);
      if (native && native.toLowerCase() !== code.toLowerCase()) {
        return [code, native.charAt(0).toLocaleUpperCase(code) + native.slice(1)];
      }
    } catch {
      // An unknown tag: keep the server's name.
    }
    return [code, serverName];
  });
}

/** The language the page (and the catalog) was rendered in, e.g. "pt-br". */
export function currentLanguage() {
  return config.language || document.documentElement.lang || 'pt-br';
}

/**
 * A date and time in the page's language and the person's time zone (their profile's).
 * @param {Date} date @param {Intl.DateTimeFormatOptions} [options]
 */
export function formatDateTime(date, options = { dateStyle: 'medium', timeStyle: 'short' }) {
  try {
    return new Intl.DateTimeFormat(currentLanguage(), { ...options, timeZone: getUser()?.time_zone || undefined }).format(date);
  } catch {
    return new Intl.DateTimeFormat(currentLanguage(), options).format(date); // a zone this browser lacks
  }
}

/**
 * "3 minutes ago", "yesterday", "in 6 days": how far `date` is from now, in words.
 * @param {Date} date
 */
export function formatRelative(date) {
  const seconds = (date.getTime() - Date.now()) / 1000;
  const units = [
    ['year', 365 * 86_400],
    ['month', 30 * 86_400],
    ['week', 7 * 86_400],
    ['day', 86_400],
    ['hour', 3_600],
    ['minute', 60],
  ];
  const format = new Intl.RelativeTimeFormat(currentLanguage(), { numeric: 'auto' });
  for (const [unit, size] of units) {
    if (Math.abs(seconds) >= size) return format.format(Math.round(seconds / size), unit);
  }
  return format.format(0, 'second'); // "now"
}

/**
 * Switch the interface language and reload, so the server renders the page and the catalog
 * in the new language (the catalog is a per-language script, not something we can swap).
 *
 * A signed-in person's choice is saved on their profile too, so it follows them to other
 * devices and to emails; the cookie set by Django's set_language covers this browser,
 * including after signing out.
 *
 * @param {string} code
 * @param {{signedIn: boolean}} options
 */
export async function switchLanguage(code, { signedIn }) {
  if (signedIn) await updateMe({ language: code });
  await setLanguageCookie(code);
  window.location.reload();
}

/**
 * POST to Django's set_language. We send no `next` and ask for JSON, so the view answers 204
 * instead of redirecting: fetch would otherwise follow the redirect and download a whole page
 * only to throw it away, and a real failure would be hidden behind the redirect.
 * @param {string} code
 */
export function setLanguageCookie(code) {
  return postForm(config.set_language_url, { language: code });
}
