// /professionals: the catalog. Search, filters (specialty, price range, language, online now,
// minimum rating) and sorting, kept in the address so a reload or a shared link shows the same
// list; cards whose status dot follows `calls.professional.status` live (topic
// `calls.catalog.all`), and the list is read again after a reconnect (DESIGN §5).

import { api } from '../api.js';
import { errorText, h, loading } from '../components.js';
import { gettext, interpolate, ngettext } from '../i18n.js';
import { apiPathOf, serialized } from '../money.js';
import { socket } from '../socket.js';
import { languageName, personPicture, pricePerMinute, ratingText, setStatusDot, statusDot } from '../calls/common.js';
import { debounce } from '../chat/util.js';

const LANGUAGES = ['pt', 'en', 'es', 'fr', 'de', 'it'];

export function render({ main, query, setTitle, signal, onCleanup, onResync }) {
  setTitle(gettext('Professionals'));
  const control = (tag, props, ...children) => h(tag, { class: 'compact', ...props }, ...children);
  const search = control('input', { type: 'search', id: 'catalog-search', placeholder: gettext('Name or subject'), value: query.get('search') || '' });
  const specialty = control('select', { id: 'catalog-specialty' }, h('option', { value: '' }, gettext('All specialties')));
  const language = control(
    'select',
    { id: 'catalog-language' },
    h('option', { value: '' }, gettext('Any language')),
    LANGUAGES.map((code) => h('option', { value: code }, languageName(code))),
  );
  const minPrice = control('input', { type: 'number', id: 'catalog-min-price', min: '0', step: '1', inputmode: 'numeric', value: query.get('min_price') || '' });
  const maxPrice = control('input', { type: 'number', id: 'catalog-max-price', min: '0', step: '1', inputmode: 'numeric', value: query.get('max_price') || '' });
  const minRating = control(
    'select',
    { id: 'catalog-min-rating' },
    h('option', { value: '' }, gettext('Any rating')),
    [4.5, 4, 3].map((value) => h('option', { value: String(value) }, interpolate(gettext('%(stars)s stars or more'), { stars: value }))),
  );
  const ordering = control(
    'select',
    { id: 'catalog-ordering' },
    h('option', { value: 'rating' }, gettext('Best rated')),
    h('option', { value: 'popularity' }, gettext('Most calls')),
    h('option', { value: 'price' }, gettext('Lowest price')),
    h('option', { value: '-price' }, gettext('Highest price')),
  );
  const online = h('input', { type: 'checkbox', id: 'catalog-online', checked: query.get('online') === 'true' });
  language.value = query.get('language') || '';
  minRating.value = query.get('min_rating') || '';
  ordering.value = query.get('ordering') || 'rating';

  const labelled = (label, input) => h('div', { class: 'field' }, h('label', { for: input.id }, label), input);
  const form = h(
    'form',
    { class: 'catalog-filters card', role: 'search', 'aria-label': gettext('Find a professional') },
    labelled(gettext('Search'), search),
    labelled(gettext('Specialty'), specialty),
    labelled(gettext('Language'), language),
    labelled(gettext('Minimum price per minute'), minPrice),
    labelled(gettext('Maximum price per minute'), maxPrice),
    labelled(gettext('Rating'), minRating),
    labelled(gettext('Sort by'), ordering),
    h('div', { class: 'field catalog-online' }, online, h('label', { for: online.id }, gettext('Online now'))),
  );
  form.addEventListener('submit', (event) => event.preventDefault());

  const count = h('p', { class: 'muted', role: 'status', 'data-testid': 'catalog-count' });
  const list = h('ul', { class: 'catalog-grid', 'data-testid': 'catalog' });
  const more = h('button', { type: 'button', class: 'button', hidden: true }, gettext('Load more'));
  const body = h('div', null, loading());
  main.append(h('h1', null, gettext('Professionals')), form, count, body, h('div', { class: 'pagination' }, more));

  const dots = new Map(); // professional id -> status element
  let next = null;

  const values = () => ({
    search: search.value.trim(),
    specialty: specialty.value,
    language: language.value,
    min_price: minPrice.value,
    max_price: maxPrice.value,
    online: online.checked ? 'true' : '',
    min_rating: minRating.value,
    ordering: ordering.value === 'rating' ? '' : ordering.value,
  });

  const card = (pro) => {
    const dot = statusDot(pro.status);
    dots.set(pro.id, dot);
    return h(
      'li',
      { class: 'catalog-card card', dataset: { professionalId: String(pro.id) }, 'data-testid': 'professional-card' },
      h(
        'div',
        { class: 'catalog-card-top' },
        personPicture(pro.display_name, pro.photo_url, { size: 'large' }),
        h(
          'div',
          null,
          h('h2', { class: 'catalog-name' }, h('a', { href: `/professionals/${pro.id}` }, pro.display_name)),
          pro.headline ? h('p', { class: 'muted' }, pro.headline) : null,
          dot,
        ),
      ),
      pro.specialties && pro.specialties.length
        ? h('ul', { class: 'tag-list', 'aria-label': gettext('Specialties') }, pro.specialties.map((item) => h('li', { class: 'tag' }, item.name)))
        : null,
      h(
        'p',
        { class: 'catalog-facts' },
        h('strong', null, pricePerMinute(pro.price_per_minute)),
        ' · ',
        ratingText(pro.rating_average, pro.rating_count),
        pro.languages && pro.languages.length ? ` · ${pro.languages.map(languageName).join(', ')}` : '',
      ),
    );
  };

  const load = serialized(async () => {
    const chosen = Object.fromEntries(Object.entries(values()).filter(([, value]) => value !== ''));
    const params = new URLSearchParams(chosen);
    // The address follows the filters without adding a history entry per keystroke.
    const address = `/professionals${params.toString() ? `?${params}` : ''}`;
    if (address !== window.location.pathname + window.location.search) history.replaceState(null, '', address);
    try {
      const page = await api.get(`/calls/professionals/?${params}`, { signal });
      dots.clear();
      const results = page.results || [];
      next = page.next || null;
      more.hidden = !next;
      count.textContent = interpolate(ngettext('%(count)s professional found', '%(count)s professionals found', page.count ?? results.length), {
        count: page.count ?? results.length,
      });
      list.replaceChildren(...results.map(card));
      body.replaceChildren(results.length ? list : h('p', { class: 'muted' }, gettext('No professional matches these filters.')));
    } catch (error) {
      if (error.name === 'AbortError') return;
      body.replaceChildren(h('p', { class: 'error-text', role: 'alert' }, errorText(error)));
    }
  });

  more.addEventListener('click', async () => {
    if (!next) return;
    more.disabled = true;
    try {
      const page = await api.get(apiPathOf(next), { signal });
      next = page.next || null;
      list.append(...(page.results || []).map(card));
      more.hidden = !next;
    } catch (error) {
      if (error.name !== 'AbortError') count.textContent = errorText(error);
    } finally {
      more.disabled = false;
    }
  });

  const typed = debounce(load, 300);
  search.addEventListener('input', typed);
  minPrice.addEventListener('input', typed);
  maxPrice.addEventListener('input', typed);
  for (const select of [specialty, language, minRating, ordering, online]) select.addEventListener('change', load);
  onCleanup(() => typed.cancel());

  const loadSpecialties = async () => {
    try {
      const specialties = await api.get('/calls/specialties/', { signal });
      const items = Array.isArray(specialties) ? specialties : specialties.results || [];
      specialty.replaceChildren(h('option', { value: '' }, gettext('All specialties')), ...items.map((item) => h('option', { value: item.slug }, item.name)));
      specialty.value = query.get('specialty') || '';
    } catch {
      // The filter keeps "All specialties"; the list still works.
    }
  };

  const release = socket.subscribe('calls.catalog.all');
  const stop = socket.on('calls.professional.status', (data) => {
    const dot = dots.get(data.professional_id);
    if (dot) setStatusDot(dot, data.status);
  });
  onCleanup(() => {
    stop();
    release();
  });
  onResync(load);

  (async () => {
    await loadSpecialties();
    await load();
  })();
}
