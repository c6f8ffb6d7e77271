// The document title: the screen's name, the product, and the number of unread notifications
// in front ("(3) Chat · Atende"), so a background tab still says something is waiting.

import { PRODUCT_NAME } from './config.js';
import { gettext, interpolate } from './i18n.js';

let page = '';
let unread = 0;

/** @param {string} title the screen's name */
export function setPageTitle(title) {
  page = title;
  apply();
}

/** @param {number} count unread notifications (0 hides the counter) */
export function setUnreadCount(count) {
  unread = Math.max(0, count || 0);
  apply();
}

function apply() {
  const base = page ? interpolate(gettext('%(page)s · %(product)s'), { page, product: PRODUCT_NAME }) : PRODUCT_NAME;
  document.title = unread > 0 ? interpolate(gettext('(%(count)s) %(title)s'), { count: unread, title: base }) : base;
}
