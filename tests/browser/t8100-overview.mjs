// t8100-overview.mjs — the Overview view shows one row per service of
// /health/detailed (its state, response time and message) and the facts of
// /system/info, its times in UTC although the browser's zone is not.
import { api, check, finish, expectStatus, launch, signIn, token } from './harness.mjs';

const browser = await launch();
const { page } = browser;
const reader = token('--sub', 'brw-overview', '--perm', 'infrastructure:read');
const health = expectStatus(await api('GET', '/health/detailed', { token: reader }), 200, 'GET /health/detailed');
const info = expectStatus(await api('GET', '/system/info', { token: reader }), 200, 'GET /system/info');

await check('an infrastructure:read token lands on the Overview', async () => {
	await signIn(page, reader);
	await page.getByRole('heading', { name: 'Overview' }).waitFor();
	await page.locator('tr[data-service]').first().waitFor();
});

await check(`every service of /health/detailed has its row (${health.services.map(s => s.name).join(', ')})`, async () => {
	const shown = await page.locator('tr[data-service]').evaluateAll(rows => rows.map(r => r.dataset.service));
	const wanted = health.services.map(s => s.name);
	if (JSON.stringify(shown) !== JSON.stringify(wanted))
		throw new Error(`rows ${shown.join(',')}, services ${wanted.join(',')}`);
});

// States may change between two reads (a probe opens a circuit), so each
// row is checked against the page's own summary, not a second API call.
await check('each row shows a state, a response time in ms and a message; the summary counts them', async () => {
	let healthy = 0;
	for (const s of health.services) {
		const cells = await page.locator(`tr[data-service="${s.name}"] td`).allTextContents();
		const [name, state, time, message] = cells;
		if (name !== s.name || !['healthy', 'unhealthy'].includes(state) || !/^\d+(\.\d+)? ms$/.test(time) || !message)
			throw new Error(`${s.name}: ${JSON.stringify(cells)}`);
		healthy += state === 'healthy';
	}
	const summary = await page.locator('.summary').textContent();
	if (!summary.includes(`${healthy} of ${health.services.length} services healthy`) ||
		!summary.includes(healthy === health.services.length ? 'healthy' : 'degraded'))
		throw new Error(`summary '${summary}' for ${healthy} healthy rows`);
});

await check('the system facts are /system/info\'s, the start time in UTC', async () => {
	const facts = await page.locator('dl.facts').evaluate(dl => {
		const out = {};
		for (const dt of dl.querySelectorAll('dt'))
			out[dt.textContent] = dt.nextElementSibling.textContent;
		return out;
	});
	const started = info.started_at.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
	if (facts.Version !== info.version || facts.Host !== info.host || facts['Request workers'] !== String(info.workers) ||
		facts['Job runners'] !== String(info.runners) || facts.Started !== started)
		throw new Error(JSON.stringify(facts));
});

await check('a read-only token sees no Audit section (infrastructure:admin)', async () => {
	if (await page.getByRole('link', { name: 'Audit' }).isVisible())
		throw new Error('the Audit link shows');
});


await finish(browser);
