// migrate.js — starting an execution: its scope and filters, then a dry-run
// plan (POST /migrations/execute with dry_run:true: what each target would
// apply, nothing changed) before the real start, which is only offered for
// the values the plan was made from.

import { api } from './api.js';
import { badge, h, heading, replace, table } from './dom.js';
import { busy, clearErrors, field, showError } from './forms.js';
import { DATABASE_TYPES } from './dbform.js';
import { problemText } from './migrations.js';
import { registeredDatabases } from './registry.js';
import { go } from './router.js';
import { can } from './session.js';

const SCOPES = [
	['all', 'all — every active database'],
	['admin', 'admin — the admin databases'],
	['regional', 'regional — the databases of one region'],
	['tenant', 'tenant — one tenant\'s databases'],
	['single', 'single — one database'],
];
// The filter each scope needs.
const NEEDS = { regional: 'region', tenant: 'tenant', single: 'database_id' };

export async function migrationNew(root, { query: q, signal }) {
	const databaseControl = can('databases:read')
		? field('mig', { name: 'database_id', label: 'Database', type: 'select', options: [['', 'loading…']] })
		: field('mig', { name: 'database_id', label: 'Database id', hint: 'The database\'s UUID' });
	const box = h('div');
	const planBox = h('section', { class: 'plan', 'aria-live': 'polite', 'aria-label': 'Plan' });
	const preview = h('button', { type: 'submit', class: 'secondary' }, 'Preview plan');
	const startButton = h('button', { type: 'button', disabled: true }, 'Start execution');
	const form = h('form', { class: 'grid-form', novalidate: true, 'aria-label': 'Execution' },
		field('mig', { name: 'scope', label: 'Scope', type: 'select', value: q.get('scope') || 'all', options: SCOPES }),
		field('mig', { name: 'region', label: 'Region', value: q.get('region') || '' }),
		field('mig', { name: 'tenant', label: 'Tenant', value: q.get('tenant') || '', hint: 'The tenant\'s slug' }),
		databaseControl,
		field('mig', { name: 'database_type', label: 'Database type', type: 'select', value: '',
			options: [['', 'any'], ...DATABASE_TYPES.map(t => [t, t])], hint: 'Narrows any scope' }),
		field('mig', { name: 'target_version', label: 'Target version', hint: 'Empty: the latest version of each set' }),
		h('div', { class: 'form-actions' }, preview, startButton,
			h('a', { href: '#/migrations', class: 'button secondary' }, 'Cancel')));
	root.append(heading('Start an execution'), h('p', { class: 'muted' },
		'Preview the plan first: it shows, for each target, the migrations that would be applied. ' +
		'Start applies exactly that request.'), box, form, planBox);

	// What the plan was made from, and the key that makes a double start
	// one execution.
	let planned = null;
	let idempotencyKey = null;

	function body() {
		const data = new FormData(form);
		const scope = String(data.get('scope'));
		const b = { scope };
		if (NEEDS[scope])
			b[NEEDS[scope]] = String(data.get(NEEDS[scope]) ?? '').trim();
		for (const name of ['database_type', 'target_version']) {
			const value = String(data.get(name) ?? '').trim();
			if (value)
				b[name] = value;
		}
		return b;
	}

	function showScope() {
		const scope = form.elements.scope.value;
		for (const name of Object.values(NEEDS))
			form.querySelector(`.field-${name}`).hidden = NEEDS[scope] !== name;
	}

	function stale() {
		planned = null;
		startButton.disabled = true;
	}

	form.elements.scope.addEventListener('change', showScope);
	form.addEventListener('input', stale);
	form.addEventListener('change', stale);
	showScope();

	form.addEventListener('submit', event => {
		event.preventDefault();
		busy(preview, (async () => {
			clearErrors(form, box);
			stale();
			const b = body();
			replace(planBox, 'Planning…');
			try {
				const { data } = await api('POST', '/migrations/execute', { body: { ...b, dry_run: true }, signal });
				showPlan(data.plan || []);
				planned = JSON.stringify(b);
				idempotencyKey = crypto.randomUUID();
				startButton.disabled = false;
			} catch (err) {
				replace(planBox);
				if (!signal.aborted)
					showError(box, err, form);
			}
		})());
	});

	startButton.addEventListener('click', () => busy(startButton, (async () => {
		const b = body();
		if (JSON.stringify(b) !== planned)
			return;
		clearErrors(form, box);
		try {
			const { data } = await api('POST', '/migrations/execute',
				{ body: b, signal, headers: { 'Idempotency-Key': idempotencyKey } });
			go(`/migrations/${data.id}`, null, 'Execution started.');
		} catch (err) {
			if (!signal.aborted)
				showError(box, err, form);
		}
	})()));

	function showPlan(plan) {
		const pending = plan.reduce((n, t) => n + (t.pending || []).length, 0);
		replace(planBox, h('h2', null, 'Plan'),
			h('p', { class: 'plan-summary' }, `${plan.length} target${plan.length === 1 ? '' : 's'}, `,
				`${pending} migration${pending === 1 ? '' : 's'} to apply`),
			table([
				{ label: 'Target', cell: t => h('strong', null, t.target || `${t.database}/${t.schema}`) },
				{ label: 'Type', cell: t => t.database_type || '—' },
				{ label: 'Plan', cell: t => badge(t.status) },
				{ label: 'Now at', cell: t => t.version_before || 'empty' },
				{ label: 'Would apply', cell: t => (t.pending || []).length === 0 ? 'nothing (up to date)'
					: h('ul', { class: 'pending' }, t.pending.map(m =>
						h('li', null, h('code', null, m.version ?? 'R'), ` ${m.description}`))) },
				{ label: 'Problem', cell: t => problemText(t) || '—' },
			], plan, 'No target matches these filters.', t => ({ dataset: { target: t.target || '' } })));
	}

	if (can('databases:read')) {
		try {
			const items = await registeredDatabases(signal);
			const select = form.elements.database_id;
			const wanted = q.get('database_id');
			// One named in the URL (the database page's "Migrate"
			// link) is offered even beyond the first thousand.
			const extra = wanted && !items.some(d => d.id === wanted)
				? h('option', { value: wanted, selected: true }, wanted) : null;
			replace(select, h('option', { value: '' }, '— choose —'), extra, items.map(d =>
				h('option', { value: d.id, selected: d.id === wanted },
					`${d.name} (${d.database_type}${d.region ? `, ${d.region}` : ''}, ${d.schema})`)));
		} catch (err) {
			if (!signal.aborted && err.status !== 401)
				showError(box, err);
		}
	}
}

