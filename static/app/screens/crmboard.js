// The CRM board (/crm: the first pipeline this person sees; /crm/pipelines/<id>): a column per
// stage with its count, value and weighted value, the cards in their order, "load more" per
// column, a quick add, filters kept in the address (owner, label, search), and moves by
// dragging, by keyboard or through each card's "Move to…" dialog.
//
// The board follows `crm.pipeline.<id>` (crm/board/store.js): other people's moves, new
// cards, edits and the totals arrive live; an event older than the card shown is dropped;
// a move refused because someone moved the card first puts it where the server says.

import { getUser } from '../auth.js';
import { errorText, h, loading, setChildren, toast, whileBusy } from '../components.js';
import { gettext, interpolate, ngettext } from '../i18n.js';
import { crmCanWrite, crmIsAdmin, crmNav, crmOrganizationId } from '../crm/nav.js';
import { dealCard, moveDialog } from '../crm/board/card.js';
import { announce, enableMoves } from '../crm/board/moves.js';
import { BoardStore } from '../crm/board/store.js';
import { formatAmount, getAll, isAbort, safeColor } from '../crm/board/util.js';

export function render(context) {
  const { main, params, query, setTitle, signal, onCleanup, onResync, navigate } = context;
  setTitle(gettext('Board'));
  const heading = h('h1', { class: 'crm-board-title' }, gettext('Board'));
  main.classList.add('crm-wide');
  onCleanup(() => main.classList.remove('crm-wide'));
  main.append(crmNav(), heading);
  if (!crmOrganizationId()) {
    main.append(h('p', { class: 'card' }, gettext('The CRM belongs to an organization: join one to use it.')));
    return;
  }
  const body = h('div', { class: 'crm-board-body' }, loading());
  main.append(body);
  start({ heading, body, params, query, setTitle, signal, onCleanup, onResync, navigate }).catch((error) => {
    if (!isAbort(error)) setChildren(body, h('p', { class: 'error-text', role: 'alert' }, errorText(error)));
  });
}

