// Who is signed in, and the allauth headless "browser" endpoints that change it.
//
// allauth answers in its own envelope ({"status", "data", "meta", "errors"}), not in the
// API's error shape, so this module translates its failures into ApiError: screens then
// handle every form error the same way, whichever backend produced it.

import { config } from './config.js';
import { api, ApiError, reportSessionEnded, send } from './api.js';

let currentUser = config.user || null;
// The password was right but the account has two-factor authentication and this session has
// not given its code yet: not signed in for the app (no screens, no socket) until it does.
// The page says so on a reload of such a session (the server leaves `user` empty then).
let secondFactorPending = Boolean(config.two_factor_pending);
const userListeners = new Set();

/** The /me payload of the signed-in person, or null (also while the second factor is due). */
export function getUser() {
  return currentUser;
}

/** Whether this session still owes the code of its second factor (see /two-factor). */
export function isSecondFactorPending() {
  return secondFactorPending;
}

/** @param {object|null} user the /me payload, or null once signed out */
export function setUser(user) {
  currentUser = user;
  secondFactorPending = false;
  userListeners.forEach((listener) => listener(user));
}

/** The server asked for the second factor: the app treats the session as not signed in yet. */
export function requireSecondFactor() {
  currentUser = null;
  secondFactorPending = true;
  userListeners.forEach((listener) => listener(null));
}

/** @param {(user: object|null) => void} listener @returns {() => void} unsubscribe */
export function onUserChange(listener) {
  userListeners.add(listener);
  return () => userListeners.delete(listener);
}

/** The person's membership in an organization, or undefined. @param {number} organizationId */
export function membershipIn(organizationId) {
  return currentUser?.memberships?.find((m) => m.organization.id === organizationId);
}

/**
 * Re-read /me (memberships and preferences change elsewhere) and publish it.
 * @param {{quiet?: boolean}} [options] see apiRequest
 */
export async function loadMe(options) {
  const me = await api.get('/me/', options);
  setUser(me);
  return me;
}

/** @param {Record<string, unknown>} changes any of display_name, language, time_zone */
export async function updateMe(changes) {
  const me = await api.patch('/me/', changes);
  setUser(me);
  return me;
}

/**
 * Turn a non-2xx allauth answer into an ApiError shaped like our own validation errors:
 * errors with a `param` become `extra.fields[param]`, the others `extra.fields.__all__`.
 * allauth's own error codes (e.g. "invalid_password_reset") are kept in `extra.codes`.
 */
function allauthError(status, body) {
  const errors = (body && body.errors) || [];
  const fields = {};
  for (const error of errors) (fields[error.param || '__all__'] ||= []).push(error.message);
  const codes = errors.map((error) => error.code).filter(Boolean);
  // allauth refuses sign-in while the failed-attempt lock holds, with a plain 400.
  if (codes.includes('too_many_login_attempts')) return new ApiError({ status, code: 'auth.locked' });
  if (status === 400) return new ApiError({ status, code: 'validation_error', extra: { fields, codes } });
  if (status === 401) {
    // Credentials were accepted but another step is pending (e.g. a mandatory e-mail
    // verification or a second factor), which this screen set does not offer yet.
    const flows = (body && body.data && body.data.flows) || [];
    const pending = flows.find((flow) => flow.is_pending);
    return new ApiError({ status, code: 'auth.flow_pending', extra: { flow: pending ? pending.id : null } });
  }
  if (status === 403) return new ApiError({ status, code: 'auth.signup_closed' });
  if (status === 429) return new ApiError({ status, code: 'too_many_requests' });
  return new ApiError({ status, code: status >= 500 ? 'server_error' : 'unexpected_response' });
}

async function authRequest(method, path, json) {
  return send(config.auth_base + path, { method, json });
}

/**
 * Sign in with e-mail and password, then load the full /me payload.
 * @param {{email: string, password: string}} credentials
 * @returns {Promise<object|null>} the /me payload, or null when the account has two-factor
 *   authentication and its code comes next (isSecondFactorPending() is then true)
 */
export async function signIn({ email, password }) {
  const { status, body } = await authRequest('POST', '/auth/login', { email, password });
  // allauth's general rate limit on the login endpoint: for the person, the same as a lock.
  if (status === 429) throw new ApiError({ status, code: 'auth.locked' });
  // 409 means this browser already has a session (e.g. signed in from another tab): the
  // person is where they wanted to be, so carry on rather than showing an error.
  if (status !== 200 && status !== 409) throw allauthError(status, body);
  try {
    return await loadMe({ quiet: true });
  } catch (error) {
    if (error.code !== 'accounts.otp_required') throw error;
    requireSecondFactor();
    return null;
  }
}

