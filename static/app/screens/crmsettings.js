// CRM settings (/crm/settings), for the organization's admins: pipelines (create, rename,
// currency, archive), the chosen pipeline's stages, custom fields and access, and the
// organization's lost reasons and labels. Everyone else reads why they cannot change them.
// The chosen pipeline is kept in the address (?pipeline=<id>).

import { api } from '../api.js';
import { errorText, h, loading, setChildren } from '../components.js';
import { gettext } from '../i18n.js';
import { crmIsAdmin, crmNav, crmOrganizationId } from '../crm/nav.js';
import { crmPath, getAll, isAbort } from '../crm/board/util.js';
import { customFieldsSection, labelsSection, lostReasonsSection } from '../crm/settings/lists.js';
import { accessSection, pipelinesSection } from '../crm/settings/pipelines.js';
import { stagesSection } from '../crm/settings/stages.js';

export function render({ main, query, setTitle, signal }) {
  setTitle(gettext('CRM settings'));
  main.append(crmNav(), h('h1', null, gettext('CRM settings')));
  if (!crmOrganizationId()) {
    main.append(h('p', { class: 'card' }, gettext('The CRM belongs to an organization: join one to use it.')));
    return;
  }
  if (!crmIsAdmin()) {
    main.append(
      h(
        'p',
        { class: 'card', 'data-testid': 'crm-settings-denied' },
        gettext('Only the organization’s admins configure the CRM: pipelines, stages, fields, reasons and labels. Ask one of them for a change.'),
      ),
    );
    return;
  }
  const body = h('div', { class: 'crm-settings' }, loading());
  main.append(body);
  let chosenId = Number(query.get('pipeline')) || null;
  let members = null;

  /**
   * Read everything again and draw it; then focus the control with `focusTestId` (the one
   * the person was using, e.g. after moving a stage up), or keep them where they were.
   */
  async function reload(focusTestId, pipelineId) {
    if (pipelineId) choose(pipelineId, { draw: false });
    const scrollY = window.scrollY;
    try {
      const [active, archived, reasons, labels] = await Promise.all([
        getAll('/pipelines/', { signal }),
        getAll('/pipelines/?archived=1', { signal }),
        getAll('/lost-reasons/', { signal }),
        getAll('/labels/', { signal }),
      ]);
      const pipelines = [...active, ...archived.map((item) => ({ ...item, archived: true }))];
      if (members === null) members = await getAll('/members/', { signal }).catch(() => []);
      if (!chosenId || !pipelines.some((item) => item.id === chosenId)) {
        chosenId = (pipelines.find((item) => !item.archived) || pipelines[0] || {}).id || null;
      }
      const pipeline = chosenId ? await api.get(crmPath(`/pipelines/${chosenId}/`), { signal }) : null;
      setChildren(
        body,
        pipelinesSection({ pipelines, pipeline, choose, reload }),
        pipeline ? stagesSection({ pipeline, reload }) : null,
        pipeline ? customFieldsSection({ pipeline, reload }) : null,
        pipeline ? accessSection({ pipeline, members, signal }) : null,
        lostReasonsSection({ reasons, reload }),
        labelsSection({ labels, reload }),
      );
      window.scrollTo(0, scrollY);
      const target = focusTestId && body.querySelector(`[data-testid="${focusTestId}"]`);
      if (target && !target.disabled) target.focus();
    } catch (error) {
      if (!isAbort(error)) setChildren(body, h('p', { class: 'error-text', role: 'alert' }, errorText(error)));
    }
  }

  function choose(pipelineId, { draw = true } = {}) {
    chosenId = pipelineId;
    history.replaceState(null, '', `/crm/settings?pipeline=${pipelineId}`);
    if (draw) reload();
  }

  reload();
}
