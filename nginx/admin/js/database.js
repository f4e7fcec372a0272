// database.js — one database: its registry entry, its health (current
// probe, circuit breaker, recent history), a connection test, editing
// (PATCH with If-Match from the ETag, so another operator's change is not
// overwritten unseen) and deletion.

import { api } from './api.js';
import { badge, facts, h, healthBadge, json, millis, replace, table, when } from './dom.js';
import { busy, clearErrors, errorBox, showError } from './forms.js';
import { ask } from './confirm.js';
import { databaseFields, patchBody, readDatabase } from './dbform.js';
import { testOutcome } from './databases.js';
import { go, link } from './router.js';
import { can } from './session.js';

export async function databaseDetail(root, { params, signal }) {
	const path = `/databases/${encodeURIComponent(params.id)}`;
	let db;
	let etag;

	const title = h('h1', { tabindex: '-1' }, 'Database');
	const actions = h('div', { class: 'actions' });
	const box = h('div');
	const main = h('section', { 'aria-label': 'Registry entry' });
	const testResult = h('div', { class: 'test-result', 'aria-live': 'polite' });
	const health = h('section', { 'aria-labelledby': 'health-title' });
	root.append(h('p', { class: 'crumbs' }, h('a', { href: '#/databases' }, '← Databases')),
		h('div', { class: 'view-head' }, title, actions), box, testResult, main,
		h('h2', { id: 'health-title' }, 'Health'), health);

	async function load() {
		const answer = await api('GET', path, { signal });
		db = answer.data;
		etag = answer.etag;
		replace(title, db.name, ' ', db.is_active ? badge('active') : badge('deleted'));
		showActions();
		showEntry();
	}

	function showActions() {
		const test = h('button', { type: 'button', class: 'secondary' }, 'Test connection');
		test.addEventListener('click', () => busy(test, runTest()));
		const edit = h('button', { type: 'button', class: 'secondary', on: { click: showEdit } }, 'Edit');
		const remove = h('button', { type: 'button', class: 'danger', on: { click: () => busy(remove, del()) } }, 'Delete');
		const manage = can('databases:manage') && db.is_active;
		const migrate = can('migrations:execute') && db.is_active
			? h('a', { href: link('/migrations/new', { scope: 'single', database_id: db.id }), class: 'button secondary' }, 'Migrate…')
			: null;
		replace(actions, test, migrate, manage ? edit : null, manage ? remove : null);
	}

	function showEntry() {
		replace(main, facts([
			['Id', h('code', null, db.id)],
			['Type', db.database_type],
			['Region', db.region],
			['Tenant', db.tenant],
			['Host', h('code', null, `${db.host}:${db.port}`)],
			['Database', db.database_name],
			['User', db.username],
			['Schema', db.schema],
			['SSL mode', db.sslmode],
			['Labels', json(db.labels)],
			['Auto-migrate', db.auto_migrate ? 'yes' : 'no'],
			['Created', [when(db.created_at), ` by ${db.created_by}`]],
			['Updated', [when(db.updated_at), ` by ${db.updated_by}`]],
			['Version', String(db.version)],
		], 2));
	}

	async function runTest() {
		replace(testResult, 'Testing…');
		try {
			const { data } = await api('POST', `${path}/test`, { signal });
			replace(testResult, testOutcome(data));
		} catch (err) {
			if (!signal.aborted)
				replace(testResult, errorBox(err));
		}
	}

	// A write refused: a 412 means the database changed since it was read
	// (say so, and offer the fresh version); anything else is shown as the
	// API said it, each field's reason next to the field of `form`.
	function failed(err, form) {
		if (signal.aborted)
			return;
		if (err.status === 412)
			conflict(err);
		else
			showError(box, err, form);
	}

	function conflict(err) {
		const reload = h('button', { type: 'button', class: 'secondary', on: { click: () => go(path) } }, 'Reload');
		replace(box, h('div', { class: 'error', role: 'alert' },
			h('p', null, h('strong', null, 'Someone else changed this database since you opened it '),
				`(you had version ${db.version}). Nothing was saved. Reload to see their change, then try again.`),
			h('p', { class: 'meta' }, err.message, err.requestId ? [' · request id ', h('code', { class: 'request-id' }, err.requestId)] : null),
			reload));
	}

	function showEdit() {
		replace(box);
		const save = h('button', { type: 'submit' }, 'Save changes');
		const form = h('form', { class: 'grid-form', novalidate: true, 'aria-label': 'Edit database' },
			databaseFields('db-edit', db, true),
			h('div', { class: 'form-actions' }, save,
				h('button', { type: 'button', class: 'secondary', on: { click: () => { replace(box); showEntry(); showActions(); } } }, 'Cancel')));
		replace(actions);
		replace(main, form);
		form.elements.name.focus();
		form.addEventListener('submit', event => {
			event.preventDefault();
			busy(save, (async () => {
				clearErrors(form, box);
				const read = readDatabase(form);
				if (read.fields) {
					showError(box, { message: 'check the highlighted fields', fields: read.fields }, form);
					return;
				}
				const body = patchBody(read.values, db);
				if (Object.keys(body).length === 0) {
					showError(box, { message: 'nothing changed' });
					return;
				}
				try {
					const answer = await api('PATCH', path, { body, signal, headers: { 'If-Match': etag } });
					db = answer.data;
					etag = answer.etag;
					go(path, null, `Saved: version ${db.version} (${Object.keys(body).join(', ')}).`);
				} catch (err) {
					failed(err, form);
				}
			})());
		});
	}

	async function del() {
		if (!await ask(`Delete ${db.name}?`,
			'It leaves the registry (kept as deleted, its name free again); probes and migrations stop. ' +
			'The database itself is not touched.', 'Delete'))
			return;
		try {
			await api('DELETE', path, { signal, headers: { 'If-Match': etag } });
			go('/databases', null, `Deleted ${db.name}.`);
		} catch (err) {
			failed(err);
		}
	}

	async function loadHealth() {
		try {
			const { data } = await api('GET', `${path}/health`, { signal });
			showHealth(data);
		} catch (err) {
			if (!signal.aborted && err.status !== 401)
				replace(health, errorBox(err));
		}
	}

	function showHealth(data) {
		const c = data.current || {};
		replace(health, facts([
			['State', healthBadge(c.is_healthy)],
			['Circuit', badge(c.circuit)],
			['Response time', millis(c.response_time_ms)],
			['Checked', when(c.checked_at)],
			['Server version', c.server_version],
			['Consecutive failures', String(c.consecutive_failures ?? 0)],
			['Next probe', when(c.next_probe_at)],
			['Last error', c.error ? h('span', { class: 'bad-text' }, c.error) : '—'],
		], 2), h('h3', null, 'Recent probes'), table([
			{ label: 'Checked', cell: p => when(p.checked_at), class: 'nowrap' },
			{ label: 'State', cell: p => healthBadge(p.is_healthy) },
			{ label: 'Response time', cell: p => millis(p.response_time_ms), class: 'num' },
			{ label: 'Circuit', cell: p => badge(p.circuit) },
			{ label: 'Server version', cell: p => p.server_version || '—' },
			{ label: 'Error', cell: p => p.error || '—' },
		], data.history || [], 'Not probed yet.'));
	}

	await Promise.all([load(), loadHealth()]);
}
