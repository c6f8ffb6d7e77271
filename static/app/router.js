// A History API router: real URLs (Django serves app.html for each of them), links that are
// plain <a href> elements, and Back/Forward that work.
//
// Each screen module exports `render(context)`. It draws into context.main and may register
// cleanups and a resync hook; the router runs the cleanups, aborts the screen's pending
// requests and clears its hook when the person leaves the screen.

import { activeMembership, getUser, isSecondFactorPending } from './auth.js';
import { gettext } from './i18n.js';
import { socket } from './socket.js';
import { setPageTitle } from './title.js';
import * as call from './screens/call.js';
import * as callHistory from './screens/callhistory.js';
import * as catalog from './screens/catalog.js';
import * as chat from './screens/chat.js';
import * as forgotPassword from './screens/forgotpassword.js';
import * as earnings from './screens/earnings.js';
import * as crmBoard from './screens/crmboard.js';
import * as crmDeal from './screens/crmdeal.js';
import * as crmSettings from './screens/crmsettings.js';
import * as crmDeals from './screens/crmdeals.js';
import * as crmContacts from './screens/crmcontacts.js';
import * as crmCompanies from './screens/crmcompanies.js';
import * as crmLeads from './screens/crmleads.js';
import * as crmTasks from './screens/crmtasks.js';
import * as crmImport from './screens/crmimport.js';
import * as crmBotConversa from './screens/crmbotconversa.js';
import * as home from './screens/home.js';
import * as inbox from './screens/inbox.js';
import * as inboxSettings from './screens/inboxsettings.js';
import * as invitation from './screens/invitation.js';
import * as kyc from './screens/kyc.js';
import * as members from './screens/members.js';
import * as myData from './screens/mydata.js';
import * as notFound from './screens/notfound.js';
import * as proDashboard from './screens/prodashboard.js';
import * as professional from './screens/professional.js';
import * as profile from './screens/profile.js';
import * as queue from './screens/queue.js';
import * as resetPassword from './screens/resetpassword.js';
import * as security from './screens/security.js';
import * as signIn from './screens/signin.js';
import * as signUp from './screens/signup.js';
import * as supervisor from './screens/supervisor.js';
import * as support from './screens/support.js';
import * as twoFactor from './screens/twofactor.js';
import * as verify from './screens/verify.js';
import * as wallet from './screens/wallet.js';

/**
 * access: who may see the screen ('any' for everyone, 'second-factor' for a session that
 * still owes its code); the others are redirected (see guard()).
 */
