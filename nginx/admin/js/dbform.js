// dbform.js — the fields of a database (the registry's create and edit
// forms) and the request bodies made from them. Validation is the API's:
// its per-field reasons are shown next to these fields.

import { field } from './forms.js';

export const DATABASE_TYPES = ['admin', 'shared', 'analytics', 'tenant'];
const SSLMODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'];

// databaseFields(prefix, db, editing): the controls, filled from db (an API
// database, or {} for a new one). When editing, an empty password keeps the
// stored one.
export function databaseFields(prefix, db = {}, editing = false) {
	const f = spec => field(prefix, spec);
	return [
		f({ name: 'name', label: 'Name', value: db.name, required: true,
			hint: 'Unique among active databases; letters, digits, . _ -' }),
		f({ name: 'host', label: 'Host', value: db.host, required: true, hint: 'DNS name or IP address' }),
		f({ name: 'port', label: 'Port', value: db.port ?? 5432, attrs: { inputmode: 'numeric' } }),
		f({ name: 'database_name', label: 'Database name', value: db.database_name, required: true }),
		f({ name: 'username', label: 'User', value: db.username, required: true,
			attrs: { autocomplete: 'off' } }),
		f({ name: 'password', label: 'Password', type: 'password', required: !editing,
			hint: editing ? 'Leave empty to keep the stored password' : 'Stored encrypted; never shown again',
			attrs: { autocomplete: 'new-password' } }),
		f({ name: 'database_type', label: 'Type', type: 'select', value: db.database_type ?? 'tenant',
			options: DATABASE_TYPES.map(t => [t, t]) }),
		f({ name: 'region', label: 'Region', value: db.region, hint: 'e.g. eu-west-1; empty for none' }),
		f({ name: 'schema', label: 'Schema', value: db.schema ?? 'public' }),
		f({ name: 'sslmode', label: 'SSL mode', type: 'select', value: db.sslmode ?? 'prefer',
			options: SSLMODES.map(m => [m, m]) }),
		f({ name: 'tenant', label: 'Tenant', value: db.tenant,
			hint: 'The owning tenant\'s slug; empty for a platform database' }),
		f({ name: 'labels', label: 'Labels', type: 'textarea', rows: 2, value: labelsText(db.labels),
			hint: 'name=value, one a line' }),
		f({ name: 'auto_migrate', label: 'Migrate automatically when registered', type: 'checkbox',
			value: db.auto_migrate }),
	];
}

function labelsText(labels) {
	return Object.entries(labels || {}).map(([k, v]) => `${k}=${v}`).join('\n');
}

// parseLabels(text): {labels} or {error} naming the bad line.
function parseLabels(text) {
	const labels = {};
	const lines = text.split('\n');
	for (let i = 0; i < lines.length; i++) {
		const line = lines[i].trim();
		if (!line)
			continue;
		const at = line.indexOf('=');
		if (at <= 0)
			return { error: `line ${i + 1}: write name=value` };
		labels[line.slice(0, at).trim()] = line.slice(at + 1).trim();
	}
	return { labels };
}

// readDatabase(form): {values} — every field as the API takes it, empty
// strings as '' — or {fields} with a reason per field that cannot even be
// sent (labels that are not name=value lines).
export function readDatabase(form) {
	const data = new FormData(form);
	const text = name => String(data.get(name) ?? '').trim();
	const port = text('port');
	const labels = parseLabels(String(data.get('labels') ?? ''));
	if (labels.error)
		return { fields: { labels: labels.error } };
	return {
		values: {
			name: text('name'),
			host: text('host'),
			port: /^\d+$/.test(port) ? Number(port) : port,
			database_name: text('database_name'),
			username: text('username'),
			password: String(data.get('password') ?? ''),
			database_type: text('database_type'),
			region: text('region'),
			schema: text('schema'),
			sslmode: text('sslmode'),
			tenant: text('tenant'),
			labels: labels.labels,
			auto_migrate: data.get('auto_migrate') !== null,
		},
	};
}

// createBody(values): a POST /databases body: empty optional fields left
// out (the API's defaults apply); the password is always sent.
export function createBody(values) {
	const body = {};
	for (const [name, value] of Object.entries(values))
		if (name === 'password' || (value !== '' && !(name === 'labels' && Object.keys(value).length === 0)))
			body[name] = value;
	return body;
}

// patchBody(values, db): a PATCH body with only what changed from db; an
// emptied region or tenant becomes null; an empty password keeps the
// stored one.
export function patchBody(values, db) {
	const body = {};
	for (const [name, value] of Object.entries(values)) {
		if (name === 'password') {
			if (value !== '')
				body.password = value;
		} else if (name === 'labels') {
			if (JSON.stringify(value) !== JSON.stringify(db.labels || {}))
				body.labels = value;
		} else if (value === '' && (name === 'region' || name === 'tenant')) {
			if (db[name] !== null && db[name] !== undefined)
				body[name] = null;
		} else if (value !== (db[name] ?? '')) {
			body[name] = value;
		}
	}
	return body;
}
