// Identity verification (KYC) for professionals: the status of their latest submission and,
// when there is none or it was rejected, the form that sends the documents.

import { api } from '../api.js';
import { getUser } from '../auth.js';
import { clearFormError, errorText, field, formAlert, h, loading, showFormError, toast, whileBusy } from '../components.js';
import { formatDateTime, gettext, interpolate } from '../i18n.js';

const MAX_IMAGE_BYTES = 5 * 1024 * 1024;
const IMAGE_TYPES = 'image/jpeg,image/png,image/webp';

export function render({ main, setTitle, signal, onCleanup, onResync }) {
  setTitle(gettext('Identity verification'));
  const body = h('div', null, loading());
  main.append(
    h(
      'div',
      { class: 'narrow-column' },
      h('h1', null, gettext('Identity verification')),
      h('p', { class: 'lead' }, gettext('Professionals confirm who they are before they can withdraw what they earn. Your documents are only seen by our review team.')),
      body,
    ),
  );

  if (getUser().account_type !== 'professional') {
    body.replaceChildren(
      h(
        'section',
        { class: 'card' },
        h('p', null, gettext('Identity verification is for professional accounts.')),
        h('p', null, h('a', { href: '/profile', class: 'button primary' }, gettext('Become a professional'))),
      ),
    );
    return;
  }

  const load = async () => {
    try {
      draw(await api.get('/me/kyc/', { signal }));
    } catch (error) {
      if (error.name === 'AbortError') return;
      body.replaceChildren(h('p', { class: 'error-text', role: 'alert' }, errorText(error)));
    }
  };

  const draw = (kyc) => {
    const parts = [statusCard(kyc)];
    if (kyc.status === 'none' || kyc.status === 'rejected') parts.push(kycForm({ onCleanup, onSent: sent }));
    body.replaceChildren(...parts);
  };

  const sent = (kyc) => {
    draw(kyc);
    toast(gettext('Documents sent. We will let you know when the review is done.'), { kind: 'success' });
    const heading = body.querySelector('h2');
    if (heading) {
      heading.tabIndex = -1;
      heading.focus();
    }
  };

  load();
  onResync(load);
}

/** Where the verification stands, in words and a badge. */
function statusCard(kyc) {
  const when = (value) => (value ? formatDateTime(new Date(value), { dateStyle: 'long' }) : '');
  let badge;
  let text;
  switch (kyc.status) {
    case 'pending':
      badge = h('span', { class: 'badge warning' }, gettext('Under review'));
      text = interpolate(gettext('Your documents are under review since %(date)s. This usually takes a few business days.'), {
        date: when(kyc.submitted_at),
      });
      break;
    case 'approved':
      badge = h('span', { class: 'badge success' }, gettext('Verified'));
      text = interpolate(gettext('Your identity was verified on %(date)s.'), { date: when(kyc.reviewed_at) });
      break;
    case 'rejected':
      badge = h('span', { class: 'badge danger' }, gettext('Rejected'));
      text = gettext('We could not verify your identity with the documents you sent. Please send them again.');
      break;
    default:
      badge = h('span', { class: 'badge' }, gettext('Not verified'));
      text = gettext('You have not sent your documents yet.');
  }
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'kyc-status-title', 'data-testid': 'kyc-status' },
    h('div', { class: 'section-header' }, h('h2', { id: 'kyc-status-title' }, gettext('Status')), badge),
    h('p', null, text),
    kyc.status === 'rejected' && kyc.rejection_reason
      ? h('p', { class: 'notice danger' }, h('strong', null, gettext('Reason:')), ' ', kyc.rejection_reason)
      : null,
  );
}

/** A file field for one image, with a size check and a preview. */
function imageField({ label, name, hint, capture, onCleanup }) {
  const preview = h('img', { class: 'kyc-preview', alt: '', hidden: true });
  const f = field({ label, name, type: 'file', accept: IMAGE_TYPES, capture, required: true, hint });
  let url = null;
  const forget = () => {
    if (url) URL.revokeObjectURL(url);
    url = null;
  };
  onCleanup(forget);
  f.input.addEventListener('change', () => {
    forget();
    preview.hidden = true;
    f.setError(undefined);
    const file = f.input.files[0];
    if (!file) return;
    if (file.size > MAX_IMAGE_BYTES) {
      f.setError([gettext('The file is larger than 5 MB.')]);
      f.input.value = '';
      return;
    }
    url = URL.createObjectURL(file);
    preview.src = url;
    preview.alt = interpolate(gettext('Preview: %(label)s'), { label });
    preview.hidden = false;
  });
  f.wrapper.append(preview);
  return f;
}

function kycForm({ onCleanup, onSent }) {
  const user = getUser();
  const fullName = field({
    label: gettext('Full name'),
    name: 'full_name',
    autocomplete: 'name',
    required: true,
    minlength: 3,
    maxlength: 200,
    hint: gettext('As written on your document.'),
  });
  const cpf = field({
    label: gettext('CPF'),
    name: 'cpf',
    inputmode: 'numeric',
    required: true,
    maxlength: 14,
    placeholder: '000.000.000-00',
  });
  const birthDate = field({ label: gettext('Date of birth'), name: 'birth_date', type: 'date', autocomplete: 'bday', required: true });
  const photoHint = gettext('A photo in JPEG, PNG or WebP, up to 5 MB.');
  const front = imageField({ label: gettext('Document (front)'), name: 'document_front', hint: photoHint, onCleanup });
  const back = imageField({ label: gettext('Document (back)'), name: 'document_back', hint: photoHint, onCleanup });
  const selfie = imageField({
    label: gettext('Selfie'),
    name: 'selfie',
    capture: 'user',
    hint: gettext('A photo of your face, holding the document next to it.'),
    onCleanup,
  });
  const fields = [fullName, cpf, birthDate, front, back, selfie];
  const alert = formAlert();
  const submit = h('button', { type: 'submit', class: 'button primary' }, gettext('Send documents'));
  if (user.display_name) fullName.input.value = user.display_name;

  const form = h(
    'form',
    { class: 'stack' },
    alert,
    fields.map((f) => f.wrapper),
    submit,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFormError(fields, alert);
    const data = new FormData(form);
    data.set('full_name', fullName.input.value.trim());
    data.set('cpf', cpf.input.value.trim());
    try {
      const kyc = await whileBusy(submit, () => api.postForm('/me/kyc/', data));
      onSent(kyc);
    } catch (error) {
      showFormError(fields, alert, kycError(error));
    }
  });

  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'kyc-form-title' },
    h('h2', { id: 'kyc-form-title' }, gettext('Send your documents')),
    h('p', { class: 'muted' }, gettext('An identity document with a photo (RG or CNH), both sides, and a selfie.')),
    form,
  );
}

/** The form's wording for the refusals that are not field errors. */
function kycError(error) {
  const messages = {
    'accounts.not_professional': gettext('Identity verification is for professional accounts.'),
    'accounts.kyc_pending': gettext('Your documents are already under review. Reload the page to see the status.'),
    'accounts.kyc_already_approved': gettext('Your identity is already verified.'),
    'accounts.kyc_underage': gettext('You must be at least 18 years old to be a professional.'),
  };
  if (messages[error.code]) return { code: error.code, message: messages[error.code] };
  return error;
}
