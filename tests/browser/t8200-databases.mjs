// t8200-databases.mjs — the Databases views against the real registry: the
// create form shows each field's reason from the API's 422 next to that
// field, a failed connection test (a wrong password, verify on) next to the
// connection, and a valid database lands on its page and in the filtered
// list; then a connection test, an edit that meets someone else's change
// (412 explained, nothing saved), an edit that saves, a delete, and the
// list's pages (keyset cursors) forth and back.
import { ADMIN, api, check, finish, expectStatus, launch, makeDatabase, RUN, signIn, TARGET_HOST, TARGET_PORT,
	token } from './harness.mjs';

const browser = await launch();
const { page } = browser;
const manager = token('--sub', 'brw-dbs', '--perm', 'databases:manage', '--perm', 'databases:read');
const target = makeDatabase(`brw_db_${RUN}`);
const name = `brw-db-${RUN}`;
const form = page.locator('form.grid-form');
const errorOf = field => page.locator(`#db-new-${field}-error`);
let id = null;

async function fill(values) {
	for (const [label, value] of Object.entries(values))
		await form.getByLabel(label, { exact: true }).fill(value);
}

await check('"New database" opens the create form', async () => {
	await signIn(page, manager);
	await page.getByRole('heading', { name: 'Databases' }).waitFor();
	await page.getByRole('link', { name: 'New database' }).click();
	await page.getByRole('heading', { name: 'New database' }).waitFor();
});

await check('invalid fields: the API\'s reasons appear next to name and port, with the request id', async () => {
	await fill({ Name: '-bad name', Host: TARGET_HOST, Port: '70000', 'Database name': target.name,
		User: target.name, Password: target.password });
	await form.getByLabel('SSL mode').selectOption('disable');
	await page.getByRole('button', { name: 'Register database' }).click();
	await errorOf('name').filter({ hasText: 'must be' }).waitFor();
	await errorOf('port').filter({ hasText: '65535' }).waitFor();
	if (await form.getByLabel('Name', { exact: true }).getAttribute('aria-invalid') !== 'true')
		throw new Error('the name field is not marked invalid');
	if (await errorOf('host').textContent() !== '')
		throw new Error('a valid field shows an error');
	const meta = await page.locator('.error .meta').textContent();
	if (!/VAL_001 · HTTP 422 · request id [A-Za-z0-9._-]+/.test(meta))
		throw new Error(`error box: '${meta}'`);
});

await check('a wrong password with "test first": the connection\'s failure is shown, nothing registered', async () => {
	await fill({ Name: name, Port: String(TARGET_PORT), Password: 'wrong-password' });
	await page.getByRole('button', { name: 'Register database' }).click();
	await page.locator('[data-error-for="connection"]').filter({ hasText: 'password authentication failed' }).waitFor();
	if (await errorOf('name').textContent() !== '')
		throw new Error('the fixed name still shows an error');
	const listed = expectStatus(await api('GET', `/databases?q=${name}`, { token: manager }), 200, 'list');
	if (listed.total !== 0)
		throw new Error('registered anyway');
});

await check('"Test connection" with the right password reports the server version', async () => {
	await fill({ Password: target.password });
	await page.getByRole('button', { name: 'Test connection' }).click();
	await page.locator('.test-result').filter({ hasText: 'PostgreSQL' }).waitFor();
});

await check('the valid database is registered and its page opens', async () => {
	await fill({ Region: 'brw-1', Labels: 'team=sre\ntier=gold' });
	await page.getByRole('button', { name: 'Register database' }).click();
	await page.getByRole('heading', { name }).waitFor();
	await page.locator('.notice').filter({ hasText: `Registered ${name}` }).waitFor();
	id = decodeURIComponent(new URL(page.url()).hash.split('/')[2]);
	const db = expectStatus(await api('GET', `/databases/${id}`, { token: manager }), 200, 'GET the new database');
	if (db.name !== name || db.region !== 'brw-1' || db.labels.team !== 'sre' || db.sslmode !== 'disable')
		throw new Error(JSON.stringify(db));
});

await check('the list filtered by name shows it', async () => {
	await page.getByRole('link', { name: '← Databases' }).click();
	await page.getByLabel('Name contains').fill(name);
	await page.getByRole('button', { name: 'Apply' }).click();
	await page.locator(`tr[data-name="${name}"]`).waitFor();
	await page.getByText('1 database match').waitFor();
	if (await page.locator('tr[data-name]').count() !== 1)
		throw new Error('other rows match');
	if (!new URL(page.url()).hash.includes(`q=${name}`))
		throw new Error(`the filter is not in the URL: ${page.url()}`);
});

