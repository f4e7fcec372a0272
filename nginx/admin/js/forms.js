// forms.js — form fields with their labels and per-field error slots, and
// how an API error is shown: the message, each field's reason next to that
// field, the error code and the request_id to quote to support.

import { h, replace } from './dom.js';

// field(prefix, spec): a labelled control. spec: {name, label, type
// ('text', 'number', 'password', 'select', 'textarea', 'checkbox'…), value,
// options ([[value, text]…] for a select), hint, required, attrs}. The
// control's id is `${prefix}-${name}`; its error slot carries
// data-error-for=name.
export function field(prefix, spec) {
	const id = `${prefix}-${spec.name}`;
	const errorId = `${id}-error`;
	const hintId = spec.hint ? `${id}-hint` : null;
	const common = {
		id, name: spec.name, required: spec.required,
		'aria-describedby': [hintId, errorId].filter(Boolean).join(' '),
		...spec.attrs,
	};
	let control;
	if (spec.type === 'select') {
		control = h('select', common, (spec.options || []).map(([value, text]) =>
			h('option', { value, selected: String(spec.value ?? '') === String(value) }, text)));
	} else if (spec.type === 'textarea') {
		control = h('textarea', { ...common, rows: spec.rows || 3, value: spec.value ?? '' });
	} else if (spec.type === 'checkbox') {
		control = h('input', { ...common, type: 'checkbox', checked: !!spec.value });
	} else {
		control = h('input', { ...common, type: spec.type || 'text', value: spec.value ?? '' });
	}
	const label = h('label', { for: id }, spec.label);
	const parts = spec.type === 'checkbox'
		? [h('div', { class: 'check' }, control, label)]
		: [label, control];
	return h('div', { class: `field field-${spec.name}` }, parts,
		spec.hint ? h('small', { id: hintId, class: 'hint' }, spec.hint) : null,
		h('p', { id: errorId, class: 'field-error', dataset: { errorFor: spec.name } }));
}

// clearErrors(form, box): no field marked invalid, the message box empty.
export function clearErrors(form, box) {
	for (const slot of form.querySelectorAll('[data-error-for]'))
		slot.textContent = '';
	for (const control of form.querySelectorAll('[aria-invalid]'))
		control.removeAttribute('aria-invalid');
	if (box)
		replace(box);
}

// setFieldError(form, name, text): one field's reason, next to it. false
// when the form has no such field.
export function setFieldError(form, name, text) {
	const slot = form.querySelector(`[data-error-for="${CSS.escape(name)}"]`);
	if (!slot)
		return false;
	slot.textContent = text;
	form.querySelector(`[name="${CSS.escape(name)}"]`)?.setAttribute('aria-invalid', 'true');
	return true;
}

// showError(box, err, form): err's message (and code, status, request_id)
// in box; with a form, each of err.fields goes next to its field and only
// those the form lacks are listed in the box. The first invalid control
// gets the focus.
export function showError(box, err, form) {
	const unplaced = {};
	for (const [name, reason] of Object.entries(err?.fields || {}))
		if (!form || !setFieldError(form, name, String(reason)))
			unplaced[name] = reason;
	replace(box, errorBox(err, unplaced));
	form?.querySelector('[aria-invalid="true"]')?.focus();
}

// errorBox(err, fields): the message box for an ApiError (or any Error).
export function errorBox(err, fields = err?.fields || {}) {
	const meta = [];
	if (err?.code)
		meta.push(err.code);
	if (err?.status)
		meta.push(`HTTP ${err.status}`);
	const entries = Object.entries(fields);
	return h('div', { class: 'error', role: 'alert' },
		h('p', null, h('strong', null, err?.message || String(err))),
		entries.length ? h('ul', null, entries.map(([name, reason]) =>
			h('li', null, h('code', null, name), ': ', String(reason)))) : null,
		meta.length || err?.requestId ? h('p', { class: 'meta' }, meta.join(' · '),
			err?.requestId ? [' · request id ', h('code', { class: 'request-id' }, err.requestId)] : null)
			: null);
}

// notice(text, ...more): a success message.
export function notice(text, ...more) {
	return h('div', { class: 'notice', role: 'status' }, text, ...more);
}

// busy(button, promise): the button is disabled while promise runs.
export async function busy(button, promise) {
	button.disabled = true;
	try {
		return await promise;
	} finally {
		button.disabled = false;
	}
}
