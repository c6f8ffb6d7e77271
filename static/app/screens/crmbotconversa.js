// BotConversa settings (/crm/botconversa, org admins): the API key (write-only: only "set,
// ending in 1234" comes back), the API address, on/off, the inbox queue WhatsApp attendances
// go to, a connection test that lists the tags and flows it found; the inbound address its
// flows call, with examples of the JSON to send and a way to change its secret; the rules
// that tie stages and tags together; and the calls to BotConversa that failed, to retry.

import { apiRequest } from '../api.js';
import { confirmDialog, errorText, h, setChildren, toast, whileBusy } from '../components.js';
import { gettext, interpolate } from '../i18n.js';
import { crmIsAdmin, crmOrganizationId } from '../crm/nav.js';
import { attempt, crm, crmFrame, formatWhen, isAbort, loadPipelines, recordTable, resultsOf, showFailure } from '../crm/records.js';

const RULE_KINDS = ['stage_adds_tag', 'stage_starts_flow', 'tag_moves_to_stage'];

function ruleKindLabel(kind) {
  switch (kind) {
    case 'stage_adds_tag':
      return gettext('A deal entering a stage adds a tag');
    case 'stage_starts_flow':
      return gettext('A deal entering a stage starts a flow');
    case 'tag_moves_to_stage':
      return gettext('A tag moves the deal to a stage');
    default:
      return kind;
  }
}

/** What BotConversa's "HTTP request" step sends, one example per kind of call. */
function samples() {
  const subscriber = { id: '{{subscriber_id}}', phone: '{{phone}}', name: '{{full_name}}' };
  return [
    [
      gettext('A WhatsApp message (opens or updates the attendance in the inbox)'),
      { type: 'message', event_id: '{{message_id}}', subscriber, message: { id: '{{message_id}}', text: '{{last_message}}' } },
    ],
    [gettext('A change of status of the attendance (resolved, closed or open)'), { type: 'status', event_id: '{{event_id}}', subscriber, status: 'resolved' }],
    [gettext('A tag added in BotConversa (applies the tag rules)'), { type: 'tag', event_id: '{{event_id}}', subscriber, tag: 'qualificado' }],
  ];
}

