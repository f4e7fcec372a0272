// listing.js — what every list view shares: a filter form whose values go
// into the URL (so a filtered list can be linked, and the back button
// works), and a list fetched a page at a time with the API's cursors, where
// a filter the API refuses gets its reason next to it.

import { api, query } from './api.js';
import { h, replace } from './dom.js';
import { clearErrors, showError } from './forms.js';
import { Pager } from './pager.js';
import { go } from './router.js';

const PAGE_SIZE = 25;

// filters(query, defaults): each filter named in defaults, from the URL's
// query when there, else its default.
export function filters(query, defaults) {
	const out = {};
	for (const [name, value] of Object.entries(defaults))
		out[name] = query.get(name) || value;
	return out;
}

// filterForm(path, label, fields, clear): a search form of `fields` and an
// Apply button (and a Clear link back to `path` when clear is true);
// applying navigates to `path` with the non-empty values.
export function filterForm(path, label, fields, clear = false) {
	const form = h('form', { class: 'filters', role: 'search', 'aria-label': label }, fields,
		h('div', { class: 'filter-actions' },
			h('button', { type: 'submit' }, 'Apply'),
			clear ? h('a', { href: `#${path}`, class: 'button secondary' }, 'Clear') : null));
	form.addEventListener('submit', event => {
		event.preventDefault();
		go(path, Object.fromEntries(new FormData(form)));
	});
	return form;
}

// listing({path, params, form, signal, render, label}): pages of GET
// `path` with `params` (limit 25 unless they say), the cursor added.
// render(answer) gives the nodes that show one page. Returns {pager,
// elements}: the Pager (call pager.first()) and the nodes to place — the
// error box, the page, the page buttons.
export function listing({ path, params, form, signal, render, label }) {
	const problem = h('div');
	const page = h('div');
	const pager = new Pager(async cursor => {
		try {
			const { data } = await api('GET', `${path}${query({ limit: PAGE_SIZE, ...params, cursor })}`, { signal });
			clearErrors(form, problem);
			replace(page, render(data));
			return data;
		} catch (err) {
			if (!signal.aborted && err.status !== 401)
				showError(problem, err, form);
			return null;
		}
	}, label);
	return { pager, elements: [problem, page, pager.element] };
}
