// The CSV import wizard (/crm/import, /crm/import/<id>).
//
// 1. Upload: contacts or deals (deals go to a pipeline), the file. 2. Preview the first rows
// and map each column to a field, starting from the server's suggestion. 3. Start: a task
// imports the rows in batches; its progress arrives on the person's own socket group
// (`crm.import.progress`, the job's data), with a poll of the job as the fallback when the
// socket is down; at the end the counts and the rows that failed, each with its reason.
// Below the upload form, the past imports.

import { errorText, h, setChildren, whileBusy } from '../components.js';
import { gettext, interpolate } from '../i18n.js';
import { socket } from '../socket.js';
import { crmCanWrite } from '../crm/nav.js';
import { crm, crmFrame, formatWhen, isAbort, loadPipelines, recordTable, resultsOf, showFailure } from '../crm/records.js';

const POLL_MS = 2_000;
const FINISHED = new Set(['done', 'failed']);

/** The fields a column can go to. The server's suggestion may name others: they are kept. */
function targets(entity) {
  if (entity === 'deals') {
    return [
      ['title', gettext('Title')],
      ['value', gettext('Value')],
      ['currency', gettext('Currency')],
      ['stage', gettext('Stage (by name)')],
      ['contact_email', gettext('Contact e-mail')],
      ['contact_name', gettext('Contact name')],
      ['contact_phone', gettext('Contact phone')],
      ['company', gettext('Company')],
      ['owner_email', gettext('Owner e-mail')],
      ['expected_close_date', gettext('Expected close date')],
      ['probability', gettext('Win probability (%)')],
      ['labels', gettext('Labels')],
    ];
  }
  return [
    ['name', gettext('Name')],
    ['email', gettext('E-mail')],
    ['phone', gettext('Phone')],
    ['job_title', gettext('Job title')],
    ['company', gettext('Company')],
    ['source', gettext('Source')],
    ['notes', gettext('Notes')],
    ['owner_email', gettext('Owner e-mail')],
    ['labels', gettext('Labels')],
  ];
}

export function statusLabel(status) {
  switch (status) {
    case 'uploaded':
      return gettext('Waiting for the mapping');
    case 'queued':
      return gettext('Queued');
    case 'running':
      return gettext('Importing');
    case 'done':
      return gettext('Finished');
    case 'failed':
      return gettext('Failed');
    default:
      return status;
  }
}

function entityLabel(entity) {
  return entity === 'deals' ? gettext('Deals') : gettext('Contacts');
}

export function render(context) {
  if (context.params.importId) renderJob(context, Number(context.params.importId));
  else renderUpload(context);
}

// --- Step 1: upload, and the past imports ------------------------------------------------------

function renderUpload({ main, setTitle, signal, navigate }) {
  const body = crmFrame(main, { title: gettext('Import'), setTitle });
  if (!body) return;
  const past = h('section', { class: 'crm-section', 'aria-labelledby': 'past-imports-title' }, h('h2', { id: 'past-imports-title' }, gettext('Past imports')));
  const pastList = h('div', { 'aria-live': 'polite' });
  past.append(pastList);

  if (!crmCanWrite()) {
    body.append(h('p', { class: 'card' }, gettext('Viewers cannot import records.')), past);
  } else {
    const entity = h('select', { id: 'import-entity', name: 'entity', 'data-testid': 'import-entity' }, h('option', { value: 'contacts' }, gettext('Contacts')), h('option', { value: 'deals' }, gettext('Deals')));
    const pipeline = h('select', { id: 'import-pipeline', name: 'pipeline_id', 'data-testid': 'import-pipeline' });
    const pipelineField = h('div', { class: 'field', hidden: true }, h('label', { for: pipeline.id }, gettext('Pipeline')), pipeline);
    const file = h('input', { type: 'file', id: 'import-file', name: 'file', accept: '.csv,text/csv', required: true, 'aria-describedby': 'import-file-hint', 'data-testid': 'import-file' });
    const alert = h('div', { class: 'form-alert', role: 'alert', hidden: true });
    const submit = h('button', { type: 'submit', class: 'button primary', 'data-testid': 'upload-import' }, gettext('Upload and preview'));
    const form = h(
      'form',
      { class: 'card crm-form', 'aria-labelledby': 'import-upload-title' },
      h('h2', { id: 'import-upload-title' }, gettext('1. Choose a CSV file')),
      alert,
      h('div', { class: 'crm-form-grid' }, h('div', { class: 'field' }, h('label', { for: entity.id }, gettext('Import')), entity), pipelineField),
      h(
        'div',
        { class: 'field' },
        h('label', { for: file.id }, gettext('CSV file')),
        file,
        h('p', { class: 'field-hint', id: 'import-file-hint' }, gettext('The first line names the columns. UTF-8, separated by commas or semicolons.')),
      ),
      h('div', { class: 'actions' }, submit),
    );
    entity.addEventListener('change', () => (pipelineField.hidden = entity.value !== 'deals'));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      alert.hidden = true;
      if (!file.files.length) return;
      const data = new FormData();
      data.append('entity', entity.value);
      if (entity.value === 'deals' && pipeline.value) data.append('pipeline_id', pipeline.value);
      data.append('file', file.files[0]);
      await whileBusy(submit, async () => {
        try {
          const job = await crm.postForm('/imports/', data, { signal });
          navigate(`/crm/import/${job.id}`);
        } catch (error) {
          if (isAbort(error)) return;
          alert.textContent = errorText(error);
          alert.hidden = false;
        }
      });
    });
    body.append(form, past);
    loadPipelines(signal)
      .then((pipelines) => setChildren(pipeline, pipelines.map((item) => h('option', { value: String(item.id) }, item.name))))
      .catch((error) => showFailure(alert, error));
  }

  crm
    .get('/imports/', { signal })
    .then((answer) =>
      setChildren(
        pastList,
        recordTable({
          testid: 'past-imports',
          empty: gettext('No imports yet.'),
          columns: [{ label: gettext('File') }, { label: gettext('Records') }, { label: gettext('Status') }, { label: gettext('Created') }, { label: gettext('Updated') }, { label: gettext('Errors') }, { label: gettext('When') }],
          rows: resultsOf(answer).map((job) => [
            h('a', { href: `/crm/import/${job.id}` }, job.filename || interpolate(gettext('Import %(id)s'), { id: job.id })),
            entityLabel(job.entity),
            statusLabel(job.status),
            String(job.created_count),
            String(job.updated_count),
            String(job.error_count),
            formatWhen(job.created_at),
          ]),
        }),
      ),
    )
    .catch((error) => showFailure(pastList, error));
}

