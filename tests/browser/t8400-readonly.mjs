// t8400-readonly.mjs — a token with only the read permissions: every list
// and page opens, no create, edit, delete, start, cancel or rollback
// control shows, no Audit section; a create route opened by hand says
// which permission is missing; and the API itself answers 403.
import { api, check, finish, expectStatus, launch, RUN, signIn, TARGET_HOST, TARGET_PORT, token } from './harness.mjs';

const browser = await launch();
const { page } = browser;
const reader = token('--sub', 'brw-reader', '--perm', 'infrastructure:read', '--perm', 'databases:read',
	'--perm', 'migrations:read', '--perm', 'tenants:read');
const manager = token('--sub', 'brw-ro-setup', '--perm', 'databases:manage', '--perm', 'databases:read',
	'--perm', 'migrations:execute', '--perm', 'migrations:read');
let db;
let execution;

async function absent(role, name) {
	await page.getByRole('heading', { level: 1 }).first().waitFor();
	if (await page.getByRole(role, { name }).count() > 0)
		throw new Error(`"${name}" shows`);
}

await check('setup: a database and a finished execution to look at', async () => {
	db = expectStatus(await api('POST', '/databases?verify=false', { token: manager, body: {
		name: `brw-ro-${RUN}`, host: TARGET_HOST, port: TARGET_PORT, database_name: 'nowhere', username: 'nobody',
		password: 'x', database_type: 'analytics', region: `ro-${RUN}`,
	} }), 201, 'register');
	// A database that does not exist: the execution fails at once, and ends.
	execution = expectStatus(await api('POST', '/migrations/execute', { token: manager,
		body: { scope: 'regional', region: `ro-${RUN}` } }), 202, 'execute').id;
});

await check('the navigation offers every read section but Audit', async () => {
	await signIn(page, reader);
	for (const section of ['Overview', 'Databases', 'Migrations', 'Tenants'])
		await page.getByRole('navigation').getByRole('link', { name: section }).waitFor();
	if (await page.getByRole('link', { name: 'Audit' }).isVisible())
		throw new Error('Audit shows');
});

await check('Databases: the list, no "New database"', async () => {
	await page.getByRole('link', { name: 'Databases' }).click();
	await page.locator('tr[data-name]').first().waitFor();
	await absent('link', 'New database');
});

await check('a database\'s page: "Test connection" (databases:read) but no Edit, Delete or Migrate', async () => {
	await page.goto(`${page.url().split('#')[0]}#/databases/${db.id}`);
	await page.getByRole('button', { name: 'Test connection' }).waitFor();
	for (const name of ['Edit', 'Delete'])
		await absent('button', name);
	await absent('link', 'Migrate…');
});

await check('Migrations: the list, no "Start execution"; an execution\'s page without Cancel or Roll back', async () => {
	await page.getByRole('link', { name: 'Migrations' }).click();
	await page.locator(`tr[data-execution="${execution}"]`).waitFor();
	await absent('link', 'Start execution');
	await page.locator(`tr[data-execution="${execution}"] a`).first().click();
	await page.locator('#exec-status[data-status]').waitFor();
	for (const name of ['Cancel execution', 'Roll back'])
		await absent('button', name);
});

await check('Tenants: the list, no "New tenant"', async () => {
	await page.getByRole('link', { name: 'Tenants' }).click();
	await page.getByRole('heading', { name: 'Tenants' }).waitFor();
	await page.locator('.table-wrap').waitFor();
	await absent('button', 'New tenant');
});

await check('a create page opened by hand names the missing permission', async () => {
	await page.goto(`${page.url().split('#')[0]}#/databases/new`);
	await page.getByRole('heading', { name: 'Not allowed' }).waitFor();
	await page.getByText('databases:manage').waitFor();
	if (await page.getByRole('button', { name: 'Register database' }).count() > 0)
		throw new Error('the form shows');
});

await check('the API enforces it too: a create with this token is 403 AUTH_002', async () => {
	const answer = await api('POST', '/databases', { token: reader, body: { name: 'x' } });
	if (answer.status !== 403 || answer.data?.error_code !== 'AUTH_002')
		throw new Error(`${answer.status} ${JSON.stringify(answer.data)}`);
});


await api('DELETE', `/databases/${db?.id}`, { token: manager });
await finish(browser);
