// migrations.js — the Migrations view: executions newest first, filtered by
// status, with cursor pagination; and how an execution's scope and
// progress are shown wherever executions appear.

import { badge, h, heading, shortId, table, utc } from './dom.js';
import { field } from './forms.js';
import { filterForm, listing } from './listing.js';
import { link } from './router.js';
import { can } from './session.js';

export const EXECUTION_STATUSES = ['pending', 'in_progress', 'completed', 'failed', 'cancelled', 'rolled_back'];

// scopeText(execution): "regional · region=eu-1 · type=tenant".
export function scopeText(e) {
	const f = e.filters || {};
	return [e.scope, f.region && `region=${f.region}`, f.tenant && `tenant=${f.tenant}`,
		f.database_id && `database=${f.database_id.slice(0, 8)}`,
		f.database_type && `type=${f.database_type}`].filter(Boolean).join(' · ');
}

// progressBar(progress, label): a <progress> with its percent as text.
export function progressBar(p = {}, label = 'progress') {
	const percent = Math.round(Number(p.percent) || 0);
	return h('span', { class: 'progress' },
		h('progress', { max: 100, value: percent, 'aria-label': label }),
		h('span', { class: 'progress-text' }, `${percent}%`));
}

// problemText(entry): why a target of a plan or execution cannot go on.
export function problemText(entry) {
	if (!entry)
		return '';
	const error = typeof entry.error === 'string' ? entry.error : entry.error?.message;
	const problems = (entry.problems || []).map(p => `${p.code}${p.version ? ` (${p.version})` : ''}: ${p.message}`);
	return [error, entry.skipped, ...problems].filter(Boolean).join('; ');
}

export async function migrationList(root, { query: q, signal }) {
	const status = q.get('status') || '';
	const form = filterForm('/migrations', 'Filter executions', [
		field('mf', { name: 'status', label: 'Status', type: 'select', value: status,
			options: [['', 'any'], ...EXECUTION_STATUSES.map(s => [s, s.replace('_', ' ')])] }),
	]);
	const { pager, elements } = listing({
		path: '/migrations', params: { status }, form, signal, label: 'Execution pages',
		render: data => executionTable(data.items),
	});
	root.append(heading('Migrations',
		can('migrations:execute') ? h('a', { href: '#/migrations/new', class: 'button' }, 'Start execution') : null),
	form, ...elements);
	await pager.first();
}

function executionTable(items) {
	return table([
		{ label: 'Execution', cell: e => h('a', { href: link(`/migrations/${e.id}`) }, shortId(e.id)) },
		{ label: 'Kind', cell: e => e.rollback_of ? 'rollback' : (e.kind || 'migrate') },
		{ label: 'Scope', cell: e => scopeText(e) },
		{ label: 'Target version', cell: e => e.target_version || 'latest' },
		{ label: 'Status', cell: e => badge(e.status) },
		{ label: 'Progress', cell: e => progressBar(e.progress, `progress of ${e.id}`) },
		{ label: 'Targets', class: 'num', cell: e => counts(e.progress) },
		{ label: 'By', cell: e => e.executed_by },
		{ label: 'Created', cell: e => utc(e.created_at), class: 'nowrap' },
		{ label: 'Completed', cell: e => utc(e.completed_at), class: 'nowrap' },
	], items, 'No execution matches.', e => ({ dataset: { execution: e.id } }));
}

// counts(progress): "3/4, 1 failed".
export function counts(p = {}) {
	const more = [p.failed_targets && `${p.failed_targets} failed`, p.skipped_targets && `${p.skipped_targets} skipped`];
	return [`${p.completed_targets ?? 0}/${p.total_targets ?? 0}`, ...more].filter(Boolean).join(', ');
}
