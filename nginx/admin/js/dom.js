// dom.js — builds the pages' DOM without innerHTML (so API data is always
// text, never markup) and the few display helpers every view shares.

// h(tag, attrs, ...children): a new element. attrs: `class`, `on` ({event:
// handler}), `dataset`, properties for what elements keep as properties
// (value, checked, disabled, hidden, selected…), attributes for the rest;
// null/undefined/false attributes are left out. Children: nodes, strings
// (as text), numbers, arrays of those; null/false are skipped.
export function h(tag, attrs, ...children) {
	const el = document.createElement(tag);
	for (const [name, value] of Object.entries(attrs || {})) {
		if (value === null || value === undefined || value === false)
			continue;
		if (name === 'class')
			el.className = value;
		else if (name === 'on')
			for (const [event, handler] of Object.entries(value))
				el.addEventListener(event, handler);
		else if (name === 'dataset')
			Object.assign(el.dataset, value);
		else if (PROPERTIES.has(name))
			el[name] = value;
		else
			el.setAttribute(name, value === true ? '' : String(value));
	}
	append(el, children);
	return el;
}

const PROPERTIES = new Set(['value', 'checked', 'disabled', 'hidden', 'selected', 'required',
	'multiple', 'readOnly', 'open']);

function append(el, children) {
	for (const child of children) {
		if (child === null || child === undefined || child === false)
			continue;
		if (Array.isArray(child))
			append(el, child);
		else
			el.append(child instanceof Node ? child : String(child));
	}
}

// replace(el, ...children): el's children become these.
export function replace(el, ...children) {
	el.replaceChildren();
	append(el, children);
	return el;
}

// utc(iso): "2026-11-22 10:00:00Z" (seconds, no fraction), or "—".
export function utc(iso) {
	if (!iso)
		return '—';
	const d = new Date(iso);
	if (Number.isNaN(d.getTime()))
		return String(iso);
	return d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

// when(iso): a <time> showing utc(iso).
export function when(iso) {
	return iso ? h('time', { datetime: iso }, utc(iso)) : '—';
}

// millis(n): "1.74 ms", or "—".
export function millis(n) {
	return typeof n === 'number' ? `${n.toFixed(n < 10 ? 2 : 0)} ms` : '—';
}

// badge(state, text): a coloured status label; the colour comes from the
// state's class in app.css (badge-completed, badge-open…).
export function badge(state, text) {
	const name = state === null || state === undefined ? 'unknown' : String(state);
	return h('span', { class: `badge badge-${name.replace(/[^a-z0-9_-]/gi, '_')}` },
		text ?? name.replace(/_/g, ' '));
}

// healthBadge(bool|null): healthy / unhealthy / unchecked.
export function healthBadge(healthy) {
	if (healthy === true)
		return badge('healthy');
	if (healthy === false)
		return badge('unhealthy');
	return badge('unknown', 'unchecked');
}

// shortId(uuid): its first 8 characters in <code>, the whole id as title.
export function shortId(id) {
	return id ? h('code', { class: 'id', title: id }, id.slice(0, 8)) : '—';
}

// table(columns, rows, empty, rowAttrs): a dense table. columns: [{label,
// cell(row), class?}]; `empty` is shown in one row when there are none;
// rowAttrs(row), when given, are each row's attributes (as for h()).
export function table(columns, rows, empty = 'Nothing to show.', rowAttrs = () => null) {
	const head = h('thead', null, h('tr', null,
		columns.map(c => h('th', { scope: 'col', class: c.class }, c.label))));
	const body = h('tbody', null, rows.length === 0
		? h('tr', null, h('td', { colspan: columns.length, class: 'empty' }, empty))
		: rows.map(row => tableRow(columns, row, rowAttrs(row))));
	return h('div', { class: 'table-wrap' }, h('table', null, head, body));
}

// tableRow(columns, row, attrs): one <tr> of table(), for updating in place.
export function tableRow(columns, row, attrs) {
	return h('tr', attrs, columns.map(c => h('td', { class: c.class }, c.cell(row))));
}

// facts([[label, value]…], perRow): a definition list of label/value pairs,
// perRow pairs (1, 2 or 3) on a line.
export function facts(pairs, perRow = 1) {
	return h('dl', { class: `facts per-row-${perRow}` }, pairs.map(([label, value]) =>
		[h('dt', null, label), h('dd', null, value ?? '—')]));
}

// heading(text, ...actions): the view's <h1> (focused after navigation)
// and its action buttons.
export function heading(text, ...actions) {
	return h('div', { class: 'view-head' },
		h('h1', { tabindex: '-1' }, text),
		h('div', { class: 'actions' }, actions));
}

// json(value): compact JSON in <code>, for free-form details.
export function json(value) {
	if (value === null || value === undefined)
		return '—';
	const text = JSON.stringify(value);
	return text === '{}' ? '—' : h('code', { class: 'json' }, text);
}
