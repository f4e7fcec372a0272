// audit.js — the Audit view (infrastructure:admin): /system/audit newest
// first, filtered by actor, action and a start time (ISO 8601, UTC), with cursor
// pagination; each entry's details as JSON.

import { api, query } from './api.js';
import { badge, h, heading, json, replace, shortId, table, utc } from './dom.js';
import { clearErrors, field, showError } from './forms.js';
import { Pager } from './pager.js';
import { go } from './router.js';

export async function audit(root, { query: q, signal }) {
	const filters = {
		actor: q.get('actor') || '',
		action: q.get('action') || '',
		since: q.get('since') || '',
		limit: q.get('limit') || '50',
	};
	const form = h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter the audit trail' },
		field('af', { name: 'actor', label: 'Actor', value: filters.actor }),
		field('af', { name: 'action', label: 'Action', value: filters.action, hint: 'e.g. database.create' }),
		field('af', { name: 'since', label: 'Since (UTC)', value: filters.since,
			attrs: { placeholder: '2026-01-31T00:00:00Z' } }),
		field('af', { name: 'limit', label: 'Per page', type: 'select', value: filters.limit,
			options: [['25', '25'], ['50', '50'], ['100', '100']] }),
		h('div', { class: 'filter-actions' },
			h('button', { type: 'submit' }, 'Apply'),
			h('a', { href: '#/audit', class: 'button secondary' }, 'Clear')));
	form.addEventListener('submit', event => {
		event.preventDefault();
		go('/audit', Object.fromEntries(new FormData(form)));
	});

	const list = h('div');
	const problem = h('div');
	const pager = new Pager(async cursor => {
		try {
			const { data } = await api('GET', `/system/audit${query({ ...filters, cursor })}`, { signal });
			clearErrors(form, problem);
			replace(list, auditTable(data.items));
			return data;
		} catch (err) {
			if (!signal.aborted && err.status !== 401)
				showError(problem, err, form);
			return null;
		}
	}, 'Audit pages');

	root.append(heading('Audit trail'), form, problem, list, pager.element);
	await pager.first();
}

function auditTable(items) {
	return table([
		{ label: 'At', cell: e => utc(e.at), class: 'nowrap' },
		{ label: 'Actor', cell: e => e.actor || '—' },
		{ label: 'Action', cell: e => h('code', null, e.action) },
		{ label: 'Resource', cell: e => [e.resource || '—', ' ', shortId(e.resource_id)] },
		{ label: 'Outcome', cell: e => badge(e.outcome) },
		{ label: 'Client', cell: e => e.client_ip || '—' },
		{ label: 'Request id', cell: e => e.request_id ? h('code', { class: 'request-id' }, e.request_id) : '—' },
		{ label: 'Details', cell: e => json(e.details) },
	], items, 'No entry matches.', e => ({ dataset: { action: e.action } }));
}
