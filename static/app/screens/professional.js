// /professionals/<id>: a professional's page. Bio, specialties, languages, weekly availability,
// price, minimum fee and the latest reviews; "Call now" while they are online, "Join the queue"
// while they are busy, with the client's balance and a link to top up. The status follows
// `calls.professional.status` live.

import { api } from '../api.js';
import { getUser } from '../auth.js';
import { errorText, h, loading, whileBusy } from '../components.js';
import { formatDateTime, gettext, interpolate, ngettext } from '../i18n.js';
import { formatTokens, moneyAction } from '../money.js';
import { socket } from '../socket.js';
import { isProfessional, languageName, personPicture, pricePerMinute, ratingText, setStatusDot, starsText, statusDot } from '../calls/common.js';

function weekdayName(weekday) {
  // 0 = Monday, as Python's date.weekday(); 2024-01-01 was a Monday.
  const date = new Date(Date.UTC(2024, 0, 1 + Number(weekday)));
  return new Intl.DateTimeFormat(document.documentElement.lang || undefined, { weekday: 'long', timeZone: 'UTC' }).format(date);
}

export function render({ main, params, setTitle, signal, onCleanup, onResync, navigate }) {
  const professionalId = Number(params.professionalId);
  const me = getUser();
  setTitle(gettext('Professional'));
  main.replaceChildren(loading());

  let pro = null;
  let wallet = null;
  const startCall = moneyAction('/calls/');
  const joinQueue = moneyAction(`/queue/professionals/${professionalId}/join/`);

  const dot = statusDot('offline');
  const actionArea = h('div', { class: 'pro-actions' });
  const problem = h('div', { class: 'form-alert', role: 'alert', hidden: true, 'data-testid': 'call-problem' });
  const balanceLine = h('p', { class: 'muted', 'data-testid': 'my-balance' });

  const showProblem = (message, extra) => {
    problem.hidden = !message;
    problem.replaceChildren(message ? h('p', null, message) : '', extra || '');
  };

  const drawActions = () => {
    actionArea.replaceChildren();
    if (!pro || me.id === pro.id) return;
    if (isProfessional(me)) {
      actionArea.append(h('p', { class: 'muted' }, gettext('Calls are made from client accounts.')));
      return;
    }
    if (pro.status === 'online') {
      const button = h('button', { type: 'button', class: 'button primary', 'data-testid': 'call-now' }, gettext('Call now'));
      button.addEventListener('click', () => call(button));
      actionArea.append(button);
    } else if (pro.status === 'busy') {
      const button = h(
        'button',
        { type: 'button', class: 'button primary', 'data-testid': 'join-queue' },
        interpolate(gettext('Join the queue (fee %(fee)s)'), { fee: formatTokens(pro.queue_fee ?? 0) }),
      );
      button.addEventListener('click', () => join(button));
      actionArea.append(
        button,
        h(
          'p',
          { class: 'muted' },
          interpolate(ngettext('%(count)s person waiting.', '%(count)s people waiting.', pro.queue_length || 0), { count: pro.queue_length || 0 }),
          ' ',
          gettext('The fee is held, not charged, and counts toward the call.'),
        ),
      );
    } else {
      actionArea.append(h('p', { class: 'muted' }, gettext('Offline right now. Come back during their availability.')));
    }
  };

  async function call(button) {
    showProblem('');
    try {
      const created = await whileBusy(button, () => startCall({ professional_id: professionalId }, { signal }));
      navigate(`/calls/${created.id}`);
    } catch (error) {
      if (error.name === 'AbortError') return;
      handleRefusal(error);
    }
  }

  async function join(button) {
    showProblem('');
    try {
      await whileBusy(button, () => joinQueue({}, { signal }));
      navigate('/queue');
    } catch (error) {
      if (error.name === 'AbortError') return;
      handleRefusal(error);
    }
  }

  function handleRefusal(error) {
    const topUp = h('p', null, h('a', { href: '/wallet', class: 'button' }, gettext('Top up')));
    switch (error.code) {
      case 'calls.insufficient_balance':
      case 'queueing.insufficient_balance':
      case 'wallet.insufficient_funds':
        showProblem(
          error.extra && error.extra.required !== undefined
            ? interpolate(gettext('You need %(required)s to start; you have %(available)s.'), {
                required: formatTokens(error.extra.required),
                available: formatTokens(error.extra.available ?? 0),
              })
            : errorText(error),
          topUp,
        );
        break;
      case 'calls.professional_busy':
        pro.status = 'busy';
        if (error.extra && typeof error.extra.queue_length === 'number') pro.queue_length = error.extra.queue_length;
        setStatusDot(dot, 'busy');
        drawActions();
        showProblem(error.extra && error.extra.can_queue === false ? errorText(error) : gettext('They are busy right now. You can join the queue instead.'));
        break;
      case 'calls.professional_offline':
        pro.status = 'offline';
        setStatusDot(dot, 'offline');
        drawActions();
        showProblem(errorText(error));
        break;
      case 'calls.already_in_call':
        showProblem(errorText(error), h('p', null, h('a', { href: '/calls', class: 'button' }, gettext('Your calls'))));
        break;
      case 'accounts.email_not_verified':
      case 'accounts.phone_not_verified':
        showProblem(errorText(error), h('p', null, h('a', { href: '/verify', class: 'button primary' }, gettext('Verify now'))));
        break;
      default:
        showProblem(errorText(error));
    }
  }

  const drawBalance = () => {
    if (!wallet || isProfessional(me)) {
      balanceLine.hidden = true;
      return;
    }
    balanceLine.hidden = false;
    balanceLine.replaceChildren(
      interpolate(gettext('Your balance: %(balance)s.'), { balance: formatTokens(wallet.available) }),
      ' ',
      h('a', { href: '/wallet' }, gettext('Top up')),
    );
  };

  function draw() {
    setTitle(pro.display_name);
    setStatusDot(dot, pro.status);
    const availability = pro.availability || [];
    main.replaceChildren(
      h(
        'div',
        { class: 'pro-header card' },
        personPicture(pro.display_name, pro.photo_url, { size: 'large' }),
        h(
          'div',
          { class: 'pro-header-main' },
          h('h1', null, pro.display_name),
          pro.headline ? h('p', { class: 'lead' }, pro.headline) : null,
          dot,
          h('p', null, ratingText(pro.rating_average, pro.rating_count)),
        ),
        h(
          'div',
          { class: 'pro-price' },
          h('p', { class: 'figure-value' }, pricePerMinute(pro.price_per_minute)),
          h('p', { class: 'muted' }, interpolate(gettext('Minimum fee: %(fee)s'), { fee: formatTokens(pro.minimum_fee ?? 0) })),
          actionArea,
          balanceLine,
          problem,
        ),
      ),
      pro.bio ? h('section', { class: 'card', 'aria-labelledby': 'pro-about' }, h('h2', { id: 'pro-about' }, gettext('About')), ...pro.bio.split(/\n{2,}/).map((paragraph) => h('p', { class: 'pre-line' }, paragraph))) : null,
      h(
        'section',
        { class: 'card', 'aria-labelledby': 'pro-details' },
        h('h2', { id: 'pro-details' }, gettext('Details')),
        h(
          'dl',
          { class: 'facts' },
          h('dt', null, gettext('Specialties')),
          h('dd', null, (pro.specialties || []).map((item) => item.name).join(', ') || '—'),
          h('dt', null, gettext('Languages')),
          h('dd', null, (pro.languages || []).map(languageName).join(', ') || '—'),
          h('dt', null, gettext('Calls completed')),
          h('dd', null, String(pro.calls_completed ?? 0)),
          h('dt', null, gettext('Availability')),
          h(
            'dd',
            null,
            availability.length
              ? h('ul', { class: 'plain-list' }, availability.map((slot) => h('li', null, `${weekdayName(slot.weekday)}: ${slot.start}–${slot.end}`)))
              : gettext('Not informed'),
            pro.time_zone ? h('p', { class: 'muted' }, interpolate(gettext('Times in %(zone)s.'), { zone: pro.time_zone })) : null,
          ),
        ),
      ),
      h(
        'section',
        { class: 'card', 'aria-labelledby': 'pro-reviews' },
        h('h2', { id: 'pro-reviews' }, gettext('Reviews')),
        (pro.reviews || []).length
          ? h(
              'ul',
              { class: 'review-list' },
              pro.reviews.map((review) =>
                h(
                  'li',
                  { class: 'review' },
                  h('p', null, starsText(review.stars), ' ', h('strong', null, review.client_name), ' ', h('span', { class: 'muted' }, formatDateTime(new Date(review.created_at), { dateStyle: 'medium' }))),
                  review.comment ? h('p', { class: 'pre-line' }, review.comment) : null,
                ),
              ),
            )
          : h('p', { class: 'muted' }, gettext('No reviews yet.')),
      ),
      h('p', null, h('a', { href: '/professionals' }, gettext('Back to the professionals'))),
    );
    drawActions();
    drawBalance();
  }

  const load = async () => {
    try {
      pro = await api.get(`/calls/professionals/${professionalId}/`, { signal });
      draw();
    } catch (error) {
      if (error.name === 'AbortError') return;
      main.replaceChildren(
        h('h1', null, gettext('Professional')),
        h('p', { class: 'error-text', role: 'alert' }, error.status === 404 ? gettext('This professional is not in the catalog.') : errorText(error)),
        h('p', null, h('a', { href: '/professionals' }, gettext('Back to the professionals'))),
      );
    }
  };
  const loadWallet = async () => {
    if (isProfessional(me)) return;
    try {
      wallet = await api.get('/wallet/', { signal });
      drawBalance();
    } catch {
      // The balance line stays hidden; calling still explains a short balance.
    }
  };

  const release = socket.subscribe('calls.catalog.all');
  const stops = [
    socket.on('calls.professional.status', (data) => {
      if (!pro || data.professional_id !== pro.id) return;
      pro.status = data.status;
      setStatusDot(dot, data.status);
      drawActions();
    }),
    socket.on('wallet.balance.changed', (data) => {
      if (data.account !== 'client_wallet' || data.asset !== 'token') return;
      wallet = { ...(wallet || {}), ...data };
      drawBalance();
    }),
  ];
  onCleanup(() => {
    stops.forEach((stop) => stop());
    release();
  });
  onResync(async () => {
    await load();
    await loadWallet();
  });
  (async () => {
    await load();
    await loadWallet();
  })();
}