// --- Steps 2 and 3: mapping, progress and the outcome ------------------------------------------

function renderJob({ main, setTitle, signal, onCleanup, onResync }, importId) {
  const body = crmFrame(main, { title: gettext('Import'), setTitle });
  if (!body) return;
  const heading = main.querySelector('h1');
  const slot = h('div', { class: 'crm-import' });
  body.append(h('p', null, h('a', { href: '/crm/import' }, gettext('← Imports'))), slot);

  let job = null;
  let pollTimer = null;
  let drawnStatus = null;
  const progressText = h('p', { class: 'crm-progress-text', role: 'status', 'aria-live': 'polite', 'data-testid': 'import-progress-text' });
  const progress = h('progress', { class: 'crm-progress', max: '1', value: '0', 'aria-labelledby': 'import-progress-label', 'data-testid': 'import-progress' });
  const outcome = h('div', { class: 'crm-import-outcome' });

  function drawMapping() {
    const preview = job.preview || { headers: [], rows: [], suggested_mapping: {} };
    const suggested = preview.suggested_mapping || job.mapping || {};
    const known = targets(job.entity);
    const selects = preview.headers.map((header, index) => {
      const select = h('select', { id: `import-map-${index}`, dataset: { header }, 'data-testid': 'import-mapping' }, h('option', { value: '' }, gettext('Do not import')), known.map(([value, text]) => h('option', { value }, text)));
      const target = suggested[header];
      if (target && !known.some(([value]) => value === target)) select.append(h('option', { value: target }, target));
      select.value = target || '';
      return select;
    });
    const alert = h('div', { class: 'form-alert', role: 'alert', hidden: true });
    const start = h('button', { type: 'submit', class: 'button primary', 'data-testid': 'start-import' }, gettext('Start the import'));
    const form = h(
      'form',
      { class: 'card crm-form', 'aria-labelledby': 'import-map-title' },
      h('h2', { id: 'import-map-title' }, gettext('2. Check the columns')),
      h(
        'p',
        { class: 'muted' },
        interpolate(gettext('%(file)s: %(rows)s rows of %(records)s.'), { file: job.filename, rows: job.total_rows, records: entityLabel(job.entity).toLowerCase() }),
      ),
      h(
        'div',
        { class: 'table-scroll' },
        h(
          'table',
          { class: 'data-table crm-preview', 'data-testid': 'import-preview' },
          h('caption', { class: 'visually-hidden' }, gettext('The first rows of the file, and where each column goes')),
          h(
            'thead',
            null,
            h('tr', null, preview.headers.map((header) => h('th', { scope: 'col' }, header))),
            h(
              'tr',
              { class: 'crm-mapping-row' },
              preview.headers.map((header, index) =>
                h('td', { 'data-label': header }, h('label', { for: selects[index].id, class: 'visually-hidden' }, interpolate(gettext('Field for the column %(column)s'), { column: header })), selects[index]),
              ),
            ),
          ),
          h(
            'tbody',
            null,
            (preview.rows || []).map((row) => h('tr', null, preview.headers.map((header, index) => h('td', { 'data-label': header }, Array.isArray(row) ? row[index] ?? '' : row[header] ?? '')))),
          ),
        ),
      ),
      alert,
      h('div', { class: 'actions' }, start),
    );
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      alert.hidden = true;
      const mapping = {};
      for (const select of selects) if (select.value) mapping[select.dataset.header] = select.value;
      await whileBusy(start, async () => {
        try {
          const started = await crm.post(`/imports/${importId}/start/`, { mapping }, { signal });
          update(started && started.status ? started : { ...job, status: 'queued' });
        } catch (error) {
          if (isAbort(error)) return;
          alert.textContent = errorText(error);
          alert.hidden = false;
        }
      });
    });
    setChildren(slot, form);
  }

  function drawProgressFrame() {
    setChildren(
      slot,
      h(
        'section',
        { class: 'card crm-section', 'aria-labelledby': 'import-progress-label' },
        h('h2', { id: 'import-progress-label' }, gettext('3. Importing')),
        progress,
        progressText,
        outcome,
      ),
    );
  }

  function drawProgress() {
    const total = job.total_rows || 0;
    const doneRows = FINISHED.has(job.status) ? total : Math.min(job.next_row || 0, total);
    progress.max = Math.max(total, 1);
    progress.value = total ? doneRows : FINISHED.has(job.status) ? 1 : 0;
    progress.textContent = `${doneRows}/${total}`;
    const state = h('span', { class: `badge ${job.status === 'done' ? 'success' : job.status === 'failed' ? 'danger' : 'subtle'}`, 'data-testid': 'import-status', dataset: { status: job.status } }, statusLabel(job.status));
    setChildren(progressText, state, ' ', interpolate(gettext('%(done)s of %(total)s rows'), { done: doneRows, total }));
    setChildren(
      outcome,
      h(
        'dl',
        { class: 'crm-counts' },
        h('div', null, h('dt', null, gettext('Created')), h('dd', { 'data-testid': 'import-created' }, String(job.created_count))),
        h('div', null, h('dt', null, gettext('Updated')), h('dd', { 'data-testid': 'import-updated' }, String(job.updated_count))),
        h('div', null, h('dt', null, gettext('Rows with errors')), h('dd', { 'data-testid': 'import-errors' }, String(job.error_count))),
      ),
      (job.errors || []).length
        ? [
            h('h3', null, gettext('Rows not imported')),
            recordTable({
              testid: 'import-error-rows',
              empty: '',
              columns: [{ label: gettext('Row') }, { label: gettext('Column') }, { label: gettext('Problem') }],
              rows: job.errors.map((error) => [String(error.row), error.field || '—', error.message]),
            }),
            job.error_count > job.errors.length ? h('p', { class: 'muted' }, interpolate(gettext('Showing the first %(count)s.'), { count: job.errors.length })) : null,
          ]
        : null,
      job.status === 'done' ? h('p', null, h('a', { href: job.entity === 'deals' ? '/crm/deals' : '/crm/contacts' }, job.entity === 'deals' ? gettext('See the deals') : gettext('See the contacts'))) : null,
    );
  }

  function update(next) {
    // Events and polls may cross: never go back to an earlier state of the run.
    if (job && job.id === next.id && FINISHED.has(job.status) && !FINISHED.has(next.status)) return;
    if (job && job.status === next.status && (next.next_row || 0) < (job.next_row || 0)) return;
    job = { ...(job || {}), ...next };
    heading.textContent = interpolate(gettext('Import: %(file)s'), { file: job.filename || job.id });
    if (job.status === 'uploaded') {
      if (drawnStatus !== 'uploaded') drawMapping();
    } else {
      if (drawnStatus === null || drawnStatus === 'uploaded') drawProgressFrame();
      drawProgress();
    }
    drawnStatus = job.status;
    schedulePoll();
  }

  function schedulePoll() {
    clearTimeout(pollTimer);
    if (!job || job.status === 'uploaded' || FINISHED.has(job.status)) return;
    // The socket brings the progress; a poll covers a socket that is down or a lost event.
    pollTimer = setTimeout(refresh, socket.status === 'connected' ? POLL_MS * 2 : POLL_MS);
  }

  async function refresh() {
    try {
      update(await crm.get(`/imports/${importId}/`, { signal }));
    } catch (error) {
      if (job) schedulePoll();
      else showFailure(slot, error);
    }
  }

  onCleanup(() => clearTimeout(pollTimer));
  onCleanup(
    socket.on('crm.import.progress', (data) => {
      const payload = data && data.job ? data.job : data;
      if (payload && payload.id === importId) update(payload);
    }),
  );
  onResync(refresh);
  setChildren(slot, h('p', { class: 'loading', role: 'status' }, gettext('Loading…')));
  refresh();
}
