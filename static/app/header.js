// The header: product name, navigation, live-connection status, language, theme, sign out.
// On narrow screens the navigation and the controls fold behind a "Menu" button.

import { PRODUCT_NAME } from './config.js';
import { getUser, onUserChange, signOut } from './auth.js';
import { errorText, h, toast } from './components.js';
import { currentLanguage, gettext, languageChoices, switchLanguage } from './i18n.js';
import { navItems, navigate, onRouteChange } from './router.js';
import { socket } from './socket.js';
import { setTheme, storedTheme } from './theme.js';

/** @param {HTMLElement} header the <header> element to fill */
export function mountHeader(header) {
  const nav = h('nav', { class: 'site-nav', 'aria-label': gettext('Main') });
  const status = socketStatus();
  const account = h('div', { class: 'account' });
  const panel = h(
    'div',
    { class: 'header-panel', id: 'header-panel' },
    nav,
    h('div', { class: 'header-controls' }, status, languageSwitcher(), themeSwitcher(), account),
  );
  const menuButton = h(
    'button',
    { type: 'button', class: 'button menu-button', 'aria-expanded': 'false', 'aria-controls': 'header-panel' },
    gettext('Menu'),
  );
  const setMenuOpen = (open) => {
    menuButton.setAttribute('aria-expanded', String(open));
    panel.classList.toggle('open', open);
  };
  menuButton.addEventListener('click', () => setMenuOpen(menuButton.getAttribute('aria-expanded') !== 'true'));
  // Escape closes the open menu and gives focus back to its button.
  panel.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && panel.classList.contains('open')) {
      setMenuOpen(false);
      menuButton.focus();
    }
  });

  header.replaceChildren(
    h('a', { class: 'skip-link', href: '#main' }, gettext('Skip to content')),
    h('div', { class: 'header-bar' }, h('a', { class: 'brand', href: '/' }, PRODUCT_NAME), menuButton, panel),
  );

  const draw = () => {
    const user = getUser();
    drawNav(nav, user);
    drawAccount(account, user);
    status.hidden = !user; // anonymous people have no live connection to report on
  };
  draw();
  onUserChange(draw);
  onRouteChange(() => {
    markCurrent(nav);
    setMenuOpen(false);
  });
}

function drawNav(nav, user) {
  nav.replaceChildren(
    h('ul', null, navItems(user).map((item) => h('li', null, h('a', { href: item.href }, item.label)))),
  );
  markCurrent(nav);
}

function markCurrent(nav) {
  for (const link of nav.querySelectorAll('a')) {
    if (link.pathname === window.location.pathname) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
}

function drawAccount(account, user) {
  if (!user) {
    account.replaceChildren();
    return;
  }
  const button = h('button', { type: 'button', class: 'button' }, gettext('Sign out'));
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      await signOut();
      socket.disconnect();
      navigate('/signin', { replace: true });
      toast(gettext('You have signed out.'), { kind: 'success' });
    } catch (error) {
      toast(errorText(error), { kind: 'error' });
    } finally {
      button.disabled = false;
    }
  });
  account.replaceChildren(button);
}

/** Text and colour both say the state, so it does not rely on colour alone. */
function socketStatus() {
  const labels = {
    connected: gettext('Connected'),
    connecting: gettext('Connecting…'),
    disconnected: gettext('Disconnected'),
  };
  const text = h('span', { class: 'socket-text' });
  const element = h(
    'span',
    { class: 'socket-status', role: 'status', 'data-testid': 'socket-status', title: gettext('Live updates') },
    h('span', { class: 'socket-dot', 'aria-hidden': 'true' }),
    text,
  );
  const show = (state) => {
    element.dataset.state = state;
    text.textContent = labels[state];
  };
  show(socket.status);
  socket.onStatus(show);
  return element;
}

function languageSwitcher() {
  const select = h(
    'select',
    { id: 'language-select', class: 'compact' },
    languageChoices().map(([code, name]) => h('option', { value: code, lang: code }, name)),
  );
  select.value = currentLanguage();
  select.addEventListener('change', async () => {
    const previous = currentLanguage();
    select.disabled = true;
    try {
      await switchLanguage(select.value, { signedIn: Boolean(getUser()) });
      // switchLanguage reloads the page; nothing after this line runs on success.
    } catch (error) {
      select.value = previous;
      select.disabled = false;
      toast(errorText(error), { kind: 'error' });
    }
  });
  return h(
    'div',
    { class: 'control' },
    h('label', { for: 'language-select', class: 'visually-hidden' }, gettext('Language')),
    select,
  );
}

function themeSwitcher() {
  const labels = { system: gettext('System theme'), light: gettext('Light theme'), dark: gettext('Dark theme') };
  const select = h(
    'select',
    { id: 'theme-select', class: 'compact' },
    Object.entries(labels).map(([value, label]) => h('option', { value }, label)),
  );
  select.value = storedTheme();
  select.addEventListener('change', () => setTheme(select.value));
  return h(
    'div',
    { class: 'control' },
    h('label', { for: 'theme-select', class: 'visually-hidden' }, gettext('Theme')),
    select,
  );
}
