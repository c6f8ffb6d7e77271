/*
 * Atende's support widget, embedded on an organization's own website by one tag:
 *
 *   <script src="https://ATENDE_HOST/static/widget/widget.js" data-key="pk_..." async></script>
 *
 * Optional attributes: data-lang="en" | "pt-BR" (default: the browser's language, English only
 * if it is English, else Brazilian Portuguese) and data-api="https://ATENDE_HOST" (default:
 * where this script came from).
 *
 * In-app mode (Atende's own web app, for its signed-in users): data-mode="in-app" and
 * data-target="<CSS selector>". The visitor is the signed-in user: the token comes from
 * `POST session/in-app/` (session cookie + CSRF header, same origin), so there is no name or
 * e-mail to ask, and the widget is drawn inline in the target element instead of as a
 * floating launcher. When the app draws the target again (it left the screen and came back),
 * it calls `window.__atendeWidgets[key].attach(element)` to move the widget there.
 *
 * It is a classic script (not a module) with no dependencies and no build step, because it
 * runs on pages we do not control. Everything it draws lives in a shadow root, so the page's
 * CSS cannot reach in and ours cannot leak out. The visitor's signed token is kept in the
 * page's localStorage (`atende_widget_<key>`), so a reload restores the conversation.
 *
 * Delivery over the socket is at most once: after every (re)connect the widget re-reads the
 * conversation and the messages after the last one it has (REST), so nothing is missed.
 */
