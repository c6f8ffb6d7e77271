// Transport for the REST API and the other same-origin HTTP endpoints.
//
// The browser app keeps no token anywhere (DESIGN §10): it is authenticated by the session
// cookie, so every request is same-origin with credentials, and every unsafe request carries
// Django's CSRF token, read fresh from the cookie each time (signing in may rotate it).
//
// This module has no user-facing text: it turns every failure into an ApiError with a stable
// `code`, and the screens decide what to say (components.js `errorText`).

import { config } from './config.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** A failed request, in the API's one error shape: {"code", "message", "extra"}. */
export class ApiError extends Error {
  /**
   * @param {{status: number, code: string, message?: string, extra?: object}} details
   */
  constructor({ status, code, message = '', extra = {} }) {
    super(message || code);
    this.name = 'ApiError';
    /** HTTP status, or 0 when the server could not be reached. */
    this.status = status;
    this.code = code;
    /** The server's message, already in the person's language; may be empty. */
    this.message = message;
    this.extra = extra || {};
  }

  /** Field errors of a validation error: {"field": ["message", ...]}. */
  get fields() {
    return this.extra.fields || {};
  }
}

/** Listeners told when the server says the session is gone, so the app can sign out. */
const unauthorizedListeners = new Set();
/** Listeners told when the session passed the password but still owes its second factor. */
const secondFactorListeners = new Set();

/** @param {() => void} listener @returns {() => void} unsubscribe */
export function onUnauthorized(listener) {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

/**
 * A session of an account with two-factor authentication is refused everywhere (403
 * `accounts.otp_required`) until its code is entered; the app then goes to that step.
 * @param {() => void} listener @returns {() => void} unsubscribe
 */
export function onSecondFactorRequired(listener) {
  secondFactorListeners.add(listener);
  return () => secondFactorListeners.delete(listener);
}

/** Tell the listeners the session is gone, for answers that do not come through apiRequest. */
export function reportSessionEnded() {
  unauthorizedListeners.forEach((listener) => listener());
}

export function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : '';
}

/**
 * Send a request and parse the JSON answer, without judging the status. The allauth
 * endpoints answer in their own shape, so auth.js interprets those itself.
 *
 * @param {string} url
 * @param {{method?: string, json?: unknown, form?: Record<string,string>, formData?: FormData,
 *          signal?: AbortSignal, headers?: Record<string,string>}} options
 *   formData: a multipart body (files); the browser sets its Content-Type with the boundary.
 * @returns {Promise<{status: number, ok: boolean, body: any}>}
 */
export async function send(url, { method = 'GET', json, form, formData, signal, headers: extraHeaders } = {}) {
  const headers = { Accept: 'application/json', ...extraHeaders };
  let body;
  if (json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(json);
  } else if (formData !== undefined) {
    body = formData;
  } else if (form !== undefined) {
    body = new URLSearchParams(form);
  }
  if (!SAFE_METHODS.has(method)) headers['X-CSRFToken'] = csrfToken();

  let response;
  try {
    response = await fetch(url, { method, headers, body, signal, credentials: 'same-origin' });
  } catch (error) {
    // Leaving a screen aborts its requests; that is not a failure anyone should hear about.
    if (error.name === 'AbortError') throw error;
    throw new ApiError({ status: 0, code: 'network_error' });
  }

  let parsed = null;
  const type = response.headers.get('Content-Type') || '';
  if (response.status !== 204 && type.includes('application/json')) {
    try {
      parsed = await response.json();
    } catch {
      parsed = null;
    }
  }
  return { status: response.status, ok: response.ok, body: parsed };
}

/**
 * Call our REST API (relative to `api_base`) and return the parsed body, or throw ApiError.
 * @param {string} method @param {string} path e.g. "/me/"
 * @param {{json?: unknown, formData?: FormData, signal?: AbortSignal, quiet?: boolean,
 *          headers?: Record<string,string>}} [options]
 *   quiet: only throw, without telling the listeners above (for callers that handle a
 *   signed-out or half-signed-in session themselves, such as signing in)
 *   headers: extra request headers, e.g. the Idempotency-Key of a request that moves money
 */
export async function apiRequest(method, path, { json, formData, signal, headers, quiet = false } = {}) {
  const { status, ok, body } = await send(config.api_base + path, { method, json, formData, signal, headers });
  if (ok) return body;
  throw failure(status, body, quiet);
}

/** The ApiError for a failed answer, after telling the listeners (unless `quiet`). */
function failure(status, body, quiet) {
  const error =
    body && typeof body.code === 'string'
      ? new ApiError({ status, code: body.code, message: body.message, extra: body.extra })
      : new ApiError({ status, code: status >= 500 ? 'server_error' : 'unexpected_response' });
  // With JWT authentication listed first DRF answers 401 to a request without credentials;
  // accept 403 `not_authenticated` too so a settings change does not silently break this.
  if (quiet) return error;
  if (status === 401 || (status === 403 && error.code === 'not_authenticated')) {
    unauthorizedListeners.forEach((listener) => listener());
  } else if (status === 403 && error.code === 'accounts.otp_required') {
    secondFactorListeners.forEach((listener) => listener());
  }
  return error;
}

/**
 * GET an API file (an attachment, e.g. the data export) as a Blob with its file name, from
 * Content-Disposition; failures throw ApiError like apiRequest.
 * @param {string} path @param {{signal?: AbortSignal}} [options]
 * @returns {Promise<{blob: Blob, filename: string}>}
 */
export async function apiDownload(path, { signal } = {}) {
  let response;
  try {
    response = await fetch(config.api_base + path, { credentials: 'same-origin', signal });
  } catch (error) {
    if (error.name === 'AbortError') throw error;
    throw new ApiError({ status: 0, code: 'network_error' });
  }
  if (!response.ok) {
    const body = await response.json().catch(() => null);
    throw failure(response.status, body, false);
  }
  const disposition = response.headers.get('Content-Disposition') || '';
  const match = disposition.match(/filename="?([^";]+)"?/);
  return { blob: await response.blob(), filename: match ? match[1] : 'download' };
}

export const api = {
  get: (path, options) => apiRequest('GET', path, options),
  post: (path, json, options) => apiRequest('POST', path, { ...options, json }),
  /** POST a multipart FormData (file uploads); CSRF as always, no JSON Content-Type. */
  postForm: (path, formData, options) => apiRequest('POST', path, { ...options, formData }),
  patch: (path, json, options) => apiRequest('PATCH', path, { ...options, json }),
  delete: (path, options) => apiRequest('DELETE', path, options),
};

/**
 * POST a form-encoded body to a same-origin Django view (e.g. set_language).
 * @param {string} url @param {Record<string,string>} fields
 */
export async function postForm(url, fields) {
  const { status, ok } = await send(url, { method: 'POST', form: fields });
  if (!ok) throw new ApiError({ status, code: status >= 500 ? 'server_error' : 'unexpected_response' });
}
