// t8500-tenants.mjs — the Tenants view: a bad slug is flagged next to its
// field as typed and never sent; a missing database comes back from the API
// as a field error next to that field; a valid tenant is created, listed,
// and linked to the execution migrating its schema, which completes; the
// Audit view (infrastructure:admin) shows the creation, filtered by action,
// and a filter the API refuses has its reason next to it.
import { api, check, finish, expectStatus, launch, makeDatabase, RUN, signIn, TARGET_HOST, TARGET_PORT,
	token } from './harness.mjs';

const browser = await launch();
const { page } = browser;
const admin = token('--sub', 'brw-tenants', '--perm', 'infrastructure:admin');
const target = makeDatabase(`brw_ten_${RUN}`);
const slug = `brw_${RUN}`;
const form = page.getByRole('form', { name: 'New tenant' });
const sent = [];
page.on('request', request => {
	if (request.method() === 'POST' && new URL(request.url()).pathname === '/tenants')
		sent.push(request.postDataJSON());
});
let db;

await check('setup: a tenant database registered', async () => {
	db = expectStatus(await api('POST', '/databases', { token: admin, body: {
		name: `brw-ten-${RUN}`, host: TARGET_HOST, port: TARGET_PORT, database_name: target.name,
		username: target.name, password: target.password, database_type: 'tenant', sslmode: 'disable',
	} }), 201, 'register');
});

await check('"New tenant" opens the form', async () => {
	await signIn(page, admin);
	await page.getByRole('link', { name: 'Tenants' }).click();
	await page.getByRole('button', { name: 'New tenant' }).click();
	await form.getByLabel('Slug').waitFor();
});

await check('a bad slug is flagged next to its field as typed, and not sent', async () => {
	await form.getByLabel('Slug').fill('Bad-Slug');
	await page.locator('#tn-slug-error').filter({ hasText: 'must be a lowercase letter' }).waitFor();
	await form.getByRole('button', { name: 'Create tenant' }).click();
	await page.locator('.error').filter({ hasText: 'check the highlighted fields' }).waitFor();
	if (sent.length > 0)
		throw new Error('the bad slug was sent');
});

await check('the API\'s field error (no database chosen) shows next to the database field', async () => {
	await form.getByLabel('Slug').fill(slug);
	await form.getByLabel('Name').fill(`Browser ${RUN}`);
	await form.getByRole('button', { name: 'Create tenant' }).click();
	await page.locator('#tn-database_id-error').filter({ hasText: /\S/ }).waitFor();
	if (await page.locator('#tn-slug-error').textContent() !== '')
		throw new Error('the good slug still shows an error');
	if (sent.length !== 1)
		throw new Error(`${sent.length} requests sent`);
});

let execution;
await check('a valid tenant is created: the notice links to its migration and shows its row', async () => {
	await form.getByLabel('Database').selectOption(db.id);
	if (await form.getByLabel('Schema').getAttribute('placeholder') !== `tenant_${slug}`)
		throw new Error('the schema placeholder does not follow the slug');
	await form.getByRole('button', { name: 'Create tenant' }).click();
	const link = page.locator('.notice a.tenant-execution');
	await link.waitFor();
	execution = (await link.getAttribute('href')).split('/')[2];
	// (The list below may show it too, when it is on the list's first page.)
	await page.locator(`tr[data-slug="${slug}"]`).filter({ hasText: `tenant_${slug}` }).first().waitFor();
	const tenant = expectStatus(await api('GET', `/tenants/${slug}`, { token: admin }), 200, 'GET the tenant');
	if (tenant.migration_execution_id !== execution)
		throw new Error(`execution ${execution}, the API says ${tenant.migration_execution_id}`);
});

await check('the link opens the tenant\'s execution, which completes', async () => {
	await page.locator('.notice a.tenant-execution').click();
	await page.locator('#exec-status[data-status="completed"]').waitFor();
	await page.locator(`tr[data-target="${db.id}/tenant_${slug}"] .badge-completed`).waitFor();
});

await check('the audit trail, filtered by action, shows the creation by this user', async () => {
	await page.getByRole('link', { name: 'Audit' }).click();
	await page.getByLabel('Action').fill('tenant.create');
	await page.getByLabel('Actor').fill('brw-tenants');
	await page.getByRole('button', { name: 'Apply' }).click();
	await page.locator('tr[data-action="tenant.create"]').filter({ hasText: slug }).waitFor();
	const actions = await page.locator('tr[data-action]').evaluateAll(rows => rows.map(r => r.dataset.action));
	if (actions.some(a => a !== 'tenant.create'))
		throw new Error(`other actions listed: ${actions.join(', ')}`);
});

await check('a "since" the API cannot read: its reason shows next to that filter', async () => {
	await page.getByLabel('Since (UTC)').fill('yesterday');
	await page.getByRole('button', { name: 'Apply' }).click();
	await page.locator('#af-since-error').filter({ hasText: 'ISO 8601' }).waitFor();
});


await finish(browser);
