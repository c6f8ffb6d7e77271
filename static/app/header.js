// The header: product name, navigation, the organization picker (for people in several),
// live-connection status, language, theme, sign out, and the notification bell. On narrow screens the navigation and the
// controls fold behind a "Menu" button.

import { PRODUCT_NAME } from './config.js';
import { activeMembership, getUser, isSecondFactorPending, onUserChange, setActiveOrganization, signOut } from './auth.js';
import { notificationCentre } from './chat/notifications.js';
import { errorText, h, toast } from './components.js';
import { currentLanguage, gettext, interpolate, languageChoices, switchLanguage } from './i18n.js';
import { navItems, navigate, onRouteChange } from './router.js';
import { socket } from './socket.js';
import { setTheme, storedTheme } from './theme.js';

/** @param {HTMLElement} header the <header> element to fill */
export function mountHeader(header) {
  const nav = h('nav', { class: 'site-nav', 'aria-label': gettext('Main') });
  const status = socketStatus();
  const account = h('div', { class: 'account' });
  const organizations = organizationSwitcher();
  const panel = h(
    'div',
    { class: 'header-panel', id: 'header-panel' },
    nav,
    h('div', { class: 'header-controls' }, organizations.element, status, languageSwitcher(), themeSwitcher(), account),
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
    // The bell stays outside the folding panel: on a phone it is visible without the menu.
    h('div', { class: 'header-bar' }, h('a', { class: 'brand', href: '/' }, PRODUCT_NAME), menuButton, panel, notificationCentre()),
  );

  const draw = () => {
    const user = getUser();
    drawNav(nav, user);
    drawAccount(account, user);
    organizations.draw(user);
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
  const path = window.location.pathname;
  for (const link of nav.querySelectorAll('a')) {
    // A screen's sub-pages (a chat room under /chat) keep its link marked.
    const here = link.pathname === path || (link.pathname !== '/' && path.startsWith(`${link.pathname}/`));
    if (here) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
}

function drawAccount(account, user) {
  // Half signed in (the second factor is due) still needs a way out.
  if (!user && !isSecondFactorPending()) {
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

/**
 * Which organization the person works in, for people in more than one. Choosing another
 * saves it on the account, and moves a members page to that organization's.
 */
function organizationSwitcher() {
  const select = h('select', { id: 'organization-select', class: 'compact organization-select' });
  const element = h(
    'div',
    { class: 'control organization-control', hidden: true },
    h('label', { for: 'organization-select', class: 'visually-hidden' }, gettext('Organization')),
    select,
  );
  let shown = '';

  const draw = (user) => {
    const memberships = (user && user.memberships) || [];
    element.hidden = memberships.length < 2;
    if (element.hidden) return;
    const active = activeMembership(user);
    // Rebuild only when the list changed, so a redraw never resets a select in use.
    const key = JSON.stringify(memberships.map((m) => [m.organization.id, m.organization.name]));
    if (key !== shown) {
      shown = key;
      select.replaceChildren(
        ...memberships.map((m) => h('option', { value: String(m.organization.id) }, m.organization.name)),
      );
    }
    select.value = String(active.organization.id);
  };

  select.addEventListener('change', async () => {
    const user = getUser();
    const previous = activeMembership(user);
    const chosen = Number(select.value);
    select.disabled = true;
    try {
      const me = await setActiveOrganization(chosen);
      const membership = activeMembership(me);
      toast(interpolate(gettext('You are now working in %(organization)s.'), { organization: membership.organization.name }), {
        kind: 'success',
      });
      // On another organization's page, follow the choice.
      if (/^\/organizations\/\d+\//.test(window.location.pathname)) {
        navigate(`/organizations/${chosen}/members`);
      }
    } catch (error) {
      if (previous) select.value = String(previous.organization.id);
      toast(errorText(error), { kind: 'error' });
    } finally {
      select.disabled = false;
    }
  });
  return { element, draw };
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