export function render({ main, setTitle, signal }) {
  const body = crmFrame(main, { title: gettext('BotConversa'), setTitle });
  if (!body) return;
  if (!crmIsAdmin()) {
    body.append(
      h(
        'p',
        { class: 'card', 'data-testid': 'botconversa-admins-only' },
        gettext('The BotConversa connection is set up by the organization’s admins. It brings WhatsApp attendances into the inbox and keeps tags and stages in step; ask an admin if something needs changing.'),
      ),
    );
    return;
  }

  const settingsSection = h('section', { class: 'card crm-section', 'aria-labelledby': 'bc-settings-title' });
  const inboundSection = h('section', { class: 'card crm-section', 'aria-labelledby': 'bc-inbound-title' });
  const rulesSection = h('section', { class: 'card crm-section', 'aria-labelledby': 'bc-rules-title' });
  const failedSection = h('section', { class: 'card crm-section', 'aria-labelledby': 'bc-failed-title' });
  body.append(settingsSection, inboundSection, rulesSection, failedSection);

  let settings = null;
  let queues = [];
  let pipelines = [];

  // --- connection ------------------------------------------------------------------------

  function drawSettings() {
    const key = h('input', { id: 'bc-api-key', type: 'password', autocomplete: 'new-password', 'aria-describedby': 'bc-api-key-state', 'data-testid': 'bc-api-key' });
    const keyState = h(
      'p',
      { class: 'field-hint', id: 'bc-api-key-state', 'data-testid': 'bc-api-key-state' },
      !settings.api_key_set
        ? gettext('No key yet.')
        : settings.api_key_last4
          ? interpolate(gettext('A key is set, ending in %(last4)s. Type a new one to replace it.'), { last4: settings.api_key_last4 })
          : gettext('A key is set. Type a new one to replace it.'),
    );
    const url = h('input', { id: 'bc-api-url', type: 'url', value: settings.api_url || '', required: true });
    const enabled = h('input', { id: 'bc-enabled', type: 'checkbox', checked: Boolean(settings.enabled) });
    const queue = h('select', { id: 'bc-queue', 'data-testid': 'bc-queue' }, h('option', { value: '' }, gettext('Choose a queue')), queues.map((item) => h('option', { value: String(item.id) }, item.name)));
    queue.value = settings.queue_id ? String(settings.queue_id) : '';
    const alert = h('div', { class: 'form-alert', role: 'alert', hidden: true });
    const save = h('button', { type: 'submit', class: 'button primary', 'data-testid': 'bc-save' }, gettext('Save'));
    const test = h('button', { type: 'button', class: 'button', 'data-testid': 'bc-test' }, gettext('Test connection'));
    const testResult = h('div', { class: 'crm-test-result', 'aria-live': 'polite', 'data-testid': 'bc-test-result' });
    const lastCheck =
      settings.last_checked_at !== undefined && settings.last_checked_at
        ? h(
            'p',
            { class: 'muted' },
            interpolate(settings.last_check_ok ? gettext('Last test %(when)s: worked.') : gettext('Last test %(when)s: failed.'), { when: formatWhen(settings.last_checked_at) }),
          )
        : null;
    const form = h(
      'form',
      { class: 'crm-form', 'data-testid': 'bc-settings' },
      h('h2', { id: 'bc-settings-title' }, gettext('Connection')),
      alert,
      h('div', { class: 'field' }, h('label', { for: key.id }, gettext('API key')), key, keyState),
      h('div', { class: 'field' }, h('label', { for: url.id }, gettext('API address')), url),
      h('div', { class: 'field' }, h('label', { for: queue.id }, gettext('Inbox queue for WhatsApp attendances')), queue),
      h('div', { class: 'field' }, h('label', { class: 'checkbox', for: enabled.id }, enabled, ' ', gettext('Sync with BotConversa'))),
      h('div', { class: 'actions' }, save, test),
      lastCheck,
      testResult,
    );
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      alert.hidden = true;
      const payload = { api_url: url.value.trim(), enabled: enabled.checked, queue_id: queue.value ? Number(queue.value) : null };
      // Write-only: an empty box keeps the stored key.
      if (key.value.trim()) payload.api_key = key.value.trim();
      await whileBusy(save, async () => {
        try {
          settings = await crm.put('/botconversa/', payload, { signal });
          toast(gettext('BotConversa settings saved.'), { kind: 'success' });
          drawSettings();
          drawInbound();
        } catch (error) {
          if (isAbort(error)) return;
          alert.textContent = errorText(error);
          alert.hidden = false;
        }
      });
    });
    test.addEventListener('click', () =>
      whileBusy(test, async () => {
        setChildren(testResult, h('p', { class: 'muted' }, gettext('Testing…')));
        try {
          const answer = await crm.post('/botconversa/test/', {}, { signal });
          const list = (title, items) =>
            h('div', null, h('h3', null, title), items.length ? h('ul', { class: 'crm-chips' }, items.map((item) => h('li', { class: 'tag' }, typeof item === 'string' ? item : item.name || String(item.id)))) : h('p', { class: 'muted' }, gettext('None found.')));
          setChildren(
            testResult,
            h(
              'p',
              { class: answer.ok ? 'crm-ok' : 'crm-fail', 'data-testid': 'bc-test-status', dataset: { ok: String(Boolean(answer.ok)) } },
              h('span', { class: `badge ${answer.ok ? 'success' : 'danger'}` }, answer.ok ? gettext('Connection works') : gettext('Connection failed')),
              ' ',
              answer.message || '',
            ),
            answer.ok ? [list(gettext('Tags'), answer.tags || []), list(gettext('Flows'), answer.flows || [])] : null,
          );
        } catch (error) {
          if (isAbort(error)) return;
          setChildren(testResult, h('p', { class: 'crm-fail', 'data-testid': 'bc-test-status', dataset: { ok: 'false' } }, h('span', { class: 'badge danger' }, gettext('Connection failed')), ' ', errorText(error)));
        }
      }),
    );
    setChildren(settingsSection, form);
  }

  // --- the inbound address ---------------------------------------------------------------

  function drawInbound() {
    const address = h('input', { id: 'bc-inbound-url', readonly: true, value: settings.inbound_url || '', 'data-testid': 'bc-inbound-url' });
    const copy = h('button', { type: 'button', class: 'button' }, gettext('Copy'));
    copy.addEventListener('click', async () => {
      try {
        await navigator.clipboard.writeText(address.value);
        toast(gettext('Address copied.'), { kind: 'success' });
      } catch {
        // No clipboard (an insecure origin): select it for the person to copy.
        address.select();
        toast(gettext('Press Ctrl+C to copy the selected address.'));
      }
    });
    const rotate = h('button', { type: 'button', class: 'button danger-outline', 'data-testid': 'bc-rotate' }, gettext('Change the secret'));
    rotate.addEventListener('click', async () => {
      const sure = await confirmDialog({
        title: gettext('Change the secret of the address?'),
        message: gettext('The current address stops working at once: update every BotConversa flow that calls it.'),
        confirmLabel: gettext('Change the secret'),
        danger: true,
      });
      if (!sure) return;
      if (
        await attempt(async () => {
          settings = await crm.post('/botconversa/rotate-token/', {}, { signal });
        })
      ) {
        toast(gettext('New address ready.'), { kind: 'success' });
        drawInbound();
      }
    });
    setChildren(
      inboundSection,
      h('h2', { id: 'bc-inbound-title' }, gettext('Inbound address')),
      h('p', null, gettext('In your BotConversa flows, add an “HTTP request” step that POSTs JSON to this address.')),
      h('div', { class: 'field' }, h('label', { for: address.id }, gettext('Address')), h('div', { class: 'crm-copy-row' }, address, copy)),
      h(
        'details',
        { class: 'crm-samples' },
        h('summary', null, gettext('Examples of the JSON body')),
        samples().map(([title, sample]) => h('div', null, h('h3', null, title), h('pre', { class: 'crm-code' }, h('code', null, JSON.stringify(sample, null, 2))))),
        h('p', { class: 'muted' }, gettext('The {{…}} parts are BotConversa variables; event_id makes a repeated call harmless.')),
      ),
      h('div', { class: 'actions' }, rotate),
    );
  }

  // --- rules -----------------------------------------------------------------------------

  async function drawRules() {
    const list = h('div', { 'aria-live': 'polite' });
    const stageOptions = pipelines.flatMap((pipeline) => pipeline.stages.map((stage) => h('option', { value: String(stage.id) }, `${pipeline.name} · ${stage.name}`)));
    const stageName = (id) => {
      for (const pipeline of pipelines) {
        const stage = pipeline.stages.find((item) => item.id === id);
        if (stage) return `${pipeline.name} · ${stage.name}`;
      }
      return String(id);
    };
    const kind = h('select', { id: 'bc-rule-kind', 'data-testid': 'bc-rule-kind' }, RULE_KINDS.map((value) => h('option', { value }, ruleKindLabel(value))));
    const stage = h('select', { id: 'bc-rule-stage', required: true }, stageOptions);
    const tag = h('input', { id: 'bc-rule-tag', maxlength: 100 });
    const flow = h('input', { id: 'bc-rule-flow', maxlength: 40 });
    const tagField = h('div', { class: 'field' }, h('label', { for: tag.id }, gettext('Tag')), tag);
    const flowField = h('div', { class: 'field', hidden: true }, h('label', { for: flow.id }, gettext('Flow id')), flow);
    kind.addEventListener('change', () => {
      flowField.hidden = kind.value !== 'stage_starts_flow';
      tagField.hidden = kind.value === 'stage_starts_flow';
    });
    const add = h('button', { type: 'submit', class: 'button' }, gettext('Add rule'));
    const form = h(
      'form',
      { class: 'inline-form crm-rule-form' },
      h('div', { class: 'field' }, h('label', { for: kind.id }, gettext('When')), kind),
      h('div', { class: 'field' }, h('label', { for: stage.id }, gettext('Stage')), stage),
      tagField,
      flowField,
      add,
    );
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const payload = { kind: kind.value, stage_id: Number(stage.value), tag_name: kind.value === 'stage_starts_flow' ? '' : tag.value.trim(), flow_id: kind.value === 'stage_starts_flow' ? flow.value.trim() : '' };
      await whileBusy(add, async () => {
        if (await attempt(() => crm.post('/botconversa/rules/', payload, { signal }))) {
          tag.value = flow.value = '';
          loadRules();
        }
      });
    });
    setChildren(rulesSection, h('h2', { id: 'bc-rules-title' }, gettext('Rules')), list, pipelines.length ? form : h('p', { class: 'muted' }, gettext('Create a pipeline first.')));

    async function loadRules() {
      try {
        const rules = resultsOf(await crm.get('/botconversa/rules/', { signal }));
        setChildren(
          list,
          recordTable({
            testid: 'bc-rules',
            empty: gettext('No rules yet.'),
            columns: [{ label: gettext('When') }, { label: gettext('Stage') }, { label: gettext('Tag or flow') }, { label: gettext('Actions'), hidden: true }],
            rows: rules.map((rule) => [
              ruleKindLabel(rule.kind),
              stageName(rule.stage ? rule.stage.id : rule.stage_id),
              rule.kind === 'stage_starts_flow' ? rule.flow_id : rule.tag_name,
              h(
                'button',
                {
                  type: 'button',
                  class: 'button danger-outline',
                  async onclick() {
                    if (await attempt(() => crm.delete(`/botconversa/rules/${rule.id}/`, { signal }))) loadRules();
                  },
                },
                gettext('Remove'),
              ),
            ]),
          }),
        );
      } catch (error) {
        showFailure(list, error);
      }
    }
    loadRules();
  }

  // --- failed dispatches -----------------------------------------------------------------

  async function drawFailed() {
    const list = h('div', { 'aria-live': 'polite' });
    setChildren(failedSection, h('h2', { id: 'bc-failed-title' }, gettext('Failed calls to BotConversa')), list);
    try {
      const failed = resultsOf(await crm.get('/botconversa/dispatches/?status=failed', { signal }));
      setChildren(
        list,
        recordTable({
          testid: 'bc-failed',
          empty: gettext('Nothing failed.'),
          columns: [{ label: gettext('Action') }, { label: gettext('Error') }, { label: gettext('Attempts') }, { label: gettext('When') }, { label: gettext('Actions'), hidden: true }],
          rows: failed.map((dispatch) => {
            const retry = h('button', { type: 'button', class: 'button' }, gettext('Retry'));
            retry.addEventListener('click', () =>
              whileBusy(retry, async () => {
                if (await attempt(() => crm.post(`/botconversa/dispatches/${dispatch.id}/retry/`, {}, { signal }))) {
                  toast(gettext('Sent again.'), { kind: 'success' });
                  drawFailed();
                }
              }),
            );
            return [dispatch.action, dispatch.last_error || '—', String(dispatch.attempts), formatWhen(dispatch.created_at), retry];
          }),
        }),
      );
    } catch (error) {
      showFailure(list, error);
    }
  }

  (async () => {
    try {
      [settings, queues, pipelines] = await Promise.all([
        crm.get('/botconversa/', { signal }),
        apiRequest('GET', `/inbox/${crmOrganizationId()}/queues/`, { signal }).then(resultsOf),
        loadPipelines(signal),
      ]);
    } catch (error) {
      showFailure(settingsSection, error);
      return;
    }
    drawSettings();
    drawInbound();
    drawRules();
    drawFailed();
  })();
}
