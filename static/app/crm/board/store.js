// The board's state while the screen is open: the pipeline, its columns (stage, the cards
// loaded so far in (position, id) order, the next page's cursor and the totals), and the
// version of every card seen, so an event older than what is shown is dropped.
//
// It follows `crm.pipeline.<id>`. Delivery over the socket is at most once: after a
// reconnect the screen's resync hook calls load() again.

import { api } from '../../api.js';
import { socket } from '../../socket.js';
import { comesBefore, crmPath } from './util.js';

export class BoardStore {
  /**
   * @param {{pipelineId: number, filters: {owner?: string, label?: string, q?: string},
   *          me: {id: number}, signal: AbortSignal}} options
   */
  constructor({ pipelineId, filters, me, signal }) {
    this.pipelineId = pipelineId;
    this.filters = filters;
    this.me = me;
    this.signal = signal;
    this.pipeline = null;
    /** @type {{stage: object, deals: object[], nextCursor: string|null, totals: object}[]} */
    this.columns = [];
    /** deal id -> highest version seen (deleted deals included, so late events stay dead) */
    this.versions = new Map();
    this.listeners = new Map();
    this.stops = [];
    this.release = null;
    this.subscribed = false;
  }

  get topic() {
    return `crm.pipeline.${this.pipelineId}`;
  }

  /** @param {'board'|'columns'|'subscribed'} event @returns {() => void} */
  on(event, listener) {
    if (!this.listeners.has(event)) this.listeners.set(event, new Set());
    this.listeners.get(event).add(listener);
    return () => this.listeners.get(event)?.delete(listener);
  }

  emit(event, payload) {
    for (const listener of this.listeners.get(event) || []) {
      try {
        listener(payload);
      } catch (error) {
        console.error(error);
      }
    }
  }

  // --- lifetime ----------------------------------------------------------------------------

  start() {
    const on = (type, handler) => this.stops.push(socket.on(type, handler));
    on('crm.deal.created', (data) => this.dealArrived(data));
    on('crm.deal.updated', (data) => this.dealArrived(data));
    on('crm.deal.moved', (data) => this.dealArrived(data));
    on('crm.deal.deleted', (data) => this.dealDeleted(data));
    on('crm.stage.rebalanced', (data) => {
      if (data && data.pipeline_id === this.pipelineId) this.reloadColumn(data.stage_id);
    });
    on('crm.pipeline.changed', (data) => {
      if (data && data.pipeline_id === this.pipelineId) this.load().catch(() => {});
    });
    on('realtime.subscribed', (data) => {
      if (data && data.topic === this.topic) {
        this.subscribed = true;
        this.emit('subscribed');
      }
    });
    this.stops.push(
      socket.onStatus((status) => {
        if (status !== 'connected') this.subscribed = false;
        this.emit('subscribed');
      }),
    );
    this.release = socket.subscribe(this.topic);
  }

  stop() {
    this.stops.splice(0).forEach((stop) => stop());
    if (this.release) this.release();
    this.release = null;
  }

  isLive() {
    return socket.status === 'connected' && this.subscribed;
  }

  // --- REST ----------------------------------------------------------------------------------

  filterQuery() {
    const query = new URLSearchParams();
    for (const key of ['owner', 'label', 'q']) if (this.filters[key]) query.set(key, this.filters[key]);
    return query;
  }

  /** The whole board (first page of each column). */
  async load() {
    const query = this.filterQuery();
    query.set('per_column', '50');
    const answer = await api.get(crmPath(`/pipelines/${this.pipelineId}/board/?${query}`), { signal: this.signal });
    this.pipeline = answer.pipeline;
    this.columns = answer.columns.map((column) => ({
      stage: column.stage,
      deals: column.deals,
      nextCursor: column.next_cursor || null,
      totals: column.totals || { stage_id: column.stage.id, count: column.deals.length, value: 0, weighted_value: 0 },
    }));
    for (const column of this.columns) for (const deal of column.deals) this.see(deal);
    this.emit('board');
  }

  /** The next page of one column. */
  async loadMore(stageId) {
    const column = this.column(stageId);
    if (!column || !column.nextCursor) return;
    const query = this.filterQuery();
    query.set('cursor', column.nextCursor);
    query.set('limit', '50');
    const answer = await api.get(crmPath(`/pipelines/${this.pipelineId}/stages/${stageId}/deals/?${query}`), { signal: this.signal });
    for (const deal of answer.deals) {
      this.see(deal);
      if (!column.deals.some((item) => item.id === deal.id)) column.deals.push(deal);
    }
    column.nextCursor = answer.next_cursor || null;
    if (answer.totals) column.totals = answer.totals;
    this.emit('columns', [stageId]);
  }

  /** A column again from its first page (its keys were rewritten by a rebalance). */
  async reloadColumn(stageId) {
    const column = this.column(stageId);
    if (!column) return;
    const query = this.filterQuery();
    query.set('limit', String(Math.max(50, column.deals.length)));
    try {
      const answer = await api.get(crmPath(`/pipelines/${this.pipelineId}/stages/${stageId}/deals/?${query}`), { signal: this.signal });
      for (const deal of answer.deals) this.see(deal);
      column.deals = answer.deals;
      column.nextCursor = answer.next_cursor || null;
      if (answer.totals) column.totals = answer.totals;
      this.emit('columns', [stageId]);
    } catch (error) {
      if (error.name !== 'AbortError') console.warn(error);
    }
  }

  /** A new card (quick add). */
  async create({ stageId, title, atTop }) {
    const deal = await api.post(crmPath('/deals/'), { pipeline_id: this.pipelineId, stage_id: stageId, title, at_top: atTop });
    this.put(deal);
    return deal;
  }