await check('its page: a connection test succeeds', async () => {
	await page.locator(`tr[data-name="${name}"] a`).first().click();
	await page.getByRole('heading', { name }).waitFor();
	await page.getByRole('button', { name: 'Test connection' }).click();
	await page.locator('.test-result').filter({ hasText: 'connected' }).waitFor();
});

await check('an edit after someone else\'s change is refused (412): explained, nothing saved', async () => {
	await page.getByRole('button', { name: 'Edit' }).click();
	await form.getByLabel('Region').fill('brw-mine');
	const theirs = await api('PATCH', `/databases/${id}`, { token: manager, body: { region: 'brw-theirs' } });
	expectStatus(theirs, 200, 'the other change');
	await page.getByRole('button', { name: 'Save changes' }).click();
	await page.locator('.error').filter({ hasText: 'Someone else changed this database' }).waitFor();
	const db = expectStatus(await api('GET', `/databases/${id}`, { token: manager }), 200, 'GET');
	if (db.region !== 'brw-theirs')
		throw new Error(`region is now ${db.region}`);
});

await check('after a reload the edit saves (PATCH with the new ETag)', async () => {
	await page.getByRole('button', { name: 'Reload' }).click();
	await page.getByRole('button', { name: 'Edit' }).click();
	if (await form.getByLabel('Region').inputValue() !== 'brw-theirs')
		throw new Error('the form does not show their change');
	await form.getByLabel('Region').fill('brw-2');
	await page.getByRole('button', { name: 'Save changes' }).click();
	await page.locator('.notice').filter({ hasText: 'Saved: version 3 (region)' }).waitFor();
	const db = expectStatus(await api('GET', `/databases/${id}`, { token: manager }), 200, 'GET');
	if (db.region !== 'brw-2' || db.version !== 3)
		throw new Error(JSON.stringify(db));
});

await check('delete asks first, then the database leaves the active list', async () => {
	await page.getByRole('button', { name: 'Delete' }).click();
	const dialog = page.getByRole('dialog');
	await dialog.getByText(`Delete ${name}?`).waitFor();
	await dialog.getByRole('button', { name: 'Delete' }).click();
	await page.locator('.notice').filter({ hasText: `Deleted ${name}` }).waitFor();
	const db = expectStatus(await api('GET', `/databases/${id}`, { token: manager }), 200, 'GET');
	if (db.is_active !== false)
		throw new Error('still active');
});

await check('pagination: 26 matches make two pages of 25 and 1; Next and Previous move between them', async () => {
	const prefix = `brw-page-${RUN}`;
	const names = Array.from({ length: 26 }, (_, i) => `${prefix}-${String(i).padStart(2, '0')}`);
	const ids = [];
	for (const n of names)
		ids.push(expectStatus(await api('POST', '/databases?verify=false', { token: manager, body: {
			name: n, host: TARGET_HOST, port: TARGET_PORT, database_name: target.name, username: target.name,
			password: target.password, database_type: 'shared', sslmode: 'disable',
		} }), 201, `register ${n}`).id);
	const shown = () => page.locator('tr[data-name]').evaluateAll(rows => rows.map(r => r.dataset.name));
	try {
		await page.goto(`${ADMIN}#/databases?q=${prefix}`);
		await page.getByText('26 databases match').waitFor();
		await page.locator(`tr[data-name="${names[0]}"]`).waitFor();
		if (JSON.stringify(await shown()) !== JSON.stringify(names.slice(0, 25)))
			throw new Error(`page 1: ${await shown()}`);
		await page.getByRole('button', { name: 'Next →' }).click();
		await page.locator(`tr[data-name="${names[25]}"]`).waitFor();
		if (JSON.stringify(await shown()) !== JSON.stringify(names.slice(25)) || await page.getByRole('button', { name: 'Next →' }).isEnabled())
			throw new Error(`page 2: ${await shown()}`);
		await page.getByRole('button', { name: '← Previous' }).click();
		await page.locator(`tr[data-name="${names[0]}"]`).waitFor();
		if ((await shown()).length !== 25 || await page.getByRole('button', { name: '← Previous' }).isEnabled())
			throw new Error(`page 1 again: ${await shown()}`);
	} finally {
		for (const i of ids)
			await api('DELETE', `/databases/${i}`, { token: manager });
	}
});


await finish(browser);