const routes = [
  { pattern: /^\/$/, screen: home, access: 'signed-in' },
  { pattern: /^\/signin$/, screen: signIn, access: 'anonymous' },
  { pattern: /^\/signup$/, screen: signUp, access: 'anonymous' },
  { pattern: /^\/verify$/, screen: verify, access: 'signed-in' },
  { pattern: /^\/forgot-password$/, screen: forgotPassword, access: 'any' },
  // The key comes from the e-mailed link (settings.HEADLESS_FRONTEND_URLS).
  { pattern: /^\/reset-password\/(?<key>[^/]+)$/, screen: resetPassword, access: 'any' },
  { pattern: /^\/two-factor$/, screen: twoFactor, access: 'second-factor' },
  { pattern: /^\/profile$/, screen: profile, access: 'signed-in' },
  { pattern: /^\/security$/, screen: security, access: 'signed-in' },
  { pattern: /^\/kyc$/, screen: kyc, access: 'signed-in' },
  { pattern: /^\/my-data$/, screen: myData, access: 'signed-in' },
  { pattern: /^\/wallet$/, screen: wallet, access: 'signed-in' },
  // Professionals only; the screen itself explains that to anyone else who opens the address.
  { pattern: /^\/earnings$/, screen: earnings, access: 'signed-in' },
  { pattern: /^\/organizations\/(?<organizationId>\d+)\/members$/, screen: members, access: 'signed-in' },
  // The team chat of the organization the person works in; the id opens one room.
  { pattern: /^\/chat(?:\/(?<roomId>\d+))?$/, screen: chat, access: 'signed-in' },
  // The support inbox of that organization; the id opens one conversation. Supervisor and
  // settings are for its admins (the screens explain that to anyone else).
  { pattern: /^\/inbox\/supervisor$/, screen: supervisor, access: 'signed-in' },
  { pattern: /^\/inbox\/settings$/, screen: inboxSettings, access: 'signed-in' },
  { pattern: /^\/inbox(?:\/(?<conversationId>\d+))?$/, screen: inbox, access: 'signed-in' },
  // The CRM of that organization: the board of a pipeline (the first one at /crm), a deal,
  // the lists and details of deals, contacts, companies and leads, tasks, the import wizard;
  // settings and BotConversa are for its admins (the screens explain that to anyone else).
  { pattern: /^\/crm(?:\/pipelines\/(?<pipelineId>\d+))?$/, screen: crmBoard, access: 'signed-in' },
  { pattern: /^\/crm\/deals\/(?<dealId>\d+)$/, screen: crmDeal, access: 'signed-in' },
  { pattern: /^\/crm\/deals$/, screen: crmDeals, access: 'signed-in' },
  { pattern: /^\/crm\/contacts(?:\/(?<contactId>\d+))?$/, screen: crmContacts, access: 'signed-in' },
  { pattern: /^\/crm\/companies(?:\/(?<companyId>\d+))?$/, screen: crmCompanies, access: 'signed-in' },
  { pattern: /^\/crm\/leads(?:\/(?<leadId>\d+))?$/, screen: crmLeads, access: 'signed-in' },
  { pattern: /^\/crm\/tasks$/, screen: crmTasks, access: 'signed-in' },
  { pattern: /^\/crm\/import(?:\/(?<importId>\d+))?$/, screen: crmImport, access: 'signed-in' },
  { pattern: /^\/crm\/settings$/, screen: crmSettings, access: 'signed-in' },
  { pattern: /^\/crm\/botconversa$/, screen: crmBotConversa, access: 'signed-in' },
  // A client (a student) talking to the school's support team: the widget, in-app.
  { pattern: /^\/support$/, screen: support, access: 'signed-in' },
  // The link of the invitation e-mail; anyone may open it, then sign in or sign up to accept.
  { pattern: /^\/invitations\/(?<token>[^/]+)$/, screen: invitation, access: 'any' },
  // Paid video calls: the catalog, a professional's page, a call, the history, the client's
  // queues and the professional's dashboard (with its public page's editor).
  { pattern: /^\/professionals$/, screen: catalog, access: 'signed-in' },
  { pattern: /^\/professionals\/(?<professionalId>\d+)$/, screen: professional, access: 'signed-in' },
  { pattern: /^\/calls$/, screen: callHistory, access: 'signed-in' },
  { pattern: /^\/calls\/(?<callId>\d+)$/, screen: call, access: 'signed-in' },
  { pattern: /^\/queue$/, screen: queue, access: 'signed-in' },
  { pattern: /^\/professional(?:\/(?<section>profile))?$/, screen: proDashboard, access: 'signed-in' },
];

/**
 * The links the navigation shows: only screens this person can use.
 * @param {object|null} user
 * @returns {{href: string, label: string}[]}
 */
export function navItems(user) {
  // Half signed in: the code screen is the only place to go (its own page offers sign out).
  if (!user && isSecondFactorPending()) return [];
  if (!user) {
    return [
      { href: '/signin', label: gettext('Sign in') },
      { href: '/signup', label: gettext('Sign up') },
    ];
  }
  // The members of the organization the person works in; the header's organization picker
  // switches between several.
  const membership = activeMembership(user);
  return [
    { href: '/', label: gettext('Home') },
    { href: '/professionals', label: gettext('Professionals') },
    user.account_type === 'professional' ? { href: '/professional', label: gettext('Dashboard') } : { href: '/queue', label: gettext('Queue') },
    { href: '/calls', label: gettext('Calls') },
    { href: '/wallet', label: gettext('Wallet') },
    user.account_type === 'professional' ? { href: '/earnings', label: gettext('Earnings') } : null,
    membership ? { href: '/chat', label: gettext('Chat') } : null,
    membership ? { href: '/inbox', label: gettext('Inbox') } : null,
    membership ? { href: '/crm', label: gettext('CRM') } : null,
    membership ? { href: `/organizations/${membership.organization.id}/members`, label: gettext('Members') } : null,
    // People outside every organization (clients, students) reach its support from here.
    membership ? null : { href: '/support', label: gettext('Support') },
    { href: '/profile', label: gettext('Profile') },
    { href: '/security', label: gettext('Security') },
  ].filter(Boolean);
}

/**
 * A `next` value is only followed when it is a path on this site, so a crafted sign-in link
 * cannot send someone elsewhere after they type their password.
 * @param {string|null} next
 */
export function safeNext(next) {
  return next && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\') ? next : '/';
}

const routeListeners = new Set();
let main = null;
let leaveScreen = () => {};
// The screen on show and its handler for a new address within it (see onAddressChange).
let currentScreen = null;
let addressHandler = null;

/** @param {(path: string) => void} listener called after every route change */
export function onRouteChange(listener) {
  routeListeners.add(listener);
}

/**
 * Go to a same-site URL.
 * @param {string} url e.g. "/profile" or "/signin?next=%2Fprofile"
 * @param {{replace?: boolean}} [options]
 */