/**
 * The second step of signing in: a code from the authenticator app, or a recovery code.
 * Recovery codes are lower case; people copy them from paper in any case, with spaces.
 * @param {string} code
 */
export async function verifySecondFactor(code) {
  const me = await api.post('/auth/two-factor/verify/', { code });
  setUser(me);
  return me;
}

/**
 * Create an account and sign in. The server sends the e-mail and SMS codes straight away;
 * verifying them is the next screen (/verify), not a condition for signing in.
 * @param {{email: string, password: string, display_name: string, phone: string}} details
 */
export async function signUp({ email, password, display_name, phone }) {
  const { status, body } = await authRequest('POST', '/auth/signup', { email, password, display_name, phone });
  if (status !== 200 && status !== 409) throw allauthError(status, body);
  return loadMe();
}

/** End the session. allauth answers 401 ("no longer authenticated") on success. */
export async function signOut() {
  const { status, body } = await authRequest('DELETE', '/auth/session');
  if (status !== 401) throw allauthError(status, body);
  setUser(null);
}

/**
 * E-mail a password reset link. allauth answers 200 whether or not the address has an
 * account, so nobody can learn who has one here.
 * @param {string} email
 */
export async function requestPasswordReset(email) {
  const { status, body } = await authRequest('POST', '/auth/password/request', { email });
  if (status !== 200) throw allauthError(status, body);
}

/**
 * Check a reset key (from the e-mailed link): the account it resets ({id, email, display}),
 * or null when the key is wrong, used or expired. Other failures (network, server) throw.
 * @param {string} key
 */
export async function passwordResetKeyUser(key) {
  const { status, body } = await send(`${config.auth_base}/auth/password/reset`, {
    headers: { 'X-Password-Reset-Key': key },
  });
  if (status === 200) return (body && body.data && body.data.user) || {};
  if (status === 400) return null;
  throw allauthError(status, body);
}

/**
 * Set a new password with a reset key. allauth then answers 401 (done, not signed in, since
 * signing in on reset is off) or 200 if it was configured to sign the person in.
 * @param {{key: string, password: string}} details
 * @returns {Promise<boolean>} whether the person is now signed in
 */
export async function resetPassword({ key, password }) {
  const { status, body } = await authRequest('POST', '/auth/password/reset', { key, password });
  if (status === 200) {
    await loadMe();
    return true;
  }
  if (status === 401) {
    // Done, and this browser is signed out (it may have been signed in as anyone).
    setUser(null);
    return false;
  }
  throw allauthError(status, body);
}

// --- Signed-in browsers (allauth usersessions) -----------------------------------------------

/**
 * @typedef {object} BrowserSession
 * @property {number} id
 * @property {string} user_agent
 * @property {string} ip
 * @property {number} created_at    epoch seconds
 * @property {number} [last_seen_at] epoch seconds (when activity is tracked)
 * @property {boolean} is_current
 */

/** @returns {Promise<BrowserSession[]>} the person's signed-in browsers */
export async function listSessions() {
  const { status, body } = await authRequest('GET', '/auth/sessions');
  if (status === 200) return (body && body.data) || [];
  throw sessionsError(status, body);
}

/**
 * Sign these browsers out.
 * @param {number[]} ids @returns {Promise<BrowserSession[]>} the sessions left
 */
export async function endSessions(ids) {
  const { status, body } = await authRequest('DELETE', '/auth/sessions', { sessions: ids });
  if (status === 200) return (body && body.data) || [];
  throw sessionsError(status, body);
}

function sessionsError(status, body) {
  // 401 here is not a pending step: this session is gone (ended from another browser).
  if (status === 401) {
    reportSessionEnded();
    return new ApiError({ status, code: 'not_authenticated' });
  }
  return allauthError(status, body);
}

/**
 * Choose the organization to work in (when the person belongs to several).
 * @param {number} organizationId
 */
export async function setActiveOrganization(organizationId) {
  const me = await api.post('/me/active-organization/', { organization_id: organizationId });
  setUser(me);
  return me;
}

/**
 * The organization the person works in: the one they chose, else their first.
 * @param {object|null} user the /me payload
 * @returns {object|undefined} a membership ({id, role, organization})
 */
export function activeMembership(user) {
  const memberships = (user && user.memberships) || [];
  return memberships.find((m) => m.organization.id === user.active_organization_id) || memberships[0];
}

/** Turn this account into a professional one; publishes the new /me. */
export async function becomeProfessional() {
  const me = await api.post('/me/professional/');
  setUser(me);
  return me;
}

/**
 * Delete this account for good (the password is asked again). The server anonymizes it and
 * ends its sessions, this one included, so the app then forgets the person here too.
 * @param {string} password
 */
export async function deleteAccount(password) {
  await api.post('/me/delete/', { password });
  setUser(null);
}
