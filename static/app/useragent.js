// A name a person recognises for a browser, from its User-Agent: "Firefox on Windows".
//
// Deliberately simple: the first matching rule wins, and the order matters (Edge and Opera
// also say "Chrome", Chrome also says "Safari", Android also says "Linux"). The names are
// products, the same in every language; only the sentence around them is translated.

import { gettext, interpolate } from './i18n.js';

const BROWSERS = [
  [/\bEdg(e|A|iOS)?\//, 'Edge'],
  [/\bOPR\/|\bOpera\b/, 'Opera'],
  [/\bSamsungBrowser\//, 'Samsung Internet'],
  [/\bFirefox\/|\bFxiOS\//, 'Firefox'],
  [/\bChromium\//, 'Chromium'],
  [/Chrome\/|\bCriOS\//, 'Chrome'],
  [/\bVersion\/[\d.]+.*\bSafari\//, 'Safari'],
];

const SYSTEMS = [
  [/\bWindows\b/, 'Windows'],
  [/\biPhone\b/, 'iPhone'],
  [/\biPad\b/, 'iPad'],
  [/\bAndroid\b/, 'Android'],
  [/\bCrOS\b/, 'ChromeOS'],
  [/\bMac OS X\b|\bMacintosh\b/, 'macOS'],
  [/\bLinux\b/, 'Linux'],
];

const first = (rules, text) => (rules.find(([pattern]) => pattern.test(text)) || [])[1];

/**
 * @param {string} userAgent
 * @returns {{browser: string|undefined, system: string|undefined}}
 */
export function parseUserAgent(userAgent) {
  const text = userAgent || '';
  return { browser: first(BROWSERS, text), system: first(SYSTEMS, text) };
}

/** "Chrome on Android", "Firefox", "Windows", or "Unknown device". @param {string} userAgent */
export function deviceName(userAgent) {
  const { browser, system } = parseUserAgent(userAgent);
  if (browser && system) return interpolate(gettext('%(browser)s on %(system)s'), { browser, system });
  return browser || system || gettext('Unknown device');
}
