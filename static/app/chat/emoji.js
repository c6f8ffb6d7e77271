// Emoji: the table shared with the server (emoji.json, shortcode -> character), the picker
// (a modal <dialog> with categories and a search, usable with the arrow keys) and the
// lookup behind the composer's ":shortcode:" autocomplete.

import { h } from '../components.js';
import { gettext } from '../i18n.js';

const EMOJI_URL = new URL('./emoji.json', import.meta.url);
const COLUMNS = 8;

let loading = null;

/**
 * The categories as the file lists them, each emoji once (aliases such as "+1" for
 * "thumbsup" keep only the first code), and a code -> character map with every alias.
 * @returns {Promise<{categories: Array<{name: string, emoji: Array<{code: string, char: string}>}>,
 *                    byCode: Map<string, string>}>}
 */
export function loadEmoji() {
  if (!loading) {
    loading = fetch(EMOJI_URL, { credentials: 'same-origin' })
      .then((response) => response.json())
      .then((data) => {
        const byCode = new Map();
        const seen = new Set();
        const categories = data.categories.map((category) => ({
          name: category.name,
          emoji: category.emoji.filter((item) => {
            byCode.set(item.code, item.char);
            if (seen.has(item.char)) return false;
            seen.add(item.char);
            return true;
          }),
        }));
        return { categories, byCode };
      })
      .catch((error) => {
        loading = null; // try again next time
        throw error;
      });
  }
  return loading;
}

/** The character of a shortcode, or the code in colons while the table loads. @param {string} code */
export function emojiChar(code, table) {
  return (table && table.byCode.get(code)) || `:${code}:`;
}

/**
 * Emoji whose code starts with (then contains) `query`, for the autocomplete.
 * @param {string} query @param {number} [limit]
 */
export async function searchEmoji(query, limit = 8) {
  const table = await loadEmoji();
  const wanted = query.toLowerCase();
  const all = table.categories.flatMap((category) => category.emoji);
  const starts = all.filter((item) => item.code.startsWith(wanted));
  const contains = all.filter((item) => !item.code.startsWith(wanted) && item.code.includes(wanted));
  return [...starts, ...contains].slice(0, limit);
}

function categoryLabel(name) {
  switch (name) {
    case 'people':
      return gettext('Smileys and people');
    case 'gestures':
      return gettext('Gestures');
    case 'hearts':
      return gettext('Hearts');
    case 'objects':
      return gettext('Objects and symbols');
    default:
      return name; // a category newer than this screen
  }
}

let pickerCounter = 0;

/**
 * Ask for an emoji in a modal dialog.
 * @param {{title?: string}} [options]
 * @returns {Promise<{code: string, char: string}|null>} null when closed without a choice
 */
export async function pickEmoji({ title } = {}) {
  const table = await loadEmoji();
  return new Promise((resolve) => {
    const id = ++pickerCounter;
    let chosen = null;
    const search = h('input', {
      type: 'search',
      id: `emoji-search-${id}`,
      class: 'emoji-search',
      autocomplete: 'off',
      placeholder: gettext('Search emoji'),
    });
    const grid = h('div', { class: 'emoji-grid', role: 'grid', 'aria-label': gettext('Emoji') });
    const jump = h('div', { class: 'emoji-categories', role: 'group', 'aria-label': gettext('Categories') });
    const dialog = h(
      'dialog',
      { class: 'dialog emoji-dialog', 'aria-labelledby': `emoji-title-${id}` },
      h('h2', { id: `emoji-title-${id}`, class: 'visually-hidden' }, title || gettext('Choose an emoji')),
      h('label', { for: search.id, class: 'visually-hidden' }, gettext('Search emoji')),
      search,
      jump,
      grid,
      h(
        'form',
        { method: 'dialog', class: 'dialog-actions' },
        h('button', { type: 'submit', class: 'button' }, gettext('Close')),
      ),
    );

    const buttons = () => [...grid.querySelectorAll('button.emoji-choice')];
    const focusAt = (index) => {
      const all = buttons();
      if (!all.length) return;
      const target = all[Math.max(0, Math.min(all.length - 1, index))];
      all.forEach((button) => (button.tabIndex = -1));
      target.tabIndex = 0;
      target.focus();
    };
    const choice = (item) =>
      h(
        'button',
        {
          type: 'button',
          class: 'emoji-choice',
          tabindex: '-1',
          title: `:${item.code}:`,
          'aria-label': `:${item.code}:`,
          dataset: { code: item.code },
          onclick: () => {
            chosen = item;
            dialog.close();
          },
        },
        item.char,
      );

    const draw = () => {
      const wanted = search.value.trim().toLowerCase().replace(/:/g, '');
      grid.replaceChildren();
      jump.replaceChildren();
      for (const category of table.categories) {
        const items = wanted ? category.emoji.filter((item) => item.code.includes(wanted)) : category.emoji;
        if (!items.length) continue;
        const headingId = `emoji-${id}-${category.name}`;
        const label = categoryLabel(category.name);
        jump.append(
          h(
            'button',
            {
              type: 'button',
              class: 'button emoji-jump',
              title: label,
              'aria-label': label,
              onclick: () => {
                const first = grid.querySelector(`[aria-labelledby="${headingId}"] button`);
                if (first) focusAt(buttons().indexOf(first));
              },
            },
            items[0].char,
          ),
        );
        grid.append(
          h(
            'div',
            { role: 'rowgroup', class: 'emoji-section', 'aria-labelledby': headingId },
            h('h3', { id: headingId, class: 'emoji-heading' }, label),
            h('div', { role: 'row', class: 'emoji-row' }, items.map((item) => h('span', { role: 'gridcell' }, choice(item)))),
          ),
        );
      }
      const first = buttons()[0];
      if (first) first.tabIndex = 0;
      else grid.append(h('p', { class: 'muted' }, gettext('No emoji found.')));
    };

    grid.addEventListener('keydown', (event) => {
      const all = buttons();
      const index = all.indexOf(document.activeElement);
      if (index < 0) return;
      const moves = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: COLUMNS, ArrowUp: -COLUMNS, Home: -index, End: all.length };
      if (event.key in moves) {
        event.preventDefault();
        focusAt(index + moves[event.key]);
      }
    });
    search.addEventListener('input', draw);
    search.addEventListener('keydown', (event) => {
      if (event.key === 'ArrowDown') {
        event.preventDefault();
        focusAt(0);
      } else if (event.key === 'Enter') {
        event.preventDefault();
        const first = buttons()[0];
        if (first) first.click();
      }
    });
    dialog.addEventListener('close', () => {
      resolve(chosen);
      dialog.remove();
    });
    draw();
    document.body.append(dialog);
    dialog.showModal();
    search.focus();
  });
}
