// migration.js — one execution: what it does, its live progress (percent,
// counts, current target) and per-target table, followed from
// GET /migrations/{id}/events while it runs; cancel and rollback.

import { api } from './api.js';
import { badge, facts, h, replace, shortId, table, tableRow, when } from './dom.js';
import { busy, errorBox, notice } from './forms.js';
import { ask } from './confirm.js';
import { counts, problemText, progressBar, scopeText } from './migrations.js';
import { go, link } from './router.js';
import { can } from './session.js';
import { follow } from './sse.js';

const ENDED = new Set(['completed', 'failed', 'cancelled', 'rolled_back']);

const TARGET_COLUMNS = [
	{ label: 'Database', cell: t => h('a', { href: link(`/databases/${t.database_id}`) }, t.database || shortId(t.database_id)) },
	{ label: 'Schema', cell: t => t.schema },
	{ label: 'Type', cell: t => t.database_type || '—' },
	{ label: 'Status', cell: t => badge(t.status) },
	{ label: 'Attempts', cell: t => String(t.attempts ?? 0), class: 'num' },
	{ label: 'Version', cell: t => `${t.version_before || 'empty'} → ${t.current_version || (t.completed_at ? 'empty' : '…')}` },
	{ label: 'Applied', cell: t => (t.applied || []).map(scriptName).join(', ') || '—' },
	{ label: 'Error', cell: t => problemText(t) || '—' },
	{ label: 'Started', cell: t => when(t.started_at), class: 'nowrap' },
	{ label: 'Completed', cell: t => when(t.completed_at), class: 'nowrap' },
];

