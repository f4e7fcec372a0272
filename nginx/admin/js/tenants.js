// tenants.js — the Tenants view: the list (status filter, cursor
// pagination) and the form that creates one; a new tenant's schema is
// migrated by an execution that starts by itself, linked from here.

import { api } from './api.js';
import { badge, h, heading, replace, shortId, table, utc } from './dom.js';
import { busy, clearErrors, field, notice, setFieldError, showError } from './forms.js';
import { filterForm, listing } from './listing.js';
import { registeredDatabases } from './registry.js';
import { link } from './router.js';
import { can } from './session.js';

// The API's rule for a slug (shared/API.md), checked as the operator types;
// the API checks it again.
const SLUG = /^[a-z][a-z0-9_]{1,39}$/;
const SLUG_RULE = 'a lowercase letter, then 1–39 lowercase letters, digits or underscores';
const STATUSES = ['provisioning', 'active', 'failed', 'deleted'];

export async function tenants(root, { query: q, signal }) {
	const status = q.get('status') || '';
	const filters = filterForm('/tenants', 'Filter tenants', [
		field('tf', { name: 'status', label: 'Status', type: 'select', value: status,
			options: [['', 'any'], ...STATUSES.map(s => [s, s])] }),
	]);
	const created = h('div');
	const { pager, elements } = listing({
		path: '/tenants', params: { status }, form: filters, signal, label: 'Tenant pages',
		render: data => tenantTable(data.items),
	});

	const createSection = h('section', { class: 'panel', 'aria-labelledby': 'tenant-new-title', hidden: true });
	const newButton = can('tenants:manage')
		? h('button', { type: 'button', on: { click: () => {
			createSection.hidden = false;
			createSection.querySelector('input')?.focus();
		} } }, 'New tenant')
		: null;
	root.append(heading('Tenants', newButton), created, createSection, filters, ...elements);
	if (newButton)
		createForm(createSection, created, pager, signal);
	await pager.first();
}

function tenantTable(items) {
	return table([
		{ label: 'Slug', cell: t => h('strong', null, t.slug) },
		{ label: 'Name', cell: t => t.name },
		{ label: 'Status', cell: t => badge(t.status) },
		{ label: 'Database', cell: t => h('a', { href: link(`/databases/${t.database_id}`) }, shortId(t.database_id)) },
		{ label: 'Schema', cell: t => h('code', null, t.schema) },
		{ label: 'Migration', cell: t => t.migration_execution_id
			? h('a', { href: link(`/migrations/${t.migration_execution_id}`) }, shortId(t.migration_execution_id)) : '—' },
		{ label: 'Error', cell: t => t.error || '—' },
		{ label: 'Created', cell: t => utc(t.created_at), class: 'nowrap' },
		{ label: 'By', cell: t => t.created_by },
	], items, 'No tenant matches.', t => ({ dataset: { slug: t.slug } }));
}

function createForm(section, created, pager, signal) {
	const box = h('div');
	const submit = h('button', { type: 'submit' }, 'Create tenant');
	const database = can('databases:read')
		? field('tn', { name: 'database_id', label: 'Database', type: 'select', options: [['', 'loading…']],
			hint: 'Where the tenant\'s schema is created' })
		: field('tn', { name: 'database_id', label: 'Database id', hint: 'Where the tenant\'s schema is created' });
	const form = h('form', { class: 'grid-form', novalidate: true, 'aria-label': 'New tenant' },
		field('tn', { name: 'slug', label: 'Slug', hint: SLUG_RULE, attrs: { autocomplete: 'off', spellcheck: 'false' } }),
		field('tn', { name: 'name', label: 'Name' }),
		database,
		field('tn', { name: 'schema', label: 'Schema', hint: 'Empty: tenant_<slug>' }),
		h('div', { class: 'form-actions' }, submit,
			h('button', { type: 'button', class: 'secondary', on: { click: () => { section.hidden = true; } } }, 'Close')));
	replace(section, h('h2', { id: 'tenant-new-title' }, 'New tenant'), box, form);

	// The slug as typed: its rule, the schema it defaults to.
	form.elements.slug.addEventListener('input', () => {
		const slug = form.elements.slug.value.trim();
		clearErrors(form);
		if (slug && !SLUG.test(slug))
			setFieldError(form, 'slug', `must be ${SLUG_RULE}`);
		form.elements.schema.placeholder = slug ? `tenant_${slug}` : '';
	});

	form.addEventListener('submit', event => {
		event.preventDefault();
		busy(submit, (async () => {
			clearErrors(form, box);
			const data = new FormData(form);
			const body = {};
			for (const name of ['slug', 'name', 'database_id', 'schema']) {
				const value = String(data.get(name) ?? '').trim();
				if (value)
					body[name] = value;
			}
			if (body.slug && !SLUG.test(body.slug)) {
				showError(box, { message: 'check the highlighted fields', fields: { slug: `must be ${SLUG_RULE}` } }, form);
				return;
			}
			try {
				const { data: t } = await api('POST', '/tenants', { body, signal });
				form.reset();
				section.hidden = true;
				// Its row too: the list below starts with the oldest
				// tenants, so a new one is usually on a later page.
				replace(created, notice(`Tenant ${t.slug} created (schema ${t.schema}). Its migration: `,
					t.migration_execution_id
						? h('a', { href: link(`/migrations/${t.migration_execution_id}`), class: 'tenant-execution' },
							`execution ${t.migration_execution_id.slice(0, 8)}`)
						: 'none started'), tenantTable([t]));
				await pager.first();
			} catch (err) {
				if (!signal.aborted)
					showError(box, err, form);
			}
		})());
	});

	if (can('databases:read'))
		registeredDatabases(signal).then(items => {
			replace(form.elements.database_id, h('option', { value: '' }, '— choose —'), items.map(d =>
				h('option', { value: d.id }, `${d.name} (${d.database_type}${d.region ? `, ${d.region}` : ''})`)));
		}).catch(err => {
			if (!signal.aborted && err.status !== 401)
				showError(box, err);
		});
}