  /**
   * Move a card: shown at once, then sent; the server's answer (or, on a conflict, the
   * card as it really is) settles where it ends up.
   * @returns {Promise<{ok: boolean, deal: object, error?: any}>}
   */
  async move(dealId, stageId, index) {
    const found = this.find(dealId);
    if (!found) return { ok: false, deal: null };
    const { column: from, deal } = found;
    const to = this.column(stageId);
    const rest = to.deals.filter((item) => item.id !== dealId);
    const at = Math.max(0, Math.min(index, rest.length));
    const before = at > 0 ? rest[at - 1] : null;
    let after = at < rest.length ? rest[at] : null;
    if (from === to && from.deals.indexOf(deal) === at) return { ok: true, deal };
    // Two neighbours let the server refuse a move into a gap that has changed meanwhile, but
    // only cards known to be adjacent may be sent: with filters on, hidden cards may sit
    // between two shown ones, and below the last card loaded of a column more may follow.
    // One neighbour then says "right next to it".
    // (Below the last card loaded, `after` is already null.)
    const filtered = Boolean(this.filters.owner || this.filters.label || this.filters.q);
    if (filtered && before) after = null;

    // Optimistic: the card, the counts and the values; weighted values come with the events.
    const moved = { ...deal, stage_id: stageId };
    from.deals = from.deals.filter((item) => item.id !== dealId);
    rest.splice(at, 0, moved);
    to.deals = rest;
    if (from !== to) {
      from.totals = { ...from.totals, count: from.totals.count - 1, value: from.totals.value - deal.value };
      to.totals = { ...to.totals, count: to.totals.count + 1, value: to.totals.value + deal.value };
    }
    this.emit('columns', [from.stage.id, stageId]);
    try {
      const answer = await api.post(crmPath(`/deals/${dealId}/move/`), {
        stage_id: stageId,
        before_id: before ? before.id : null,
        after_id: after ? after.id : null,
        version: deal.version,
      });
      this.put(answer, { force: true });
      return { ok: true, deal: answer };
    } catch (error) {
      if (error.code === 'crm.stale_move' && error.extra && error.extra.deal) {
        this.put(error.extra.deal, { force: true });
      } else {
        await this.load().catch(() => {});
      }
      return { ok: false, deal: moved, error };
    }
  }

  // --- what the socket (or a REST answer) brings -------------------------------------------

  see(deal) {
    const known = this.versions.get(deal.id) || 0;
    if (deal.version > known) this.versions.set(deal.id, deal.version);
  }

  column(stageId) {
    return this.columns.find((column) => column.stage.id === stageId) || null;
  }

  find(dealId) {
    for (const column of this.columns) {
      const deal = column.deals.find((item) => item.id === dealId);
      if (deal) return { column, deal };
    }
    return null;
  }

  /** Whether a card passes the board's filters (as far as a card can tell). */
  matches(deal) {
    const { owner, label, q } = this.filters;
    if (owner) {
      const ownerId = owner === 'me' ? this.me.id : Number(owner);
      if (!deal.owner || deal.owner.id !== ownerId) return false;
    }
    if (label && !(deal.labels || []).some((item) => String(item.id) === String(label))) return false;
    if (q) {
      const needle = q.toLocaleLowerCase();
      const haystack = [deal.title, deal.contact && deal.contact.name, deal.company && deal.company.name]
        .filter(Boolean)
        .join(' ')
        .toLocaleLowerCase();
      if (!haystack.includes(needle)) return false;
    }
    return true;
  }

  /**
   * Put a card where its stage and position say, unless what is shown is newer.
   * @param {object} deal DealCard @param {{force?: boolean}} [options] force: an answer to
   *   this page's own request, applied even at the version already seen through an event
   * @returns {string[]|null} the stages whose columns changed, or null when dropped
   */
  put(deal, { force = false } = {}) {
    if (!deal || deal.pipeline_id !== this.pipelineId) return null;
    const known = this.versions.get(deal.id) || 0;
    if (deal.version < known || (deal.version === known && !force)) return null;
    this.see(deal);
    const changed = new Set();
    const found = this.find(deal.id);
    if (found) {
      found.column.deals = found.column.deals.filter((item) => item.id !== deal.id);
      changed.add(found.column.stage.id);
    }
    const column = this.column(deal.stage_id);
    if (column && this.matches(deal)) {
      const index = column.deals.findIndex((item) => comesBefore(deal, item));
      // Past the last card loaded of a column with more pages: it comes with "load more".
      if (index >= 0) column.deals.splice(index, 0, deal);
      else if (!column.nextCursor) column.deals.push(deal);
      changed.add(column.stage.id);
    }
    this.emit('columns', [...changed]);
    return [...changed];
  }

  applyTotals(totals) {
    const changed = [];
    for (const item of totals || []) {
      const column = this.column(item.stage_id);
      if (!column) continue;
      column.totals = item;
      changed.push(item.stage_id);
    }
    if (changed.length) this.emit('columns', changed);
  }

  dealArrived(data) {
    if (!data || !data.deal || data.deal.pipeline_id !== this.pipelineId) return;
    const known = this.versions.get(data.deal.id) || 0;
    if (data.deal.version <= known) return; // stale: what is shown is as new or newer
    this.put(data.deal);
    this.applyTotals(data.totals);
  }

  dealDeleted(data) {
    if (!data || data.pipeline_id !== this.pipelineId) return;
    const known = this.versions.get(data.deal_id) || 0;
    if (data.version && data.version < known) return;
    this.versions.set(data.deal_id, Math.max(known, data.version || known + 1));
    const found = this.find(data.deal_id);
    if (found) {
      found.column.deals = found.column.deals.filter((item) => item.id !== data.deal_id);
      this.emit('columns', [found.column.stage.id]);
    }
    this.applyTotals(data.totals);
  }
}