export async function migrationDetail(root, { params, signal }) {
	const path = `/migrations/${encodeURIComponent(params.id)}`;
	let execution = null;
	const rows = new Map();		// database_id/schema → <tr>
	const targets = new Map();	// database_id/schema → target

	const title = h('h1', { tabindex: '-1' }, 'Execution ', shortId(params.id));
	const status = h('span', { id: 'exec-status' });
	const actions = h('div', { class: 'actions' });
	const box = h('div');
	const about = h('section', { 'aria-label': 'Execution' });
	const bar = h('div', { class: 'progress-large' });
	const numbers = h('div');
	const streamState = h('span', { class: 'stream-state', 'aria-live': 'polite' });
	const tbody = h('tbody');
	root.append(h('p', { class: 'crumbs' }, h('a', { href: '#/migrations' }, '← Migrations')),
		h('div', { class: 'view-head' }, h('div', { class: 'title-line' }, title, status), actions), box,
		h('section', { class: 'panel', 'aria-labelledby': 'progress-title' },
			h('h2', { id: 'progress-title' }, 'Progress ', streamState), bar, numbers),
		about,
		h('h2', null, 'Targets'),
		h('div', { class: 'table-wrap' }, h('table', { id: 'exec-targets' },
			h('thead', null, h('tr', null, TARGET_COLUMNS.map(c => h('th', { scope: 'col' }, c.label)))), tbody)));

	function showExecution() {
		const e = execution;
		status.dataset.status = e.status;
		replace(status, badge(e.status));
		replace(about, facts([
			['Id', h('code', null, e.id)],
			['Scope', scopeText(e)],
			['Target version', e.target_version || (e.rollback_of ? '—' : 'latest')],
			['Kind', e.kind || 'migrate'],
			['Rollback of', e.rollback_of ? h('a', { href: link(`/migrations/${e.rollback_of}`) }, shortId(e.rollback_of)) : null],
			['Started by', e.executed_by],
			['Created', when(e.created_at)],
			['Started', when(e.started_at)],
			['Completed', when(e.completed_at)],
			['Error', e.error_message ? h('span', { class: 'bad-text' }, e.error_message) : null],
		], 2));
		showProgress();
		showActions();
	}

	function showProgress() {
		const p = execution.progress || {};
		replace(bar, progressBar(p, 'execution progress'));
		replace(numbers, facts([
			['Targets', counts(p)],
			['Completed', String(p.completed_targets ?? 0)],
			['Failed', String(p.failed_targets ?? 0)],
			['Skipped', String(p.skipped_targets ?? 0)],
			['Current target', p.current_target || '—'],
			['Estimated completion', when(p.estimated_completion)],
		]));
		for (const [key, tr] of rows)
			tr.classList.toggle('current', label(targets.get(key)) === p.current_target && !ENDED.has(execution.status));
	}

	function showActions() {
		const e = execution;
		const cancel = h('button', { type: 'button', class: 'secondary' }, 'Cancel execution');
		cancel.addEventListener('click', () => busy(cancel, cancelExecution()));
		const rollback = h('button', { type: 'button', class: 'danger' }, 'Roll back');
		rollback.addEventListener('click', () => busy(rollback, rollbackExecution()));
		replace(actions,
			!ENDED.has(e.status) && can('migrations:execute') && !e.cancel_requested ? cancel : null,
			ENDED.has(e.status) && e.status !== 'rolled_back' && !e.rollback_of && can('migrations:manage') ? rollback : null);
	}

	function upsertTarget(t) {
		const key = `${t.database_id}/${t.schema}`;
		targets.set(key, { ...targets.get(key), ...t });
		const tr = tableRow(TARGET_COLUMNS, targets.get(key), { dataset: { target: key } });
		if (rows.has(key)) {
			rows.get(key).replaceWith(tr);
		} else {
			tbody.querySelector('td.empty')?.parentElement.remove();
			tbody.append(tr);
		}
		rows.set(key, tr);
	}

	async function loadAll() {
		const [e, t] = await Promise.all([api('GET', path, { signal }), api('GET', `${path}/targets`, { signal })]);
		execution = e.data;
		for (const target of t.data.items || [])
			upsertTarget(target);
		if (rows.size === 0)
			replace(tbody, h('tr', null, h('td', { colspan: TARGET_COLUMNS.length, class: 'empty' }, 'No targets.')));
		showExecution();
	}

	async function cancelExecution() {
		try {
			const { data } = await api('POST', `${path}/cancel`, { signal });
			execution = { ...execution, ...data };
			showExecution();
			replace(box, notice('Cancel requested: targets not started are skipped; running ones stop after their current migration.'));
		} catch (err) {
			if (!signal.aborted)
				replace(box, errorBox(err));
		}
	}

	async function rollbackExecution() {
		if (!await ask('Roll back this execution?',
			'A new execution undoes what this one applied, newest first, with the undo (U) scripts.', 'Roll back'))
			return;
		try {
			const { data } = await api('POST', `${path}/rollback`, { signal });
			go(`/migrations/${data.id}`, null, `Rollback of ${params.id.slice(0, 8)} started.`);
		} catch (err) {
			if (!signal.aborted)
				replace(box, errorBox(err));
		}
	}

	function onEvent(event) {
		let data;
		try {
			data = JSON.parse(event.data);
		} catch {
			return;
		}
		if (event.type === 'progress') {
			const { status: s, ...progress } = data;
			execution = { ...execution, status: s || execution.status, progress: { ...execution.progress, ...progress } };
			showExecution();
		} else if (event.type === 'target') {
			upsertTarget(data);
			showProgress();
		} else if (event.type === 'done') {
			execution = { ...execution, ...data, progress: { ...execution.progress, ...data.progress } };
			showExecution();
		}
	}

	function showStream(state) {
		streamState.dataset.state = state;
		streamState.textContent = { connecting: 'connecting…', live: '● live', reconnecting: 'reconnecting…', ended: '' }[state] ?? state;
	}

	await loadAll();
	if (ENDED.has(execution.status))
		return;
	try {
		await follow(`${path}/events`, {
			signal,
			onEvent,
			onState: showStream,
			// A stream that ended early: is there still something to wait for?
			ended: async () => {
				const { data } = await api('GET', path, { signal });
				execution = data;
				showExecution();
				return ENDED.has(data.status);
			},
		});
	} catch (err) {
		if (signal.aborted || err.status === 401)
			return;
		showStream('ended');
		replace(box, errorBox(err));
	}
	// The final word: the execution and every target as stored.
	await loadAll();
}

// scriptName(m): a migration as "3", "U3" (undo) or "R" (repeatable).
function scriptName(m) {
	if (m.version === null || m.version === undefined)
		return 'R';
	return m.script?.startsWith('U') ? `U${m.version}` : m.version;
}

function label(t) {
	return t ? `${t.database}/${t.schema}` : '';
}
