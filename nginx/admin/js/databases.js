// databases.js — the Databases view (the registry's list, with filters and
// cursor pagination) and the form that registers a new database, testing
// the connection first when asked to.

import { api } from './api.js';
import { badge, h, heading, replace, shortId, table, utc } from './dom.js';
import { busy, clearErrors, field, showError } from './forms.js';
import { filterForm, filters, listing } from './listing.js';
import { createBody, databaseFields, DATABASE_TYPES, readDatabase } from './dbform.js';
import { go, link } from './router.js';
import { can } from './session.js';

export async function databaseList(root, { query: q, signal }) {
	const chosen = filters(q, { region: '', database_type: '', active: 'true', q: '' });
	const form = filterForm('/databases', 'Filter databases', [
		field('dbf', { name: 'q', label: 'Name contains', value: chosen.q, type: 'search' }),
		field('dbf', { name: 'region', label: 'Region', value: chosen.region }),
		field('dbf', { name: 'database_type', label: 'Type', type: 'select', value: chosen.database_type,
			options: [['', 'any'], ...DATABASE_TYPES.map(t => [t, t])] }),
		field('dbf', { name: 'active', label: 'State', type: 'select', value: chosen.active,
			options: [['true', 'active'], ['false', 'deleted'], ['any', 'any']] }),
	], true);
	const { pager, elements } = listing({
		path: '/databases', params: chosen, form, signal, label: 'Database pages',
		render: data => [
			h('p', { class: 'muted', 'aria-live': 'polite' }, `${data.total} database${data.total === 1 ? '' : 's'} match`),
			databaseTable(data.items),
		],
	});
	root.append(heading('Databases',
		can('databases:manage') ? h('a', { href: '#/databases/new', class: 'button' }, 'New database') : null),
	form, ...elements);
	await pager.first();
}

function databaseTable(items) {
	return table([
		{ label: 'Name', cell: d => h('a', { href: link(`/databases/${d.id}`) }, d.name) },
		{ label: 'Type', cell: d => d.database_type },
		{ label: 'Region', cell: d => d.region || '—' },
		{ label: 'Tenant', cell: d => d.tenant || '—' },
		{ label: 'Host', cell: d => h('code', null, `${d.host}:${d.port}`) },
		{ label: 'Database', cell: d => d.database_name },
		{ label: 'Schema', cell: d => d.schema },
		{ label: 'SSL', cell: d => d.sslmode },
		{ label: 'State', cell: d => d.is_active ? badge('active') : badge('deleted') },
		{ label: 'Updated', cell: d => utc(d.updated_at), class: 'nowrap' },
		{ label: 'Id', cell: d => shortId(d.id) },
	], items, 'No database matches.', d => ({ dataset: { name: d.name } }));
}

// The create form: POST /databases?verify=…; "Test connection" asks
// POST /databases/test with the same body.
export async function databaseNew(root, { signal }) {
	const box = h('div');
	const testResult = h('div', { class: 'test-result', 'aria-live': 'polite' });
	const testButton = h('button', { type: 'button', class: 'secondary' }, 'Test connection');
	const submit = h('button', { type: 'submit' }, 'Register database');
	const form = h('form', { class: 'grid-form', novalidate: true },
		databaseFields('db-new'),
		field('db-new', { name: 'verify', label: 'Test the connection first (refuse to register a database that does not answer)',
			type: 'checkbox', value: true }),
		h('p', { class: 'field-error field-wide', dataset: { errorFor: 'connection' } }),
		h('div', { class: 'form-actions' }, submit, testButton,
			h('a', { href: '#/databases', class: 'button secondary' }, 'Cancel')));
	root.append(heading('New database'), box, form, testResult);

	// The values as a body, or null after showing why they cannot be sent.
	function body() {
		clearErrors(form, box);
		const read = readDatabase(form);
		if (read.fields) {
			showError(box, { message: 'check the highlighted fields', fields: read.fields }, form);
			return null;
		}
		return createBody(read.values);
	}

	testButton.addEventListener('click', () => busy(testButton, (async () => {
		const b = body();
		if (!b)
			return;
		replace(testResult, 'Testing…');
		try {
			const { data } = await api('POST', '/databases/test', { body: b, signal });
			replace(testResult, testOutcome(data));
		} catch (err) {
			replace(testResult);
			if (!signal.aborted)
				showError(box, err, form);
		}
	})()));

	form.addEventListener('submit', event => {
		event.preventDefault();
		busy(submit, (async () => {
			const b = body();
			if (!b)
				return;
			const verify = form.elements.verify.checked;
			try {
				const { data } = await api('POST', `/databases?verify=${verify}`, { body: b, signal });
				go(`/databases/${data.id}`, null, `Registered ${data.name}${verify ? ' (the connection was tested)' : ''}.`);
			} catch (err) {
				if (!signal.aborted)
					showError(box, err, form);
			}
		})());
	});
}

// testOutcome(result): a connection test's answer, {ok, latency_ms,
// server_version, error}.
export function testOutcome(result) {
	return result.ok
		? h('p', { class: 'ok-text' }, badge('ok', 'connected'), ` in ${result.latency_ms} ms — PostgreSQL ${result.server_version}`)
		: h('p', { class: 'bad-text' }, badge('failed', 'failed'), ` after ${result.latency_ms} ms: ${result.error}`);
}
