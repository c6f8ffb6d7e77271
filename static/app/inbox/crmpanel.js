// The CRM beside a conversation of the inbox: who the contact is in the CRM (a link to them),
// their deals, a one-click "Create deal" in a chosen pipeline, and a search to link the
// conversation to another CRM contact when the automatic match was wrong.

import { errorText, h, setChildren, toast, whileBusy } from '../components.js';
import { gettext } from '../i18n.js';
import { crmCanWrite } from '../crm/nav.js';
import { crm, dealStatusBadge, debounced, formatValue, isAbort, loadPipelines, queryOf, resultsOf } from '../crm/records.js';

/**
 * @param {{conversationId: number, signal: AbortSignal}} options
 * @returns {{element: HTMLElement}}
 */
export function crmPanel({ conversationId, signal }) {
  const canWrite = crmCanWrite();
  const titleId = `crm-panel-title-${conversationId}`;
  const content = h('div', { class: 'crm-panel-content', 'aria-live': 'polite' }, h('p', { class: 'muted' }, gettext('Loading…')));
  const element = h('section', { class: 'crm-panel', 'aria-labelledby': titleId, 'data-testid': 'crm-panel' }, h('h3', { id: titleId }, gettext('CRM')), content);
  let pipelines = [];
  let panel = null;

  function dealItem(deal) {
    return h(
      'li',
      { 'data-testid': 'crm-panel-deal' },
      h('a', { href: `/crm/deals/${deal.id}` }, deal.title),
      ' ',
      h('span', { class: 'muted' }, formatValue(deal.value, deal.currency)),
      ' ',
      dealStatusBadge(deal.status),
    );
  }

  function draw() {
    const contact = panel.contact;
    const deals = h('ul', { class: 'plain-list crm-mini-list', 'data-testid': 'crm-panel-deals' }, (panel.deals || []).map(dealItem));
    const children = [
      contact
        ? h(
            'p',
            { class: 'crm-panel-contact' },
            h('a', { href: `/crm/contacts/${contact.id}`, 'data-testid': 'crm-panel-contact' }, contact.name),
            contact.company ? h('span', { class: 'muted' }, ` · ${contact.company.name}`) : null,
          )
        : h('p', { class: 'muted' }, gettext('Not linked to a CRM contact.')),
      h('h4', null, gettext('Deals')),
      (panel.deals || []).length ? deals : [h('p', { class: 'muted', 'data-testid': 'crm-panel-no-deals' }, gettext('No deals yet.')), deals],
    ];
    if (canWrite && pipelines.length) {
      const pipeline = h('select', { id: `crm-panel-pipeline-${conversationId}`, class: 'compact', 'data-testid': 'crm-panel-pipeline' }, pipelines.map((item) => h('option', { value: String(item.id) }, item.name)));
      const create = h('button', { type: 'button', class: 'button primary', 'data-testid': 'crm-panel-create-deal' }, gettext('Create deal'));
      create.addEventListener('click', () =>
        whileBusy(create, async () => {
          try {
            const deal = await crm.post(`/conversations/${conversationId}/crm/deal/`, { pipeline_id: Number(pipeline.value) }, { signal });
            panel.deals = [deal, ...(panel.deals || []).filter((item) => item.id !== deal.id)];
            toast(gettext('Deal created.'), { kind: 'success' });
            draw();
            content.querySelector(`a[href="/crm/deals/${deal.id}"]`)?.focus();
          } catch (error) {
            if (!isAbort(error)) toast(errorText(error), { kind: 'error' });
          }
        }),
      );
      children.push(h('div', { class: 'crm-panel-create' }, h('label', { for: pipeline.id }, gettext('Pipeline')), pipeline, create));
    }
    if (canWrite) children.push(relinkForm());
    setChildren(content, ...children);
  }

  function relinkForm() {
    const search = h('input', { type: 'search', id: `crm-panel-relink-${conversationId}`, class: 'compact', autocomplete: 'off', placeholder: gettext('Name, e-mail or phone') });
    const found = h('ul', { class: 'plain-list crm-mini-list' });
    search.addEventListener(
      'input',
      debounced(async () => {
        const text = search.value.trim();
        if (!text) return setChildren(found);
        try {
          const contacts = resultsOf(await crm.get(`/contacts/?${queryOf({ q: text })}`, { signal })).filter((item) => !panel.contact || item.id !== panel.contact.id).slice(0, 6);
          setChildren(
            found,
            contacts.length
              ? contacts.map((item) =>
                  h(
                    'li',
                    null,
                    h(
                      'button',
                      {
                        type: 'button',
                        class: 'link-button',
                        async onclick() {
                          try {
                            await crm.put(`/conversations/${conversationId}/crm/contact/`, { contact_id: item.id }, { signal });
                            toast(gettext('Conversation linked to the contact.'), { kind: 'success' });
                            load();
                          } catch (error) {
                            if (!isAbort(error)) toast(errorText(error), { kind: 'error' });
                          }
                        },
                      },
                      item.name,
                    ),
                    item.email ? h('span', { class: 'muted' }, ` ${item.email}`) : null,
                  ),
                )
              : h('li', { class: 'muted' }, gettext('Nothing found.')),
          );
        } catch (error) {
          if (!isAbort(error)) setChildren(found, h('li', { class: 'error-text' }, errorText(error)));
        }
      }, 300),
    );
    return h(
      'details',
      { class: 'crm-panel-relink' },
      h('summary', null, gettext('Link to another contact')),
      h('label', { for: search.id, class: 'visually-hidden' }, gettext('Find a contact')),
      search,
      found,
    );
  }

  async function load() {
    try {
      const [answer, found] = await Promise.all([crm.get(`/conversations/${conversationId}/crm/`, { signal }), pipelines.length ? pipelines : loadPipelines(signal)]);
      panel = answer;
      pipelines = found;
      draw();
    } catch (error) {
      if (isAbort(error)) return;
      // The CRM may be closed to this person (or the conversation's contact unknown): say so
      // quietly, the inbox itself works.
      setChildren(content, h('p', { class: 'muted' }, errorText(error)));
    }
  }
  load();
  return { element };
}
