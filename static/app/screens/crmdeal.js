// A deal (/crm/deals/<id>): its fields edited in place, a stage bar to move it, Won / Lost
// (with a reason) / Reopen, its tasks and its timeline with notes.
//
// It follows its pipeline's topic `crm.pipeline.<id>` and reads the deal again when an event
// about it arrives with a newer version (someone else edited or moved it).

import { api } from '../api.js';
import { errorText, h, loading, setChildren, toast, whileBusy } from '../components.js';
import { gettext, interpolate } from '../i18n.js';
import { socket } from '../socket.js';
import { crmCanWrite, crmNav, crmOrganizationId } from '../crm/nav.js';
import { dealStatusLabel, formatAmount, formatWhen, getAll, isAbort, crmPath, safeColor } from '../crm/board/util.js';
import { lostDialog } from '../crm/deal/dialogs.js';
import { dealFields } from '../crm/deal/fields.js';
import { tasksView } from '../crm/deal/tasks.js';
import { timelineView } from '../crm/deal/timeline.js';

export function render({ main, params, setTitle, signal, onCleanup, onResync }) {
  setTitle(gettext('Deal'));
  const heading = h('h1', { 'data-testid': 'crm-deal-title' }, gettext('Deal'));
  main.append(crmNav(), heading);
  if (!crmOrganizationId()) {
    main.append(h('p', { class: 'card' }, gettext('The CRM belongs to an organization: join one to use it.')));
    return;
  }
  const body = h('div', { class: 'crm-deal' }, loading());
  main.append(body);
  const dealId = Number(params.dealId);
  const canWrite = crmCanWrite();

  let deal = null;
  let pipeline = null;
  let members = [];
  let labels = [];
  let fieldsDirty = false;

  const summary = h('div', { class: 'crm-deal-summary' });
  const stageBar = h('ol', { class: 'crm-stage-bar', 'aria-label': gettext('Stages'), 'data-testid': 'crm-stage-bar' });
  const actions = h('div', { class: 'crm-deal-actions' });
  const fieldsSlot = h('div');
  const fieldsSection = h('section', { class: 'card crm-deal-details', 'aria-labelledby': 'crm-details-title' }, h('h2', { id: 'crm-details-title' }, gettext('Details')), fieldsSlot);
  const timeline = timelineView({ dealId, canWrite, signal });
  const tasks = tasksView({ dealId, canWrite, signal, onChange: () => timeline.reload() });

  async function readDeal() {
    deal = await api.get(crmPath(`/deals/${dealId}/`), { signal });
  }

  function drawHeader() {
    setTitle(deal.title);
    heading.textContent = deal.title;
    setChildren(
      summary,
      h(
        'p',
        { class: 'crm-deal-facts' },
        h('span', { class: `badge crm-status-${deal.status}`, 'data-testid': 'crm-deal-status' }, dealStatusLabel(deal.status)),
        h('span', { class: 'crm-deal-value', 'data-testid': 'crm-deal-value' }, formatAmount(deal.value, deal.currency)),
        h('span', { class: 'muted' }, interpolate(gettext('weighted %(amount)s'), { amount: formatAmount(deal.weighted_value, deal.currency) })),
        h('a', { href: `/crm/pipelines/${deal.pipeline_id}` }, deal.pipeline ? deal.pipeline.name : gettext('Board')),
      ),
      deal.status === 'lost' && deal.lost_reason
        ? h('p', { class: 'muted' }, interpolate(gettext('Lost reason: %(reason)s'), { reason: deal.lost_reason.name }), deal.lost_note ? ` — ${deal.lost_note}` : '')
        : null,
      deal.closed_at ? h('p', { class: 'muted' }, interpolate(gettext('Closed %(when)s'), { when: formatWhen(deal.closed_at) })) : null,
    );
    setChildren(
      stageBar,
      pipeline.stages.map((stage) => {
        const current = stage.id === deal.stage_id;
        const button = h(
          'button',
          {
            type: 'button',
            class: current ? 'crm-stage-step current' : 'crm-stage-step',
            style: `--stage-color: ${safeColor(stage.color)}`,
            'aria-current': current ? 'step' : null,
            disabled: !canWrite || current,
            'data-testid': `crm-stage-step-${stage.id}`,
          },
          stage.name,
        );
        button.addEventListener('click', () => command(button, `/deals/${dealId}/move/`, { stage_id: stage.id, version: deal.version }, interpolate(gettext('Moved to %(stage)s.'), { stage: stage.name })));
        return h('li', null, button);
      }),
    );
    const won = h('button', { type: 'button', class: 'button primary', 'data-testid': 'crm-deal-won' }, gettext('Won'));
    won.addEventListener('click', () => command(won, `/deals/${dealId}/won/`, { version: deal.version }, gettext('Marked as won.')));
    const lost = h('button', { type: 'button', class: 'button danger-outline', 'data-testid': 'crm-deal-lost' }, gettext('Lost'));
    lost.addEventListener('click', async () => {
      let reasons = [];
      try {
        reasons = await getAll('/lost-reasons/', { signal });
      } catch (error) {
        if (isAbort(error)) return;
      }
      const sent = await lostDialog({
        reasons: reasons.filter((reason) => reason.active !== false),
        submit: (payload) => api.post(crmPath(`/deals/${dealId}/lost/`), { ...payload, version: deal.version }),
      });
      if (sent) {
        toast(gettext('Marked as lost.'), { kind: 'success' });
        await refresh({ fields: true });
      }
    });
    const reopen = h('button', { type: 'button', class: 'button', 'data-testid': 'crm-deal-reopen' }, gettext('Reopen'));
    reopen.addEventListener('click', () => command(reopen, `/deals/${dealId}/reopen/`, {}, gettext('Deal reopened.')));
    setChildren(actions, canWrite ? (deal.status === 'open' ? [won, lost] : [reopen]) : null);
  }

  function drawFields() {
    fieldsDirty = false;
    setChildren(fieldsSlot, dealFields({ deal, pipeline, members, labels, canWrite, save, signal }));
  }

  async function save(changes) {
    try {
      const answer = await api.patch(crmPath(`/deals/${dealId}/`), { ...changes, version: deal.version }, { signal });
      deal = { ...deal, ...answer };
      drawHeader();
      timeline.reload();
    } catch (error) {
      if (error.code === 'crm.stale_deal') {
        toast(gettext('Someone else changed this deal meanwhile; here it is as it is now.'), { kind: 'error' });
        await refresh({ fields: true });
        return;
      }
      throw error;
    }
  }

  async function command(button, path, json, done) {
    try {
      await whileBusy(button, () => api.post(crmPath(path), json));
      toast(done, { kind: 'success' });
    } catch (error) {
      toast(errorText(error), { kind: 'error' });
    }
    await refresh({ fields: true });
  }

  /** Read the deal again; the fields are drawn again unless someone is typing in them. */
  async function refresh({ fields = false } = {}) {
    try {
      await readDeal();
    } catch (error) {
      if (isAbort(error)) return;
      if (error.status === 404) {
        setChildren(body, h('p', { class: 'card', role: 'alert' }, gettext('This deal was deleted, or you no longer have access to it.')));
        return;
      }
      toast(errorText(error), { kind: 'error' });
      return;
    }
    drawHeader();
    if (fields && !fieldsSlot.contains(document.activeElement)) drawFields();
    else fieldsDirty = true;
    timeline.reload();
  }
  fieldsSlot.addEventListener('focusout', (event) => {
    if (fieldsDirty && !fieldsSlot.contains(event.relatedTarget)) drawFields();
  });

  // --- live ------------------------------------------------------------------------------------

  let release = null;
  const stops = [];
  function follow(pipelineId) {
    release = socket.subscribe(`crm.pipeline.${pipelineId}`);
    const changed = (data) => {
      const event = data && data.deal;
      const id = event ? event.id : data && data.deal_id;
      if (id !== dealId || !deal) return;
      const version = event ? event.version : data.version;
      if (version && version <= deal.version) return; // this page's own change, or older
      refresh({ fields: true });
    };
    for (const type of ['crm.deal.updated', 'crm.deal.moved', 'crm.deal.deleted']) stops.push(socket.on(type, changed));
  }
  onCleanup(() => {
    stops.forEach((stop) => stop());
    if (release) release();
  });
  onResync(() => {
    refresh({ fields: true });
    tasks.reload();
  });

  (async () => {
    try {
      await readDeal();
      pipeline = await api.get(crmPath(`/pipelines/${deal.pipeline_id}/`), { signal });
      follow(deal.pipeline_id);
      [members, labels] = await Promise.all([getAll('/members/', { signal }).catch(() => []), getAll('/labels/', { signal }).catch(() => [])]);
    } catch (error) {
      if (isAbort(error)) return;
      setChildren(
        body,
        h('p', { class: 'card', role: 'alert' }, error.status === 404 ? gettext('This deal does not exist, or you do not have access to it.') : errorText(error)),
      );
      return;
    }
    drawHeader();
    drawFields();
    setChildren(
      body,
      h('div', { class: 'crm-deal-head' }, summary, stageBar, actions),
      h('div', { class: 'crm-deal-grid' }, h('div', { class: 'crm-deal-main' }, fieldsSection, tasks.element), timeline.element),
    );
    timeline.reload();
    tasks.reload();
  })();
}
