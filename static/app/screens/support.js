// /support: a client (a student) talks to the school's support team from inside the app. It
// embeds the support widget in its in-app mode (static/widget/widget.js, data-mode="in-app"):
// the widget's visitor is the signed-in user, and it draws inline in this screen. The widget
// is the one named by the page's config (`support_widget_key`); the script is loaded once, and
// coming back to this screen moves the same widget (and its conversation) into the new element.

import { getUser } from '../auth.js';
import { h } from '../components.js';
import { config } from '../config.js';
import { gettext } from '../i18n.js';

const TARGET_ID = 'support-widget';
let loadedFor = null;

export function render({ main, setTitle }) {
  setTitle(gettext('Support'));
  const key = config.support_widget_key;
  const target = h('div', { id: TARGET_ID, class: 'support-widget', 'data-testid': 'support-widget' });
  main.append(
    h('h1', null, gettext('Support')),
    key ? target : h('p', { class: 'muted', 'data-testid': 'support-unavailable' }, gettext('Not available.')),
  );
  if (!key) return;

  // The widget lives on after the screen (its conversation and socket too), for this user.
  const userId = getUser()?.id;
  const widgets = window.__atendeWidgets || {};
  if (widgets[key] && widgets[key].attach) {
    widgets[key].attach(target);
    if (loadedFor !== userId) widgets[key].renew(); // someone else signed in since
    loadedFor = userId;
    return;
  }
  loadedFor = userId;
  if (document.querySelector(`script[data-atende-support="${CSS.escape(key)}"]`)) return; // still loading
  const script = document.createElement('script');
  script.src = '/static/widget/widget.js';
  script.async = true;
  script.dataset.key = key;
  script.dataset.mode = 'in-app';
  script.dataset.target = `#${TARGET_ID}`;
  script.dataset.lang = config.language || '';
  script.dataset.atendeSupport = key;
  document.head.append(script);
}