(function () {
  'use strict';

  var script = document.currentScript;
  if (!script || !script.dataset || !script.dataset.key) return;
  if (window.__atendeWidgets && window.__atendeWidgets[script.dataset.key]) return;
  window.__atendeWidgets = window.__atendeWidgets || {};
  window.__atendeWidgets[script.dataset.key] = { loading: true };

  var KEY = script.dataset.key;
  var BASE = (script.dataset.api || new URL(script.src, document.baseURI).origin).replace(/\/+$/, '');
  var API = BASE + '/api/v1/widget';
  var STORAGE_KEY = 'atende_widget_' + KEY;
  var LANG = /^en\b|^en-/i.test(script.dataset.lang || navigator.language || '') ? 'en' : 'pt-BR';
  var TYPING_SEND_EVERY_MS = 3000;
  var TYPING_SHOWN_MS = 5000;
  var BACKOFF_FIRST_MS = 1000;
  var BACKOFF_CAP_MS = 30000;
  var HEARTBEAT_MS = 25000;
  var IN_APP = script.dataset.mode === 'in-app';
  var TARGET = script.dataset.target || null;

  // --- Text --------------------------------------------------------------------------------

  var STRINGS = {
    'pt-BR': {
      open: 'Abrir o chat de atendimento',
      close: 'Fechar o chat',
      defaultTitle: 'Fale conosco',
      name: 'Nome',
      email: 'E-mail',
      department: 'Assunto',
      message: 'Mensagem',
      start: 'Iniciar conversa',
      send: 'Enviar',
      attach: 'Anexar arquivo',
      removeAttachment: 'Remover anexo',
      typeMessage: 'Escreva uma mensagem…',
      position: 'Você é o número {n} na fila',
      positionWait: 'Você é o número {n} na fila (cerca de {m} min)',
      waiting: 'Aguardando um atendente…',
      agent: 'Você está falando com {name}',
      typing: '{name} está digitando…',
      someone: 'Atendente',
      you: 'Você',
      offlineTitle: 'Estamos fora do horário de atendimento. Deixe uma mensagem e responderemos por e-mail.',
      offlineSend: 'Enviar mensagem',
      offlineSent: 'Recebemos sua mensagem. Responderemos por e-mail assim que possível.',
      transcript: 'Enviar a conversa para meu e-mail',
      transcriptSent: 'Enviamos a conversa para {email}.',
      resolved: 'Esta conversa foi encerrada.',
      csatQuestion: 'Como foi o atendimento?',
      csatStar: '{n} de 5 estrelas',
      csatComment: 'Comentário (opcional)',
      csatSubmit: 'Enviar avaliação',
      csatThanks: 'Obrigado pela avaliação!',
      newConversation: 'Iniciar nova conversa',
      reconnecting: 'Reconectando…',
      uploading: 'Enviando {name}…',
      failed: 'Não foi possível enviar. Tente de novo.',
      required: 'Preencha nome, e-mail e mensagem.',
      requiredMessage: 'Escreva sua mensagem.',
      unavailable: 'O chat está indisponível no momento.'
    },
    en: {
      open: 'Open the support chat',
      close: 'Close the chat',
      defaultTitle: 'Talk to us',
      name: 'Name',
      email: 'E-mail',
      department: 'Topic',
      message: 'Message',
      start: 'Start the conversation',
      send: 'Send',
      attach: 'Attach a file',
      removeAttachment: 'Remove attachment',
      typeMessage: 'Write a message…',
      position: 'You are number {n} in line',
      positionWait: 'You are number {n} in line (about {m} min)',
      waiting: 'Waiting for an agent…',
      agent: 'You are talking to {name}',
      typing: '{name} is typing…',
      someone: 'Agent',
      you: 'You',
      offlineTitle: 'We are closed right now. Leave a message and we will answer by e-mail.',
      offlineSend: 'Send message',
      offlineSent: 'We got your message. We will answer by e-mail as soon as we can.',
      transcript: 'Email me the transcript',
      transcriptSent: 'We sent the transcript to {email}.',
      resolved: 'This conversation was closed.',
      csatQuestion: 'How was our support?',
      csatStar: '{n} of 5 stars',
      csatComment: 'Comment (optional)',
      csatSubmit: 'Send rating',
      csatThanks: 'Thank you for your rating!',
      newConversation: 'Start a new conversation',
      reconnecting: 'Reconnecting…',
      uploading: 'Uploading {name}…',
      failed: 'Could not send. Please try again.',
      required: 'Please fill in your name, e-mail and message.',
      requiredMessage: 'Please write your message.',
      unavailable: 'The chat is unavailable right now.'
    }
  };

  function t(id, values) {
    var text = STRINGS[LANG][id] || STRINGS.en[id] || id;
    return text.replace(/\{(\w+)\}/g, function (_match, name) {
      return values && values[name] != null ? String(values[name]) : '';
    });
  }

  // --- Small helpers -----------------------------------------------------------------------

  /** A random id for client_id (crypto.randomUUID needs a secure context; the page may not be). */
  function uuid() {
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 0x100).toString(16).slice(1); }).join('');
    return hex.slice(0, 8) + '-' + hex.slice(8, 12) + '-' + hex.slice(12, 16) + '-' + hex.slice(16, 20) + '-' + hex.slice(20);
  }

  function el(tag, attributes, children) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) {
      var value = attributes[name];
      if (value == null || value === false) return;
      if (name === 'text') node.textContent = value;
      else if (name === 'testid') node.setAttribute('data-testid', value);
      else if (name.slice(0, 2) === 'on') node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? '' : value);
    });
    (children || []).forEach(function (child) {
      if (child != null) node.append(child);
    });
    return node;
  }

  function loadStored() {
    try {
      return JSON.parse(localStorage.getItem(STORAGE_KEY) || 'null') || {};
    } catch (error) {
      return {};
    }
  }

  function saveStored(value) {
    try {
      localStorage.setItem(STORAGE_KEY, JSON.stringify(value));
    } catch (error) {
      // Storage may be off (private mode): the conversation then lasts as long as the page.
    }
  }

  function results(body) {
    return Array.isArray(body) ? body : (body && body.results) || [];
  }

  // --- API ---------------------------------------------------------------------------------

  var state = {
    config: null,
    token: null,
    contact: null,
    conversation: null,
    messages: new Map(), // id -> message
    lastMessageId: 0,
    pendingAttachments: [], // [{id, name, previewUrl}]
    open: false,
    unread: 0,
    view: 'loading',
    socket: null,
    socketWanted: false,
    socketAttempt: 0,
    retryTimer: null,
    heartbeatTimer: null,
    typingSentAt: 0,
    typingTimer: null
  };

  function ApiError(status, body) {
    this.status = status;
    this.code = (body && body.code) || 'error';
    this.message = (body && body.message) || t('failed');
    this.extra = (body && body.extra) || {};
  }

  /** Django's CSRF token, from its cookie (in-app mode only: our own origin). */
  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : '';
  }

  function api(method, path, body, asUser) {
    var headers = { 'X-Widget-Key': KEY };
    var options = { method: method, headers: headers, mode: 'cors', credentials: 'omit' };
    if (asUser) {
      // The signed-in user of our own web app: their session cookie, never a visitor token.
      options.mode = 'same-origin';
      options.credentials = 'same-origin';
      headers['X-CSRFToken'] = csrfToken();
    } else if (state.token) {
      headers.Authorization = 'Visitor ' + state.token;
    }
    if (body instanceof FormData) {
      options.body = body;
    } else if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      options.body = JSON.stringify(body);
    }
    return fetch(API + path, options).then(function (response) {
      if (response.status === 204) return null;
      return response.json().catch(function () { return null; }).then(function (data) {
        if (!response.ok) throw new ApiError(response.status, data);
        return data;
      });
    });
  }

  // --- Sound -------------------------------------------------------------------------------

  var sound = new Audio(BASE + '/static/sounds/message.wav');
  sound.preload = 'auto';
  var soundUnlocked = false;

  // Browsers let a page play sound only after the person interacted with it; the first
  // gesture plays the sound muted once, which unlocks it for the agent's messages later.
  function unlockSound() {
    if (soundUnlocked) return;
    soundUnlocked = true;
    sound.muted = true;
    var played = sound.play();
    var restore = function () {
      sound.pause();
      sound.currentTime = 0;
      sound.muted = false;
    };
    if (played && played.then) played.then(restore, restore);
    else restore();
  }
  document.addEventListener('pointerdown', unlockSound, { capture: true, once: true });
  document.addEventListener('keydown', unlockSound, { capture: true, once: true });

  function ding() {
    try {
      sound.muted = false;
      sound.currentTime = 0;
      var played = sound.play();
      if (played && played.catch) played.catch(function () {});
    } catch (error) {
      // No sound is not worth an error on someone else's page.
    }
  }

  // --- Shadow DOM shell --------------------------------------------------------------------

  var CSS = [
    ':host { all: initial; }',
    '*, *::before, *::after { box-sizing: border-box; }',
    '.root { position: fixed; right: 20px; bottom: 20px; z-index: 2147483000; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1b1f1e; }',
    'button, input, select, textarea { font: inherit; color: inherit; }',
    'p { margin: 0; }',
    '.error:empty, .previews:empty { display: none; }',
    'button { cursor: pointer; }',
    '.launcher { width: 56px; height: 56px; border-radius: 50%; border: 0; background: var(--accent); color: #fff; box-shadow: 0 4px 14px rgba(0,0,0,.25); display: grid; place-items: center; margin-left: auto; position: relative; }',
    '.launcher svg { width: 28px; height: 28px; fill: currentColor; }',
    '.launcher:focus-visible, .panel :focus-visible { outline: 3px solid #1d4ed8; outline-offset: 2px; }',
    '.badge { position: absolute; top: -4px; right: -4px; min-width: 20px; height: 20px; padding: 0 5px; border-radius: 10px; background: #b91c1c; color: #fff; font-size: 12px; line-height: 20px; text-align: center; }',
    '.panel { width: min(370px, calc(100vw - 40px)); height: min(560px, calc(100vh - 110px)); margin-bottom: 12px; background: #fff; border-radius: 14px; box-shadow: 0 10px 40px rgba(0,0,0,.25); display: flex; flex-direction: column; overflow: hidden; }',
    '.panel[hidden] { display: none; }',
    '.head { background: var(--accent); color: #fff; padding: 12px 14px; display: flex; align-items: flex-start; gap: 8px; }',
    '.head h2 { margin: 0; font-size: 16px; }',
    '.head p { margin: 2px 0 0; font-size: 13px; opacity: .92; }',
    '.head .close { margin-left: auto; background: transparent; border: 0; color: #fff; font-size: 22px; line-height: 1; padding: 0 4px; }',
    '.body { flex: 1; overflow-y: auto; padding: 12px 14px; display: flex; flex-direction: column; gap: 8px; }',
    '.greeting { margin: 0; color: #3d4644; }',
    'form { display: flex; flex-direction: column; gap: 8px; }',
    'label { display: flex; flex-direction: column; gap: 3px; font-size: 13px; color: #3d4644; }',
    'input, select, textarea { border: 1px solid #b8c2bf; border-radius: 8px; padding: 7px 9px; background: #fff; }',
    'textarea { resize: vertical; min-height: 60px; }',
    '.primary { background: var(--accent); color: #fff; border: 0; border-radius: 8px; padding: 9px 12px; font-weight: 600; }',
    '.primary:disabled { opacity: .6; cursor: default; }',
    '.link { background: none; border: 0; color: var(--accent); text-decoration: underline; padding: 0; font-size: 13px; align-self: flex-start; }',
    '.status { font-size: 13px; color: #3d4644; background: #eef3f1; border-radius: 8px; padding: 6px 9px; }',
    '.error { font-size: 13px; color: #8a1010; }',
    '.messages { display: flex; flex-direction: column; gap: 6px; margin: 0; padding: 0; list-style: none; }',
    '.msg { max-width: 82%; padding: 7px 10px; border-radius: 12px; background: #eef3f1; align-self: flex-start; overflow-wrap: anywhere; }',
    '.msg[data-by="contact"] { align-self: flex-end; background: var(--accent); color: #fff; }',
    '.msg .who { display: block; font-size: 11px; opacity: .75; }',
    '.msg p { margin: 0; }',
    '.msg a { color: inherit; }',
    '.msg img { display: block; max-width: 100%; max-height: 180px; border-radius: 8px; margin-top: 4px; }',
    '.system { align-self: center; font-size: 12px; color: #5b6563; }',
    '.typing { font-size: 12px; color: #5b6563; font-style: italic; min-height: 1em; }',
    '.composer { border-top: 1px solid #dde3e1; padding: 8px; display: flex; flex-direction: column; gap: 6px; }',
    '.composer .row { display: flex; gap: 6px; align-items: flex-end; }',
    '.composer textarea { flex: 1; min-height: 38px; max-height: 120px; }',
    '.attach { border: 1px solid #b8c2bf; background: #fff; border-radius: 8px; padding: 6px 8px; display: grid; place-items: center; }',
    '.attach svg { width: 20px; height: 20px; fill: none; stroke: #3d4644; stroke-width: 2; stroke-linecap: round; stroke-linejoin: round; }',
    '.previews { display: flex; gap: 6px; flex-wrap: wrap; }',
    '.preview { display: flex; align-items: center; gap: 4px; font-size: 12px; background: #eef3f1; border-radius: 6px; padding: 3px 6px; }',
    '.preview img { width: 40px; height: 40px; object-fit: cover; border-radius: 4px; }',
    '.preview button { border: 0; background: none; padding: 0 2px; }',
    '.stars { display: flex; gap: 4px; border: 0; padding: 0; margin: 0; }',
    '.stars button { font-size: 26px; line-height: 1; border: 0; background: none; color: #b8c2bf; padding: 0 2px; }',
    '.stars button[aria-pressed="true"] { color: #d97706; }',
    '.hidden { display: none !important; }',
    '.root.inline { position: static; z-index: auto; }',
    '.inline .panel { width: 100%; height: min(600px, calc(100vh - 220px)); min-height: 360px; margin: 0; box-shadow: 0 1px 4px rgba(0,0,0,.15); border: 1px solid #dde3e1; }',
    '@media (prefers-reduced-motion: no-preference) { .panel { animation: rise .15s ease-out; } @keyframes rise { from { transform: translateY(8px); opacity: 0; } } }'
  ].join('\n');

  var host = null;
  var shadow = null;
  var nodes = {};

  function mount() {
    host = el('div', { 'data-atende-widget': KEY });
    shadow = host.attachShadow({ mode: 'open' });
    var color = /^#[0-9a-f]{6}$/i.test(state.config.color || '') ? state.config.color : '#0f766e';
    var style = el('style', { text: CSS + '\n.root { --accent: ' + color + '; }' });

    nodes.badge = el('span', { class: 'badge hidden', 'aria-hidden': 'true' });
    nodes.launcher = el('button', {
      type: 'button', class: 'launcher', testid: 'widget-launcher', 'aria-label': t('open'),
      'aria-expanded': 'false', onclick: function () { setOpen(!state.open); }
    }, [nodes.badge]);
    nodes.launcher.insertAdjacentHTML('afterbegin',
      '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H8l-5 4V5a2 2 0 0 1 1-2z"/></svg>');

    nodes.agent = el('p', { testid: 'widget-agent', class: 'hidden' });
    nodes.title = el('h2', { id: 'atende-widget-title', text: state.config.title || t('defaultTitle') });
    nodes.head = el('div', { class: 'head' }, [
      el('div', {}, [nodes.title, nodes.agent]),
      IN_APP ? null : el('button', { type: 'button', class: 'close', 'aria-label': t('close'), text: '×', onclick: function () { setOpen(false); } })
    ]);
    nodes.body = el('div', { class: 'body', 'aria-live': 'polite' });
    nodes.footer = el('div', {});
    nodes.panel = el('section', {
      class: 'panel', testid: 'widget-panel', role: IN_APP ? 'region' : 'dialog',
      'aria-labelledby': 'atende-widget-title', hidden: !IN_APP
    }, [nodes.head, nodes.body, nodes.footer]);

    if (IN_APP) {
      // Inline in the app's page, always open: no launcher, no unread badge.
      state.open = true;
      shadow.append(style, el('div', { class: 'root inline' }, [nodes.panel]));
      var target = TARGET ? document.querySelector(TARGET) : null;
      if (target) target.append(host);
      return;
    }
    shadow.append(style, el('div', { class: 'root' }, [nodes.panel, nodes.launcher]));
    document.body.append(host);
  }

  /** In-app mode: (re)places the widget in the element the app drew for it. */
  function attach(target) {
    var element = typeof target === 'string' ? document.querySelector(target) : target;
    if (!element || !host) return false;
    if (host.parentNode !== element) element.append(host);
    scrollToEnd();
    return true;
  }

  function setOpen(open) {
    state.open = open;
    nodes.panel.hidden = !open;
    nodes.launcher.setAttribute('aria-expanded', open ? 'true' : 'false');
    if (open) {
      state.unread = 0;
      renderBadge();
      scrollToEnd();
      var first = nodes.panel.querySelector('input, textarea, select');
      if (first) first.focus();
    }
  }

  function renderBadge() {
    nodes.badge.textContent = String(state.unread);
    nodes.badge.classList.toggle('hidden', state.unread === 0);
  }

  function scrollToEnd() {
    nodes.body.scrollTop = nodes.body.scrollHeight;
  }

  function greeting() {
    return state.config.greeting ? el('p', { class: 'greeting', text: state.config.greeting }) : null;
  }

  function departmentSelect(testid) {
    var departments = state.config.departments || [];
    if (departments.length === 0) return null;
    var select = el('select', { name: 'department', testid: testid }, departments.map(function (item) {
      return el('option', { value: String(item.id), text: item.name });
    }));
    return el('label', {}, [t('department'), select]);
  }

  function field(label, attributes) {
    return el('label', {}, [label, el(attributes.rows ? 'textarea' : 'input', attributes)]);
  }

  function formValues(form) {
    var data = new FormData(form);
    var department = data.get('department');
    return {
      name: String(data.get('name') || '').trim(),
      email: String(data.get('email') || '').trim(),
      department_id: department ? Number(department) : null,
      body: String(data.get('body') || '').trim()
    };
  }

  // --- Views -------------------------------------------------------------------------------

  function show(view, body, footer) {
    state.view = view;
    nodes.panel.setAttribute('data-view', view);
    nodes.body.replaceChildren.apply(nodes.body, body.filter(Boolean));
    nodes.footer.replaceChildren.apply(nodes.footer, (footer || []).filter(Boolean));
  }

  function showPrechat(prefill) {
    stopSocket();
    state.conversation = null;
    state.messages = new Map();
    state.lastMessageId = 0;
    renderAgent();
    if (!state.config.open_now) {
      showOffline(prefill);
      return;
    }
    var contact = state.contact || {};
    var errorLine = el('p', { class: 'error', role: 'alert' });
    var submit = el('button', { type: 'submit', class: 'primary', testid: 'prechat-submit', text: t('start') });
    var form = el('form', { novalidate: true }, [
      // In the app the visitor is the signed-in user: their name and e-mail are known.
      IN_APP ? null : field(t('name'), { name: 'name', autocomplete: 'name', required: true, testid: 'prechat-name', value: contact.name || '' }),
      IN_APP ? null : field(t('email'), { name: 'email', type: 'email', autocomplete: 'email', required: true, testid: 'prechat-email', value: contact.email || '' }),
      departmentSelect('prechat-department'),
      field(t('message'), { name: 'body', rows: 3, required: true, testid: 'prechat-message', text: (prefill && prefill.body) || '' }),
      errorLine,
      submit
    ]);
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      var values = formValues(form);
      if (IN_APP && !values.body) {
        errorLine.textContent = t('requiredMessage');
        return;
      }
      if (!IN_APP && (!values.name || !values.email || !values.body)) {
        errorLine.textContent = t('required');
        return;
      }
      submit.disabled = true;
      errorLine.textContent = '';
      startConversation(values).catch(function (error) {
        submit.disabled = false;
        if (error && error.code === 'widget.offline') {
          state.config.open_now = false;
          showOffline(values);
          return;
        }
        errorLine.textContent = (error && error.message) || t('failed');
      });
    });
    show('prechat', [greeting(), form]);
  }

  function showOffline(prefill) {
    var contact = prefill || state.contact || {};
    var errorLine = el('p', { class: 'error', role: 'alert' });
    var submit = el('button', { type: 'submit', class: 'primary', testid: 'offline-submit', text: t('offlineSend') });
    var form = el('form', { novalidate: true, testid: 'widget-offline-form' }, [
      el('p', { class: 'status', text: t('offlineTitle') }),
      field(t('name'), { name: 'name', autocomplete: 'name', required: true, value: contact.name || '' }),
      field(t('email'), { name: 'email', type: 'email', autocomplete: 'email', required: true, value: contact.email || '' }),
      departmentSelect('offline-department'),
      field(t('message'), { name: 'body', rows: 4, required: true, text: contact.body || '' }),
      errorLine,
      submit
    ]);
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      var values = formValues(form);
      if (!values.name || !values.email || !values.body) {
        errorLine.textContent = t('required');
        return;
      }
      submit.disabled = true;
      api('POST', '/offline/', values).then(function (answer) {
        rememberSession(answer);
        if (answer.conversation) setConversation(answer.conversation);
        show('offline-sent', [el('p', { class: 'status', role: 'status', testid: 'widget-offline-sent', text: t('offlineSent') })]);
      }, function (error) {
        submit.disabled = false;
        errorLine.textContent = error.message;
      });
    });
    show('offline', [greeting(), form]);
  }

  function showChat() {
    nodes.messages = el('ol', { class: 'messages', testid: 'widget-messages' });
    nodes.position = el('p', { class: 'status hidden', role: 'status', testid: 'widget-position' });
    nodes.typing = el('p', { class: 'typing', testid: 'widget-typing', 'aria-live': 'polite' });
    nodes.connection = el('p', { class: 'status hidden', text: t('reconnecting') });
    nodes.after = el('div', {});
    nodes.input = el('textarea', {
      rows: 1, testid: 'widget-input', 'aria-label': t('message'), placeholder: t('typeMessage'),
      oninput: sendTyping,
      onkeydown: function (event) {
        if (event.key === 'Enter' && !event.shiftKey) {
          event.preventDefault();
          sendMessage();
        }
      }
    });
    nodes.file = el('input', { type: 'file', class: 'hidden', testid: 'widget-file', onchange: function () { uploadFiles(nodes.file.files); } });
    nodes.previews = el('div', { class: 'previews' });
    nodes.composerError = el('p', { class: 'error', role: 'alert' });
    nodes.send = el('button', { type: 'button', class: 'primary', testid: 'widget-send', text: t('send'), onclick: sendMessage });
    nodes.composer = el('div', { class: 'composer' }, [
      nodes.previews,
      nodes.composerError,
      el('div', { class: 'row' }, [
        attachButton(),
        nodes.file,
        nodes.input,
        nodes.send
      ])
    ]);
    nodes.transcriptLine = el('p', { class: 'status hidden', role: 'status', testid: 'widget-transcript-sent' });
    var transcript = el('button', { type: 'button', class: 'link', testid: 'widget-transcript', text: t('transcript'), onclick: requestTranscript });
    show('chat', [greeting(), nodes.messages, nodes.position, nodes.typing, nodes.connection, transcript, nodes.transcriptLine, nodes.after], [nodes.composer]);
    Array.from(state.messages.values()).forEach(renderMessage);
    renderConversation();
  }

  function attachButton() {
    var button = el('button', { type: 'button', class: 'attach', 'aria-label': t('attach'), title: t('attach'), onclick: function () { nodes.file.click(); } });
    // A paperclip drawn here: an emoji depends on the visitor's fonts.
    button.innerHTML = '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M21 11.5l-8.6 8.6a5.5 5.5 0 0 1-7.8-7.8l8.6-8.6a3.7 3.7 0 0 1 5.2 5.2l-8.6 8.6a1.8 1.8 0 0 1-2.6-2.6l7.9-7.9"/></svg>';
    return button;
  }

  function renderAgent() {
    var name = state.conversation && state.conversation.assignee_name;
    nodes.agent.textContent = name ? t('agent', { name: name }) : '';
    nodes.agent.classList.toggle('hidden', !name);
  }

  /** Reflects the conversation's state: position in line, agent, resolved → CSAT. */
  function renderConversation() {
    var conversation = state.conversation;
    renderAgent();
    if (!conversation || state.view !== 'chat') return;
    var waiting = conversation.status === 'open' && !conversation.assignee_name;
    if (waiting && conversation.offline) {
      nodes.position.textContent = t('offlineSent');
    } else if (waiting && conversation.position) {
      var minutes = conversation.estimated_wait_seconds ? Math.max(1, Math.ceil(conversation.estimated_wait_seconds / 60)) : null;
      nodes.position.textContent = minutes
        ? t('positionWait', { n: conversation.position, m: minutes })
        : t('position', { n: conversation.position });
    } else {
      nodes.position.textContent = waiting ? t('waiting') : '';
    }
    nodes.position.classList.toggle('hidden', !waiting);
    var resolved = conversation.status === 'resolved';
    nodes.composer.classList.toggle('hidden', resolved);
    if (resolved) {
      nodes.typing.textContent = '';
      if (nodes.after.getAttribute('data-for') !== (conversation.rated ? 'rated' : 'csat')) {
        nodes.after.setAttribute('data-for', conversation.rated ? 'rated' : 'csat');
        nodes.after.replaceChildren(
          el('p', { class: 'status', text: t('resolved') }),
          conversation.rated ? thanks() : csatForm()
        );
      }
    } else if (nodes.after.childElementCount) {
      nodes.after.removeAttribute('data-for');
      nodes.after.replaceChildren();
    }
    scrollToEnd();
  }

  function csatForm() {
    var rating = 0;
    var stars = [1, 2, 3, 4, 5].map(function (value) {
      return el('button', {
        type: 'button', testid: 'csat-star-' + value, 'aria-label': t('csatStar', { n: value }), 'aria-pressed': 'false', text: '★',
        onclick: function () {
          rating = value;
          stars.forEach(function (star, index) { star.setAttribute('aria-pressed', index < value ? 'true' : 'false'); });
          submit.disabled = false;
        }
      });
    });
    var comment = el('textarea', { rows: 2, testid: 'csat-comment', name: 'comment' });
    var errorLine = el('p', { class: 'error', role: 'alert' });
    var submit = el('button', { type: 'submit', class: 'primary', testid: 'csat-submit', text: t('csatSubmit'), disabled: true });
    var form = el('form', { testid: 'csat-form' }, [
      el('fieldset', { class: 'stars', 'aria-label': t('csatQuestion') }, [el('legend', { text: t('csatQuestion') })].concat(stars)),
      el('label', {}, [t('csatComment'), comment]),
      errorLine,
      submit
    ]);
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      if (!rating) return;
      submit.disabled = true;
      api('POST', '/conversations/' + state.conversation.id + '/csat/', { rating: rating, comment: comment.value.trim() }).then(function () {
        state.conversation.rated = true;
        renderConversation();
      }, function (error) {
        if (error.code === 'widget.already_rated') {
          state.conversation.rated = true;
          renderConversation();
          return;
        }
        submit.disabled = false;
        errorLine.textContent = error.message;
      });
    });
    return form;
  }

  function thanks() {
    return el('div', {}, [
      el('p', { class: 'status', role: 'status', testid: 'csat-thanks', text: t('csatThanks') }),
      el('button', {
        type: 'button', class: 'primary', testid: 'widget-new-conversation', text: t('newConversation'),
        onclick: function () {
          forgetConversation();
          showPrechat();
        }
      })
    ]);
  }

  function renderMessage(message) {
    if (!nodes.messages || message.kind === 'note') return;
    var existing = nodes.messages.querySelector('[data-message-id="' + message.id + '"]');
    var isSystem = message.kind === 'system';
    var by = message.by_contact ? 'contact' : 'agent';
    var content = el('p', {});
    if (message.html) content.innerHTML = message.html; // rendered and sanitised by the server
    else content.textContent = message.body || '';
    var item = isSystem
      ? el('li', { class: 'system', testid: 'widget-system', 'data-message-id': String(message.id) }, [content])
      : el('li', { class: 'msg', testid: 'widget-message', 'data-by': by, 'data-message-id': String(message.id) }, [
        el('span', { class: 'who', text: message.by_contact ? t('you') : (message.author && message.author.name) || t('someone') }),
        content
      ].concat((message.attachments || []).map(renderAttachment)));
    if (existing) existing.replaceWith(item);
    else nodes.messages.append(item);
  }

  function attachmentUrl(url) {
    return url ? new URL(url, BASE + '/').href : null;
  }

  function renderAttachment(attachment) {
    var url = attachmentUrl(attachment.url);
    if (attachment.kind === 'image' || /^image\//.test(attachment.content_type || '')) {
      return el('a', { href: url, target: '_blank', rel: 'noopener' }, [
        el('img', { src: attachmentUrl(attachment.thumbnail_url) || url, alt: attachment.name || '', testid: 'widget-attachment-image' })
      ]);
    }
    return el('a', { href: url, target: '_blank', rel: 'noopener', testid: 'widget-attachment', text: attachment.name || url });
  }

  // --- Conversation ------------------------------------------------------------------------

  function setConversation(conversation) {
    var before = state.conversation;
    state.conversation = Object.assign({}, before && before.id === conversation.id ? before : {}, conversation);
    var stored = loadStored();
    stored.conversation_id = state.conversation.id;
    saveStored(stored);
    renderConversation();
  }

  function addMessages(messages, fromSocket) {
    messages.forEach(function (message) {
      if (message.kind === 'note') return; // never sent to visitors; belt and braces
      var known = state.messages.has(message.id);
      state.messages.set(message.id, message);
      state.lastMessageId = Math.max(state.lastMessageId, message.id);
      renderMessage(message);
      if (fromSocket && (message.attachments || []).length) refetchMessage(message.id).catch(function () {});
      if (!known && fromSocket && !message.by_contact && message.kind !== 'system') {
        ding();
        if (!state.open) {
          state.unread += 1;
          renderBadge();
        }
      }
      if (!known && !message.by_contact) nodes.typing && (nodes.typing.textContent = '');
    });
    scrollToEnd();
  }

  function rememberSession(session) {
    var stored = loadStored();
    if (state.contact && session.contact && state.contact.id !== session.contact.id) {
      // A new contact (the old token had expired): its conversations are not the old one's.
      delete stored.conversation_id;
    }
    state.token = session.token;
    state.contact = session.contact;
    stored.token = session.token;
    stored.contact = session.contact;
    saveStored(stored);
  }

  /** Creates the visitor's contact, or renews the stored token (and updates name/email). */
  function ensureSession(values) {
    if (IN_APP) return api('POST', '/session/in-app/', undefined, true).then(rememberSession);
    var body = {};
    if (values && values.name) body.name = values.name;
    if (values && values.email) body.email = values.email;
    return api('POST', '/session/', body).then(rememberSession);
  }

  function startConversation(values) {
    return ensureSession(values).then(function () {
      return api('POST', '/conversations/', {
        department_id: values.department_id,
        body: values.body,
        client_id: uuid()
      });
    }).then(function (created) {
      var conversation = created.conversation || created;
      state.messages = new Map();
      state.lastMessageId = 0;
      showChat();
      setConversation(conversation);
      if (created.message) addMessages([created.message], false);
      return catchUp().then(startSocket);
    });
  }

  /** Re-reads the conversation and the messages after the last one shown. */
  function catchUp() {
    var conversation = state.conversation;
    if (!conversation) return Promise.resolve();
    var id = conversation.id;
    return Promise.all([
      api('GET', '/conversations/' + id + '/'),
      api('GET', '/conversations/' + id + '/messages/' + (state.lastMessageId ? '?after=' + state.lastMessageId : ''))
    ]).then(function (answers) {
      if (!state.conversation || state.conversation.id !== id) return;
      setConversation(answers[0]);
      addMessages(results(answers[1]), false);
    }, function (error) {
      if (error.status === 401 || error.status === 404) {
        // The token was revoked or the conversation is gone: start over.
        forgetConversation();
        showPrechat();
        return;
      }
      throw error;
    });
  }

  function forgetConversation() {
    var stored = loadStored();
    delete stored.conversation_id;
    saveStored(stored);
  }

  /** Socket payloads carry no signed attachment URLs; the REST copy of the message does. */
  function refetchMessage(id) {
    var conversationId = state.conversation.id;
    return api('GET', '/conversations/' + conversationId + '/messages/?after=' + (id - 1) + '&limit=1').then(function (body) {
      if (!state.conversation || state.conversation.id !== conversationId) return;
      results(body).forEach(function (message) {
        if (message.id === id) {
          state.messages.set(id, message);
          renderMessage(message);
        }
      });
    });
  }

  function sendMessage() {
    var body = nodes.input.value.trim();
    var attachments = state.pendingAttachments.slice();
    if (!body && attachments.length === 0) return;
    nodes.send.disabled = true;
    nodes.composerError.textContent = '';
    api('POST', '/conversations/' + state.conversation.id + '/messages/', {
      body: body,
      client_id: uuid(),
      attachment_ids: attachments.map(function (item) { return item.id; })
    }).then(function (message) {
      nodes.input.value = '';
      state.pendingAttachments = [];
      renderPreviews();
      addMessages([message.message || message], false);
    }, function (error) {
      nodes.composerError.textContent = error.message;
      if (error.code === 'widget.conversation_resolved') catchUp();
    }).then(function () {
      nodes.send.disabled = false;
      nodes.input.focus();
    });
  }

  function uploadFiles(files) {
    Array.from(files || []).forEach(function (file) {
      var data = new FormData();
      data.append('file', file);
      var line = el('span', { class: 'preview', text: t('uploading', { name: file.name }) });
      nodes.previews.append(line);
      api('POST', '/conversations/' + state.conversation.id + '/attachments/', data).then(function (attachment) {
        line.remove();
        state.pendingAttachments.push({
          id: attachment.id,
          name: attachment.name || file.name,
          previewUrl: /^image\//.test(file.type) ? URL.createObjectURL(file) : null
        });
        renderPreviews();
      }, function (error) {
        line.remove();
        nodes.composerError.textContent = error.message;
      });
    });
    nodes.file.value = '';
  }

  function renderPreviews() {
    nodes.previews.replaceChildren.apply(nodes.previews, state.pendingAttachments.map(function (item) {
      return el('span', { class: 'preview', testid: 'widget-attachment-preview' }, [
        item.previewUrl ? el('img', { src: item.previewUrl, alt: '' }) : null,
        el('span', { text: item.name }),
        el('button', {
          type: 'button', 'aria-label': t('removeAttachment'), text: '×',
          onclick: function () {
            state.pendingAttachments = state.pendingAttachments.filter(function (other) { return other !== item; });
            renderPreviews();
          }
        })
      ]);
    }));
  }

  function requestTranscript() {
    api('POST', '/conversations/' + state.conversation.id + '/transcript/', {}).then(function (answer) {
      var email = (answer && answer.email) || (state.contact && state.contact.email) || '';
      nodes.transcriptLine.textContent = t('transcriptSent', { email: email });
      nodes.transcriptLine.classList.remove('hidden');
    }, function (error) {
      nodes.transcriptLine.textContent = error.message;
      nodes.transcriptLine.classList.remove('hidden');
    });
  }

  function sendTyping() {
    var now = Date.now();
    if (now - state.typingSentAt < TYPING_SEND_EVERY_MS) return;
    state.typingSentAt = now;
    socketSend({ action: 'widget.typing', conversation_id: state.conversation.id });
  }

  function showTyping(data) {
    if (!state.conversation || data.conversation_id !== state.conversation.id || !nodes.typing) return;
    nodes.typing.textContent = t('typing', { name: data.name || t('someone') });
    clearTimeout(state.typingTimer);
    state.typingTimer = setTimeout(function () { nodes.typing.textContent = ''; }, TYPING_SHOWN_MS);
  }

  // --- Socket ------------------------------------------------------------------------------

  function socketUrl() {
    var url = state.config.ws_url || BASE.replace(/^http/, 'ws') + '/ws/widget/';
    url = new URL(url, BASE.replace(/^http/, 'ws') + '/').href;
    return url + (url.indexOf('?') === -1 ? '?' : '&') + 'key=' + encodeURIComponent(KEY) + '&token=' + encodeURIComponent(state.token);
  }

  function startSocket() {
    if (state.socketWanted) return;
    state.socketWanted = true;
    state.socketAttempt = 0;
    openSocket();
  }

  function stopSocket() {
    state.socketWanted = false;
    clearTimeout(state.retryTimer);
    clearInterval(state.heartbeatTimer);
    if (state.socket) {
      state.socket.onclose = null;
      state.socket.close();
      state.socket = null;
    }
  }

  function openSocket() {
    var socket = new WebSocket(socketUrl());
    state.socket = socket;
    socket.onopen = function () {
      state.socketAttempt = 0;
      if (nodes.connection) nodes.connection.classList.add('hidden');
      clearInterval(state.heartbeatTimer);
      state.heartbeatTimer = setInterval(function () { socketSend({ action: 'ping' }); }, HEARTBEAT_MS);
      // Events sent before this socket existed are lost (at most once): re-read by REST.
      catchUp().catch(function () {});
    };
    socket.onmessage = function (event) {
      var frame;
      try {
        frame = JSON.parse(event.data);
      } catch (error) {
        return;
      }
      handleFrame(frame.type, frame.data || {});
    };
    socket.onclose = function () {
      clearInterval(state.heartbeatTimer);
      state.socket = null;
      if (!state.socketWanted) return;
      if (nodes.connection) nodes.connection.classList.remove('hidden');
      var delay = Math.min(BACKOFF_CAP_MS, BACKOFF_FIRST_MS * Math.pow(2, state.socketAttempt));
      state.socketAttempt += 1;
      // Jitter, so a server restart is not met by every visitor at the same instant.
      state.retryTimer = setTimeout(function () { openSocket(); }, delay * (0.75 + Math.random() / 2));
    };
  }

  function socketSend(frame) {
    if (state.socket && state.socket.readyState === WebSocket.OPEN) state.socket.send(JSON.stringify(frame));
  }

  function handleFrame(type, data) {
    var conversation = state.conversation;
    var mine = conversation && (data.conversation_id === conversation.id || data.id === conversation.id);
    if (type === 'widget.message.created' && mine) {
      addMessages([data.message], true);
    } else if (type === 'widget.conversation.updated' && mine) {
      setConversation(data);
    } else if (type === 'widget.queue.position' && mine) {
      setConversation({ id: conversation.id, position: data.position, estimated_wait_seconds: data.estimated_wait_seconds });
    } else if (type === 'widget.typing' && mine) {
      showTyping(data);
    } else if (type === 'widget.csat.requested' && mine) {
      setConversation({ id: conversation.id, status: 'resolved', csat_requested: true });
    }
  }

  // --- Start -------------------------------------------------------------------------------

  /** After a reload: the visitor's current conversation, or the pre-chat form. */
  function restore() {
    var stored = loadStored();
    // In the app the stored token is never used: it may be another user's (same browser);
    // the token is the signed-in user's own, from start() or renewed just below.
    state.token = IN_APP ? state.token : stored.token || null;
    state.contact = stored.contact || null;
    if (!state.token && !IN_APP) {
      showPrechat();
      return Promise.resolve();
    }
    // Renews the token (an expired one yields a new contact, with no conversations).
    return ensureSession().then(function () {
      return api('GET', '/conversations/');
    }).then(function (body) {
      var list = results(body);
      var current = list.find(function (item) { return item.id === stored.conversation_id; }) || list[0];
      var active = current && (current.status !== 'resolved' || (!current.rated && current.id === stored.conversation_id));
      if (!active) {
        showPrechat();
        return;
      }
      showChat();
      setConversation(current);
      return catchUp().then(startSocket);
    }, function (error) {
      if (error.status === 401) {
        // The token was revoked: start over as a new visitor.
        state.token = null;
        saveStored({ contact: state.contact });
      }
      if (IN_APP && !state.token) {
        // Not signed in (any more), or refused: nothing to talk through.
        show('unavailable', [el('p', { class: 'status', role: 'status', testid: 'widget-unavailable', text: t('unavailable') })]);
        return;
      }
      showPrechat();
    });
  }

  /** In-app mode, after another user signed in on the same page: start over as them. */
  function renew() {
    stopSocket();
    state.token = null;
    state.conversation = null;
    state.messages = new Map();
    state.lastMessageId = 0;
    show('loading', []);
    return restore();
  }

  function start() {
    // In the app, our own origin is not among the widget's allowed ones: every request,
    // config/ included, is made as the signed-in user's contact, so the session comes first.
    var session = Promise.resolve();
    if (IN_APP) {
      state.contact = loadStored().contact || null;
      session = ensureSession();
    }
    session.then(function () {
      return api('GET', '/config/');
    }).then(function (config) {
      state.config = config || {};
      window.__atendeWidgets[KEY] = { state: state, attach: attach, renew: renew };
      mount();
      return restore();
    }, function (error) {
      // Refused (this site is not among the widget's allowed origins, or the key is wrong or
      // disabled): draw nothing on the page, tell its developer why in the console.
      // A refused origin gets no CORS headers, so the browser hides the answer: a network error.
      console.warn(error instanceof ApiError
        ? 'Atende widget: ' + error.message + ' (' + error.code + ')'
        : "Atende widget: unavailable on this page (is its origin among the widget's allowed origins?)");
      window.__atendeWidgets[KEY] = { refused: error.code || 'error' };
    });
  }

  if (document.body) start();
  else document.addEventListener('DOMContentLoaded', start);
})();
