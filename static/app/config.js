// The server renders the app's configuration into the page with Django's `json_script`
// (a <script type="application/json">), so nothing here is fetched before the first paint
// and the values can never be interpreted as markup. Read it once; everything else imports
// the frozen result.

const element = document.getElementById('app-config');

/**
 * @typedef {object} AppConfig
 * @property {string} language            active language code, e.g. "pt-br"
 * @property {Array<[string, string]>} languages  [code, name in that language]
 * @property {string} ws_path             path of the WebSocket endpoint, e.g. "/ws/"
 * @property {string} api_base            e.g. "/api/v1"
 * @property {string} auth_base           allauth headless browser base
 * @property {string} set_language_url    Django's set_language view
 * @property {object|null} user           the /me payload, or null when anonymous
 */

/** @type {AppConfig} */
export const config = Object.freeze(JSON.parse(element ? element.textContent : '{}'));

/** The product name is a proper noun: it is the same in every language. */
export const PRODUCT_NAME = 'Atende';
