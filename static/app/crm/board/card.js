// One card of the board, and its "Move to…" dialog (the way to move a card without dragging,
// on a phone or with a screen reader).

import { h } from '../../components.js';
import { gettext, interpolate } from '../../i18n.js';
import { dealStatusLabel, formatAmount, formatDay, labelChip } from './util.js';

/**
 * @param {object} deal DealCard
 * @param {{canWrite: boolean, onMoveMenu: (deal: object) => void}} options
 */
export function dealCard(deal, { canWrite, onMoveMenu }) {
  const titleId = `crm-card-title-${deal.id}`;
  const who = [deal.contact && deal.contact.name, deal.company && deal.company.name].filter(Boolean).join(' · ');
  return h(
    'li',
    {
      class: deal.rotting ? 'crm-card rotting' : 'crm-card',
      tabindex: '0',
      'aria-labelledby': titleId,
      'aria-roledescription': gettext('Deal card'),
      'aria-describedby': canWrite ? 'crm-board-help' : null,
      'data-testid': `crm-card-${deal.id}`,
      dataset: { dealId: String(deal.id), stageId: String(deal.stage_id), version: String(deal.version) },
    },
    h(
      'div',
      { class: 'crm-card-top' },
      h('a', { href: `/crm/deals/${deal.id}`, id: titleId, class: 'crm-card-title', draggable: 'false' }, deal.title),
      canWrite
        ? h(
            'button',
            {
              type: 'button',
              class: 'crm-card-menu',
              'aria-label': interpolate(gettext('Move %(title)s to…'), { title: deal.title }),
              'data-testid': `crm-card-move-${deal.id}`,
              onclick: (event) => {
                event.stopPropagation();
                onMoveMenu(deal);
              },
            },
            gettext('Move to…'),
          )
        : null,
    ),
    h('p', { class: 'crm-card-value', 'data-testid': 'crm-card-value' }, formatAmount(deal.value, deal.currency)),
    who ? h('p', { class: 'crm-card-who muted' }, who) : null,
    h(
      'p',
      { class: 'crm-card-meta muted' },
      deal.owner ? h('span', { class: 'crm-card-owner' }, deal.owner.name) : h('span', null, gettext('No owner')),
      deal.expected_close_date
        ? h('span', null, interpolate(gettext('Closes %(date)s'), { date: formatDay(deal.expected_close_date) }))
        : null,
    ),
    (deal.labels || []).length || deal.rotting || deal.status !== 'open'
      ? h(
          'p',
          { class: 'crm-card-tags' },
          deal.status !== 'open' ? h('span', { class: `badge crm-status-${deal.status}` }, dealStatusLabel(deal.status)) : null,
          deal.rotting
            ? h('span', { class: 'badge crm-rotting', title: gettext('No activity for longer than this stage allows') }, gettext('Rotting'))
            : null,
          (deal.labels || []).map(labelChip),
        )
      : null,
  );
}

/**
 * Choose a stage for a card; resolves with the stage id, or null when cancelled.
 * @param {{deal: object, stages: object[]}} options
 */
export function moveDialog({ deal, stages }) {
  return new Promise((resolve) => {
    const titleId = `crm-move-title-${deal.id}`;
    let chosen = null;
    const dialog = h(
      'dialog',
      { class: 'dialog crm-move-dialog', 'aria-labelledby': titleId, 'data-testid': 'crm-move-dialog' },
      h('h2', { id: titleId }, interpolate(gettext('Move “%(title)s” to'), { title: deal.title })),
      h(
        'ul',
        { class: 'crm-move-list' },
        stages.map((stage) =>
          h(
            'li',
            null,
            h(
              'button',
              {
                type: 'button',
                class: 'button',
                disabled: stage.id === deal.stage_id,
                'aria-current': stage.id === deal.stage_id ? 'true' : null,
                'data-testid': `crm-move-to-${stage.id}`,
                onclick: () => {
                  chosen = stage.id;
                  dialog.close();
                },
              },
              stage.name,
              stage.id === deal.stage_id ? h('span', { class: 'muted' }, ` (${gettext('current')})`) : null,
            ),
          ),
        ),
      ),
      h('div', { class: 'dialog-actions' }, h('button', { type: 'button', class: 'button', onclick: () => dialog.close() }, gettext('Cancel'))),
    );
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve(chosen);
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}
