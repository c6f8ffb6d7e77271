// Boot: theme first (before anything paints), then the page skeleton, the socket for a
// signed-in person, and the router.

import { getUser, isSecondFactorPending, onUserChange, requireSecondFactor, setUser } from './auth.js';
import { api, onSecondFactorRequired, onUnauthorized } from './api.js';
import { mountCallAlerts } from './calls/alerts.js';
import { startHeartbeat } from './chat/presence.js';
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

// The socket follows the session: open while someone is signed in, closed otherwise. Right
// after the second factor, the attempts refused until then may have pushed the next retry
// far away: connect at once.
const followSession = (user) => (user ? socket.reconnect() : socket.disconnect());
onUserChange(followSession);
followSession(getUser());
// Presence: members of an organization are online while any tab of theirs is open.
startHeartbeat();

const here = () => window.location.pathname + window.location.search;

// A 401 from the API means the session ended elsewhere (expired, signed out in another tab):
// go to sign in, and come back here afterwards.
onUnauthorized(() => {
  if (!getUser() && !isSecondFactorPending()) return;
  setUser(null);
  navigate(`/signin?next=${encodeURIComponent(here())}`, { replace: true });
});

// The session signed in with a password but owes its second factor (the page may have been
// loaded in that state): ask for the code, and come back here afterwards.
onSecondFactorRequired(() => {
  if (isSecondFactorPending()) return;
  requireSecondFactor();
  navigate(`/two-factor?next=${encodeURIComponent(here())}`, { replace: true });
});

// The socket's first attempt failed before opening: the server may have refused the session.
// One API call tells (its 401 or 403 reaches the listeners above); a server that is simply
// down fails this call too, and the socket keeps retrying on its own.
socket.onRefused(() => {
  if (getUser()) api.get('/me/').catch(() => {});
});

startRouter(main);
// A professional's incoming call and a client's queue turn, on whatever screen is open.
mountCallAlerts();
