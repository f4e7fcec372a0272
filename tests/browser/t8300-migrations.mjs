// t8300-migrations.mjs — an execution started from the admin pages: the
// plan preview lists what the dry run says; after "Start execution" the
// page follows the event stream while a locked table holds the target in
// progress, resumes the stream (infrad ends each one after 5 s here) with
// Last-Event-ID, and reaches done live once the lock goes, without a
// reload; then "Roll back" undoes it.
import { api, check, finish, expectStatus, holdLock, launch, makeDatabase, poll, psql, RUN, signIn, TARGET_HOST,
	TARGET_PORT, token } from './harness.mjs';

const browser = await launch();
const { page } = browser;
const operator = token('--sub', 'brw-mig', '--perm', 'migrations:execute', '--perm', 'migrations:read',
	'--perm', 'migrations:manage', '--perm', 'databases:read', '--perm', 'databases:manage');
const target = makeDatabase(`brw_mig_${RUN}`);
const name = `brw-mig-${RUN}`;
let db;
let lock;
let execution;
const streams = [];	// the event stream requests: {id, lastEventId}
page.on('request', request => {
	const m = /\/migrations\/([^/]+)\/events$/.exec(new URL(request.url()).pathname);
	if (m)
		streams.push({ id: m[1], lastEventId: request.headers()['last-event-id'] ?? null });
});

await check('setup: a database at version 1, a session locking the table its next migration needs', async () => {
	db = expectStatus(await api('POST', '/databases?verify=false', { token: operator, body: {
		name, host: TARGET_HOST, port: TARGET_PORT, database_name: target.name, username: target.name,
		password: target.password, database_type: 'tenant', sslmode: 'disable', schema: 's1',
	} }), 201, 'register');
	const first = expectStatus(await api('POST', '/migrations/execute', { token: operator,
		body: { scope: 'single', database_id: db.id, target_version: '1' } }), 202, 'execute to version 1');
	await poll('the execution to version 1', async () =>
		(await api('GET', `/migrations/${first.id}`, { token: operator })).data.status === 'completed');
	lock = await holdLock(target.name, 'LOCK TABLE s1.users IN ACCESS EXCLUSIVE MODE;');
});

let pending = [];

await check('the plan preview lists what the API\'s dry run would apply', async () => {
	const dryRun = expectStatus(await api('POST', '/migrations/execute', { token: operator,
		body: { scope: 'single', database_id: db.id, dry_run: true } }), 200, 'the dry run');
	pending = dryRun.plan[0].pending.map(m => m.version);
	await signIn(page, operator);
	await page.getByRole('link', { name: 'Migrations' }).click();
	await page.getByRole('link', { name: 'Start execution' }).click();
	await page.getByRole('heading', { name: 'Start an execution' }).waitFor();
	const start = page.getByRole('button', { name: 'Start execution' });
	if (await start.isEnabled())
		throw new Error('start is offered before a plan');
	await page.getByLabel('Scope').selectOption('single');
	await page.getByLabel('Database', { exact: true }).selectOption(db.id);
	await page.getByRole('button', { name: 'Preview plan' }).click();
	const row = page.locator(`tr[data-target="${name}/s1"]`);
	await row.waitFor();
	const shown = await row.locator('ul.pending li code').allTextContents();
	if (JSON.stringify(shown) !== JSON.stringify(pending) || pending.length < 2)
		throw new Error(`shown ${shown.join(',')}, dry run ${pending.join(',')}`);
	await page.locator('.plan-summary').filter({ hasText: `1 target, ${pending.length} migrations to apply` }).waitFor();
	if (!await start.isEnabled())
		throw new Error('start is not offered after the plan');
});

await check('"Start execution" starts it and opens its page', async () => {
	await page.getByRole('button', { name: 'Start execution' }).click();
	await page.locator('.notice').filter({ hasText: 'Execution started.' }).waitFor();
	execution = decodeURIComponent(new URL(page.url()).hash.split('/')[2]);
	const e = expectStatus(await api('GET', `/migrations/${execution}`, { token: operator }), 200, 'GET the execution');
	if (e.scope !== 'single' || e.filters.database_id !== db.id)
		throw new Error(JSON.stringify(e));
	// Gone after a reload: proves the page never reloads from here on.
	await page.evaluate(() => { window.t8300 = 'same page'; });
});

await check('live: in progress, the target named as current, the stream live', async () => {
	await page.locator('#exec-status[data-status="in_progress"]').waitFor();
	await page.locator('dl.facts dd').filter({ hasText: `${name}/s1` }).first().waitFor();
	await page.locator(`tr.current[data-target="${db.id}/s1"]`).waitFor();
	await page.locator('.stream-state[data-state="live"]').waitFor();
});

await check('a stream that ended before done is resumed with Last-Event-ID', async () => {
	const resumed = await poll('a resumed stream', () => streams.find(s => s.id === execution && s.lastEventId !== null));
	if (!/^\d+$/.test(resumed.lastEventId) || streams[0].lastEventId !== null)
		throw new Error(JSON.stringify(streams));
	const status = await page.locator('#exec-status').getAttribute('data-status');
	if (status !== 'in_progress')
		throw new Error(`status ${status} while the lock is held`);
});

await check('once the lock goes, the page reaches completed live: 100 %, every target done, no reload', async () => {
	await lock.release();
	await page.locator('#exec-status[data-status="completed"]').waitFor();
	await page.locator('.progress-large .progress-text').filter({ hasText: /^100%$/ }).waitFor();
	const row = page.locator(`tr[data-target="${db.id}/s1"]`);
	await row.locator('.badge-completed').waitFor();
	const applied = (await row.locator('td').nth(6).textContent()).split(', ');
	if (JSON.stringify(applied) !== JSON.stringify(pending))
		throw new Error(`applied ${applied.join(',')}`);
	if (await page.evaluate(() => window.t8300) !== 'same page')
		throw new Error('the page was reloaded');
	const e = expectStatus(await api('GET', `/migrations/${execution}`, { token: operator }), 200, 'GET');
	if (e.status !== 'completed')
		throw new Error(`the API says ${e.status}`);
});

await check('"Roll back" asks, starts the undo and follows it to completed', async () => {
	await page.getByRole('button', { name: 'Roll back' }).click();
	await page.getByRole('dialog').getByRole('button', { name: 'Roll back' }).click();
	await page.locator('.notice').filter({ hasText: 'Rollback of' }).waitFor();
	await page.locator(`dl.facts a[href="#/migrations/${execution}"]`).waitFor();
	await page.locator('#exec-status[data-status="completed"]').waitFor();
	const undone = (await page.locator(`tr[data-target="${db.id}/s1"] td`).nth(6).textContent()).split(', ');
	if (JSON.stringify(undone) !== JSON.stringify(pending.map(v => `U${v}`).reverse()))
		throw new Error(`undone ${undone.join(',')}`);
	const e = expectStatus(await api('GET', `/migrations/${execution}`, { token: operator }), 200, 'GET');
	if (e.status !== 'rolled_back')
		throw new Error(`the rolled back execution is ${e.status}`);
	// Version 1 stays (its table too); what version 2 made is gone.
	const left = psql("SELECT to_regclass('s1.users') IS NOT NULL, to_regclass('s1.projects') IS NULL", target.name);
	if (left !== 't|t')
		throw new Error(`s1.users kept, s1.projects gone: ${left}`);
});


await lock?.release();
await finish(browser);
