// Boot: theme first (before anything paints), then the page skeleton, the socket for a
// signed-in person, and the router.

import { getUser, onUserChange, setUser } from './auth.js';
import { onUnauthorized } from './api.js';
import { h, liveRegions } from './components.js';
import { mountHeader } from './header.js';
import { navigate, startRouter } from './router.js';
import { socket } from './socket.js';
import { applyTheme, storedTheme } from './theme.js';

applyTheme(storedTheme());

const root = document.getElementById('app');
const header = h('header', { class: 'site-header' });
const main = h('main', { id: 'main', class: 'site-main', tabindex: '-1' });
root.replaceChildren(header, main, liveRegions());
mountHeader(header);

// The socket follows the session: open while someone is signed in, closed otherwise.
const followSession = (user) => (user ? socket.connect() : socket.disconnect());
onUserChange(followSession);
followSession(getUser());

// A 401 from the API means the session ended elsewhere (expired, signed out in another tab):
// go to sign in, and come back here afterwards.
onUnauthorized(() => {
  if (!getUser()) return;
  setUser(null);
  const here = window.location.pathname + window.location.search;
  navigate(`/signin?next=${encodeURIComponent(here)}`, { replace: true });
});

startRouter(main);
