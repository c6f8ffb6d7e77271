// Light, dark, or whatever the system prefers.
//
// The colours live in app.css as `light-dark()` pairs; choosing a theme only pins the root
// element's `color-scheme`, so there is a single list of colours and "system" needs no
// JavaScript at all. Only this preference is kept in localStorage: never tokens or personal
// data (DESIGN §10), since anything there is readable by any script on the page.

const STORAGE_KEY = 'atende.theme';
export const THEMES = /** @type {const} */ (['system', 'light', 'dark']);

// Browser chrome (the address bar on phones) follows the page background.
const CHROME_COLOURS = { light: '#f6f7f6', dark: '#121816' };

/** @returns {'system'|'light'|'dark'} */
export function storedTheme() {
  try {
    const value = localStorage.getItem(STORAGE_KEY);
    return THEMES.includes(value) ? value : 'system';
  } catch {
    return 'system'; // storage can be disabled (private modes, strict settings)
  }
}

/** @param {'system'|'light'|'dark'} theme */
export function applyTheme(theme) {
  const root = document.documentElement;
  if (theme === 'system') delete root.dataset.theme;
  else root.dataset.theme = theme;
  for (const meta of document.querySelectorAll('meta[name="theme-color"]')) {
    const scheme = theme === 'system' ? meta.dataset.scheme : theme;
    meta.content = CHROME_COLOURS[scheme];
  }
}

/** @param {'system'|'light'|'dark'} theme */
export function setTheme(theme) {
  try {
    if (theme === 'system') localStorage.removeItem(STORAGE_KEY);
    else localStorage.setItem(STORAGE_KEY, theme);
  } catch {
    // Not remembered, but still applied for this page.
  }
  applyTheme(theme);
}
