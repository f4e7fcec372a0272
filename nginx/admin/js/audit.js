// audit.js — the Audit view (infrastructure:admin): /system/audit newest
// first, filtered by actor, action and a start time (ISO 8601, UTC), with cursor
// pagination; each entry's details as JSON.

import { badge, h, heading, json, shortId, table, utc } from './dom.js';
import { field } from './forms.js';
import { filterForm, filters, listing } from './listing.js';

export async function audit(root, { query: q, signal }) {
	const chosen = filters(q, { actor: '', action: '', since: '', limit: '50' });
	const form = filterForm('/audit', 'Filter the audit trail', [
		field('af', { name: 'actor', label: 'Actor', value: chosen.actor }),
		field('af', { name: 'action', label: 'Action', value: chosen.action, hint: 'e.g. database.create' }),
		field('af', { name: 'since', label: 'Since (UTC)', value: chosen.since,
			attrs: { placeholder: '2026-01-31T00:00:00Z' } }),
		field('af', { name: 'limit', label: 'Per page', type: 'select', value: chosen.limit,
			options: [['25', '25'], ['50', '50'], ['100', '100']] }),
	], true);
	const { pager, elements } = listing({
		path: '/system/audit', params: chosen, form, signal, label: 'Audit pages',
		render: data => auditTable(data.items),
	});
	root.append(heading('Audit trail'), form, ...elements);
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