async function start({ heading, body, params, query, setTitle, signal, onCleanup, onResync, navigate }) {
  const user = getUser();
  const me = { id: user.id };
  const canWrite = crmCanWrite();
  const pipelines = await getAll('/pipelines/', { signal });
  if (!pipelines.length && !params.pipelineId) {
    setChildren(
      body,
      h(
        'div',
        { class: 'card' },
        h('p', null, gettext('There is no pipeline yet.')),
        crmIsAdmin() ? h('a', { class: 'button primary', href: '/crm/settings' }, gettext('Create a pipeline in the settings')) : null,
      ),
    );
    return;
  }
  const pipelineId = params.pipelineId ? Number(params.pipelineId) : pipelines[0].id;
  const filters = { owner: query.get('owner') || '', label: query.get('label') || '', q: query.get('q') || '' };
  const store = new BoardStore({ pipelineId, filters, me, signal });

  // --- toolbar: pipeline picker and filters ---------------------------------------------------

  const picker = h(
    'select',
    { id: 'crm-pipeline-picker', class: 'compact', 'data-testid': 'crm-pipeline-picker' },
    pipelines.map((pipeline) => h('option', { value: String(pipeline.id), selected: pipeline.id === pipelineId }, pipeline.name)),
  );
  picker.addEventListener('change', () => navigate(`/crm/pipelines/${picker.value}${window.location.search}`));

  const ownerSelect = h(
    'select',
    { id: 'crm-filter-owner', class: 'compact', 'data-testid': 'crm-filter-owner' },
    h('option', { value: '' }, gettext('Anyone')),
    h('option', { value: 'me' }, gettext('Me')),
  );
  const labelSelect = h('select', { id: 'crm-filter-label', class: 'compact', 'data-testid': 'crm-filter-label' }, h('option', { value: '' }, gettext('Any label')));
  const search = h('input', { type: 'search', id: 'crm-filter-q', value: filters.q, placeholder: gettext('Title, contact or company'), 'data-testid': 'crm-filter-q' });
  const clearButton = h('button', { type: 'button', class: 'button', 'data-testid': 'crm-filter-clear' }, gettext('Clear filters'));
  const filterBar = h(
    'form',
    { class: 'crm-board-filters', role: 'search', 'aria-label': gettext('Filter the board'), onsubmit: (event) => event.preventDefault() },
    h('div', { class: 'crm-board-filter' }, h('label', { for: picker.id }, gettext('Pipeline')), picker),
    h('div', { class: 'crm-board-filter' }, h('label', { for: ownerSelect.id }, gettext('Owner')), ownerSelect),
    h('div', { class: 'crm-board-filter' }, h('label', { for: labelSelect.id }, gettext('Label')), labelSelect),
    h('div', { class: 'crm-board-filter crm-board-filter-search' }, h('label', { for: search.id }, gettext('Search')), search),
    clearButton,
  );
  ownerSelect.value = filters.owner;

  // Members and labels fill the filters when they come; the board does not wait for them.
  (async () => {
    try {
      const members = await getAll('/members/', { signal });
      ownerSelect.append(...members.filter((member) => member.id !== me.id).map((member) => h('option', { value: String(member.id) }, member.name)));
      ownerSelect.value = filters.owner;
      const labels = await getAll('/labels/', { signal });
      labelSelect.append(...labels.map((label) => h('option', { value: String(label.id) }, label.name)));
      labelSelect.value = filters.label;
    } catch (error) {
      if (!isAbort(error)) console.warn(error);
    }
  })();

  function filtersChanged() {
    filters.owner = ownerSelect.value;
    filters.label = labelSelect.value;
    filters.q = search.value.trim();
    const next = new URLSearchParams();
    for (const key of ['owner', 'label', 'q']) if (filters[key]) next.set(key, filters[key]);
    const text = next.toString();
    history.replaceState(null, '', window.location.pathname + (text ? `?${text}` : ''));
    reload();
  }
  ownerSelect.addEventListener('change', filtersChanged);
  labelSelect.addEventListener('change', filtersChanged);
  let searchTimer = null;
  search.addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(filtersChanged, 300);
  });
  onCleanup(() => clearTimeout(searchTimer));
  clearButton.addEventListener('click', () => {
    ownerSelect.value = '';
    labelSelect.value = '';
    search.value = '';
    filtersChanged();
  });

  // --- the board -------------------------------------------------------------------------------

  const help = h(
    'p',
    { id: 'crm-board-help', class: 'visually-hidden' },
    gettext('Press Space or Enter to pick up a card, the arrow keys to move it, Space or Enter to drop it, Escape to cancel. Each card also has a “Move to…” button.'),
  );
  const columnsElement = h('div', { class: 'crm-columns' });
  const board = h('div', { class: 'crm-board', 'data-testid': 'crm-board', dataset: { live: 'false', pipelineId: String(pipelineId) } }, columnsElement);
  setChildren(body, filterBar, help, board);

  /** stage id -> {element, list, count, value, weighted, more} */
  const views = new Map();
  let busy = false;
  let heldColumns = null; // redraws asked for while a move is being chosen

  function columnView(column) {
    const { stage } = column;
    const titleId = `crm-column-title-${stage.id}`;
    const count = h('span', { class: 'crm-column-count badge', 'data-testid': `crm-column-count-${stage.id}` });
    const value = h('span', { 'data-testid': `crm-column-value-${stage.id}` });
    const weighted = h('span', { 'data-testid': `crm-column-weighted-${stage.id}` });
    const list = h('ul', { class: 'crm-card-list', role: 'list', 'aria-labelledby': titleId });
    const more = h('button', { type: 'button', class: 'button crm-load-more', 'data-testid': `crm-load-more-${stage.id}`, hidden: true }, gettext('Load more'));
    more.addEventListener('click', async () => {
      try {
        await whileBusy(more, () => store.loadMore(stage.id));
      } catch (error) {
        if (!isAbort(error)) toast(errorText(error), { kind: 'error' });
      }
    });
    const flag = stage.is_won ? gettext('Won stage') : stage.is_lost ? gettext('Lost stage') : null;
    const element = h(
      'section',
      {
        class: 'crm-column',
        style: `--stage-color: ${safeColor(stage.color)}`,
        'aria-labelledby': titleId,
        'data-testid': `crm-column-${stage.id}`,
        dataset: { stageId: String(stage.id) },
      },
      h(
        'header',
        { class: 'crm-column-header' },
        h('h2', { id: titleId, class: 'crm-column-title' }, stage.name, ' ', count),
        h(
          'p',
          { class: 'crm-column-totals' },
          value,
          h('span', { class: 'muted' }, ' · '),
          weighted,
          h('span', { class: 'muted' }, ` · ${interpolate(gettext('chance %(percent)s'), { percent: `${stage.probability}%` })}`),
        ),
        flag ? h('p', { class: 'crm-column-flag muted' }, flag) : null,
        canWrite ? quickAdd(stage) : null,
      ),
      list,
      more,
    );
    return { element, list, count, value, weighted, more };
  }

  function quickAdd(stage) {
    const input = h('input', { type: 'text', id: `crm-quick-add-${stage.id}`, required: true, maxlength: '200', 'data-testid': `crm-quick-add-title-${stage.id}` });
    const top = h('input', { type: 'checkbox', id: `crm-quick-add-top-${stage.id}` });
    const submit = h('button', { type: 'submit', class: 'button primary' }, gettext('Add'));
    const form = h(
      'form',
      { class: 'crm-quick-add', hidden: true, 'data-testid': `crm-quick-add-${stage.id}` },
      h('label', { for: input.id }, interpolate(gettext('New deal in %(stage)s'), { stage: stage.name })),
      input,
      h('label', { class: 'crm-checkbox' }, top, gettext('At the top of the column')),
      h('div', { class: 'crm-quick-add-actions' }, submit, h('button', { type: 'button', class: 'button', onclick: () => toggle(false) }, gettext('Cancel'))),
    );
    const open = h('button', { type: 'button', class: 'button crm-add-button', 'aria-expanded': 'false', 'data-testid': `crm-add-${stage.id}` }, gettext('+ Add deal'));
    function toggle(show) {
      form.hidden = !show;
      open.setAttribute('aria-expanded', String(show));
      if (show) input.focus();
      else open.focus();
    }
    open.addEventListener('click', () => toggle(form.hidden));
    form.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') toggle(false);
    });
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const title = input.value.trim();
      if (!title) return;
      try {
        const deal = await whileBusy(submit, () => store.create({ stageId: stage.id, title, atTop: top.checked }));
        input.value = '';
        announce(interpolate(gettext('Deal %(title)s added.'), { title: deal.title }));
        input.focus();
      } catch (error) {
        toast(errorText(error), { kind: 'error' });
      }
    });
    return h('div', { class: 'crm-quick-add-wrap' }, open, form);
  }

  function drawBoard() {
    setTitle(store.pipeline.name);
    heading.textContent = store.pipeline.name;
    views.clear();
    setChildren(
      columnsElement,
      store.columns.map((column) => {
        const view = columnView(column);
        views.set(column.stage.id, view);
        return view.element;
      }),
    );
    drawColumns(store.columns.map((column) => column.stage.id));
  }

  function drawColumns(stageIds) {
    if (busy) {
      heldColumns = heldColumns || new Set();
      stageIds.forEach((id) => heldColumns.add(id));
      return;
    }
    // Keep the focus on the same card (or its button) when its column is drawn again.
    const active = document.activeElement;
    const activeCard = active && active.closest && active.closest('.crm-card');
    const focusDeal = activeCard && board.contains(activeCard) ? activeCard.dataset.dealId : null;
    const focusMenu = Boolean(focusDeal && active.classList.contains('crm-card-menu'));
    for (const stageId of stageIds) {
      const column = store.column(stageId);
      const view = views.get(stageId);
      if (!column || !view) continue;
      const { totals } = column;
      view.count.textContent = String(totals.count);
      view.count.setAttribute('aria-label', interpolate(ngettext('%(count)s deal', '%(count)s deals', totals.count), { count: totals.count }));
      view.value.textContent = formatAmount(totals.value, store.pipeline.currency);
      view.weighted.textContent = interpolate(gettext('weighted %(amount)s'), { amount: formatAmount(totals.weighted_value, store.pipeline.currency) });
      setChildren(
        view.list,
        column.deals.length
          ? column.deals.map((deal) => dealCard(deal, { canWrite, onMoveMenu }))
          : h('li', { class: 'crm-column-empty muted' }, gettext('No deals here.')),
      );
      view.more.hidden = !column.nextCursor;
    }
    if (focusDeal) {
      const card = board.querySelector(`.crm-card[data-deal-id="${focusDeal}"]`);
      const target = card && (focusMenu ? card.querySelector('.crm-card-menu') : card);
      if (target && document.activeElement !== target) target.focus({ preventScroll: true });
    }
  }

  const stageName = (stageId) => store.column(stageId)?.stage.name || '';

  async function moveCard(dealId, stageId, index) {
    const result = await store.move(dealId, stageId, index);
    if (result.ok) {
      announce(interpolate(gettext('%(title)s is now in %(stage)s.'), { title: result.deal.title, stage: stageName(result.deal.stage_id) }));
    } else if (result.error && result.error.code === 'crm.stale_move') {
      const where = result.error.extra && result.error.extra.deal ? stageName(result.error.extra.deal.stage_id) : '';
      toast(interpolate(gettext('Someone changed this card first; it is back where it really is (%(stage)s).'), { stage: where }), { kind: 'error' });
    } else if (result.error && !isAbort(result.error)) {
      toast(errorText(result.error), { kind: 'error' });
    }
  }

  async function onMoveMenu(deal) {
    const stageId = await moveDialog({ deal, stages: store.columns.map((column) => column.stage) });
    if (stageId === null) {
      board.querySelector(`.crm-card[data-deal-id="${deal.id}"] .crm-card-menu`)?.focus();
      return;
    }
    // From the dialog a card goes to the top of its new column: always a known place.
    await moveCard(deal.id, stageId, 0);
    board.querySelector(`.crm-card[data-deal-id="${deal.id}"]`)?.focus();
  }

  onCleanup(
    enableMoves({
      board: columnsElement,
      canWrite: () => canWrite,
      stageName,
      onMove: (dealId, stageId, index) => {
        moveCard(dealId, stageId, index);
      },
      onCancel: () => drawColumns(store.columns.map((column) => column.stage.id)),
      onBusy: (value) => {
        busy = value;
        if (!busy && heldColumns) {
          const held = [...heldColumns];
          heldColumns = null;
          drawColumns(held);
        }
      },
    }),
  );

  // --- live ------------------------------------------------------------------------------------

  const markLive = () => (board.dataset.live = String(store.isLive()));
  const stops = [
    store.on('board', () => {
      drawBoard();
      markLive();
    }),
    store.on('columns', (stageIds) => drawColumns(stageIds)),
    store.on('subscribed', markLive),
  ];
  onCleanup(() => stops.forEach((stop) => stop()));

  let loadTicket = 0;
  async function reload() {
    const ticket = ++loadTicket;
    try {
      await store.load();
    } catch (error) {
      if (isAbort(error) || ticket !== loadTicket) return;
      if (error.status === 404 || error.status === 403) {
        setChildren(body, h('p', { class: 'card', role: 'alert' }, gettext('This pipeline does not exist, or you do not have access to it.')));
      } else {
        toast(errorText(error), { kind: 'error' });
      }
    }
  }

  // Subscribed before the first read, so nothing that happens in between is missed.
  store.start();
  onCleanup(() => store.stop());
  await store.load().catch((error) => {
    if (error.status === 404 || error.status === 403) {
      setChildren(body, filterBar, h('p', { class: 'card', role: 'alert' }, gettext('This pipeline does not exist, or you do not have access to it.')));
      return null;
    }
    throw error;
  });
  if (!store.pipeline) return;
  onResync(() => reload());
  markLive();
}