export function navigate(url, { replace = false } = {}) {
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  render({ moveFocus: true, scroll: !replace });
}

/** @param {HTMLElement} mainElement where screens draw */
export function startRouter(mainElement) {
  main = mainElement;
  document.addEventListener('click', interceptLinks);
  window.addEventListener('popstate', () => render({ moveFocus: true, scroll: false }));
  render({ moveFocus: false, scroll: false });
}

/** Re-run the guards for the current URL, e.g. after signing in or out. */
export function refresh() {
  render({ moveFocus: true, scroll: false });
}

/** Let same-site links change screens without a page load; leave everything else alone. */
function interceptLinks(event) {
  if (event.defaultPrevented || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return; // new tab etc.
  const link = event.target.closest('a[href]');
  if (!link || link.target || link.hasAttribute('download') || link.dataset.reload !== undefined) return;
  const url = new URL(link.href);
  if (url.origin !== window.location.origin) return;
  if (url.pathname.startsWith('/api/') || url.pathname.startsWith('/admin/')) return;
  event.preventDefault();
  navigate(url.pathname + url.search + url.hash);
}

/** Where a person who may not see `route` goes instead, or null when they may. */
function guard(route, path, query) {
  const user = getUser();
  if (route.access === 'second-factor') {
    if (user) return safeNext(query.get('next'));
    return isSecondFactorPending() ? null : '/signin';
  }
  // The password was right, the code is still due: every screen but the open ones waits.
  if (isSecondFactorPending() && route.access !== 'any') {
    const next = route.access === 'anonymous' ? safeNext(query.get('next')) : path + window.location.search;
    return next === '/' ? '/two-factor' : `/two-factor?next=${encodeURIComponent(next)}`;
  }
  if (route.access === 'signed-in' && !user) {
    return path === '/' ? '/signin' : `/signin?next=${encodeURIComponent(path + window.location.search)}`;
  }
  if (route.access === 'anonymous' && user) return safeNext(query.get('next'));
  return null;
}

function render({ moveFocus, scroll }) {
  const { pathname, search } = window.location;
  // One spelling per screen: "/profile/" is "/profile".
  if (pathname.length > 1 && pathname.endsWith('/')) {
    history.replaceState(null, '', pathname.replace(/\/+$/, '') + search);
    return render({ moveFocus, scroll });
  }
  const query = new URLSearchParams(search);
  let route = null;
  let params = {};
  for (const candidate of routes) {
    const match = candidate.pattern.exec(pathname);
    if (match) {
      route = candidate;
      params = match.groups || {};
      break;
    }
  }
  if (route) {
    const redirect = guard(route, pathname, query);
    if (redirect) {
      history.replaceState(null, '', redirect);
      return render({ moveFocus, scroll });
    }
  }

  // A screen that can follow a new address itself (the chat opening another room) keeps its
  // state, its subscriptions and its pending requests instead of being drawn again.
  const screen = route ? route.screen : notFound;
  if (screen === currentScreen && addressHandler && addressHandler(params, query)) {
    routeListeners.forEach((listener) => listener(pathname));
    return;
  }

  leaveScreen();
  addressHandler = null;
  currentScreen = screen;
  const controller = new AbortController();
  const cleanups = [];
  leaveScreen = () => {
    controller.abort();
    socket.setResyncHook(null);
    cleanups.splice(0).reverse().forEach((cleanup) => cleanup());
  };

  main.replaceChildren();
  screen.render({
    main,
    params,
    query,
    signal: controller.signal,
    navigate,
    /** @param {string} title */
    setTitle(title) {
      setPageTitle(title);
    },
    /** @param {() => void} cleanup run when leaving the screen */
    onCleanup(cleanup) {
      cleanups.push(cleanup);
    },
    /** @param {() => void} hook re-read the screen's data after the socket reconnects */
    onResync(hook) {
      socket.setResyncHook(hook);
    },
    /**
     * @param {(params: object, query: URLSearchParams) => boolean} handler called when the
     *   address changes to another one of this same screen; true when it followed the change
     *   itself (nothing is drawn again), false to be drawn anew
     */
    onAddressChange(handler) {
      addressHandler = handler;
    },
  });

  if (scroll) window.scrollTo(0, 0);
  // After a navigation, start keyboard and screen-reader users at the new screen's heading,
  // as a page load would; on the first load the browser's own focus handling is right.
  if (moveFocus) {
    const heading = main.querySelector('h1');
    if (heading) {
      heading.tabIndex = -1;
      heading.focus({ preventScroll: !scroll });
    }
  }
  routeListeners.forEach((listener) => listener(pathname));
}
