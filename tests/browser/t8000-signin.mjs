// t8000-signin.mjs — sign-in with a bad and a good token; the token lives
// in sessionStorage only and goes out as a bearer header on every API call;
// a 401 (a token revoked elsewhere) returns to the sign-in view with the
// API's message; signing out calls POST /auth/logout, after which the
// token is refused. No CSP violation or script error on the way.
import { ADMIN, URL_BASE, api, check, finish, launch, signIn, token } from './harness.mjs';

const browser = await launch();
const { page } = browser;
const apiRequests = [];
page.on('request', request => {
	const url = new URL(request.url());
	if (url.origin === URL_BASE && !url.pathname.startsWith('/admin/'))
		apiRequests.push({ path: url.pathname, method: request.method(), authorization: request.headers().authorization });
});
const storedToken = () => page.evaluate(() => sessionStorage.getItem('infra.token'));
const signInMessage = () => page.locator('#signin-message').textContent();

await check('the admin page loads over TLS the stack\'s CA signed, with the site\'s CSP', async () => {
	const response = await page.goto(ADMIN);
	if (response.status() !== 200)
		throw new Error(`GET /admin/: ${response.status()}`);
	const csp = response.headers()['content-security-policy'] || '';
	if (!csp.includes("default-src 'self'"))
		throw new Error(`CSP: '${csp}'`);
});

await check('without a token the sign-in view is shown', async () => {
	await page.getByLabel('Bearer token').waitFor({ state: 'visible' });
	if (await page.locator('#nav').isVisible())
		throw new Error('the navigation shows before signing in');
});

await check('a bad token is refused with the API\'s message, and not kept', async () => {
	await page.getByLabel('Bearer token').fill('not.a.token');
	await page.getByRole('button', { name: 'Sign in' }).click();
	await page.waitForFunction(() => /invalid token/.test(document.getElementById('signin-message').textContent));
	if (!(await signInMessage()).includes('refused'))
		throw new Error(`message: ${await signInMessage()}`);
	if (await storedToken() !== null)
		throw new Error('the bad token stayed in sessionStorage');
	if (await page.locator('#who').isVisible())
		throw new Error('signed in with a bad token');
});

const admin = token('--sub', 'brw-admin', '--perm', 'infrastructure:admin');
await check('a good token signs in: the header names the user, platform scope, and permissions', async () => {
	apiRequests.length = 0;
	await page.getByLabel('Bearer token').fill(admin);
	await page.getByRole('button', { name: 'Sign in' }).click();
	await page.locator('#who').waitFor({ state: 'visible' });
	const who = await page.locator('#who summary').textContent();
	if (!who.includes('brw-admin') || !who.includes('platform'))
		throw new Error(`header: '${who}'`);
	await page.locator('#who summary').click();
	const perms = await page.locator('#who-permissions li').allTextContents();
	if (!perms.includes('infrastructure:admin') || !perms.includes('databases:manage'))
		throw new Error(`permissions: ${perms.join(', ')}`);
	await page.locator('#who summary').click();
	await page.getByRole('heading', { name: 'Overview' }).waitFor();
});

await check('the token is in sessionStorage only: not in localStorage, not in a cookie', async () => {
	const where = await page.evaluate(() => ({
		session: sessionStorage.getItem('infra.token'),
		local: localStorage.length,
		cookie: document.cookie,
	}));
	if (where.session !== admin || where.local !== 0 || where.cookie !== '')
		throw new Error(JSON.stringify({ ...where, session: where.session ? '(a token)' : null }));
});

await check('every API call carried Authorization: Bearer with the token', async () => {
	await page.getByRole('link', { name: 'Databases' }).click();
	await page.getByRole('heading', { name: 'Databases' }).waitFor();
	await page.locator('.table-wrap').waitFor();
	const paths = apiRequests.map(r => r.path);
	for (const wanted of ['/auth/me', '/health/detailed', '/system/info', '/databases'])
		if (!paths.includes(wanted))
			throw new Error(`no request to ${wanted} among ${paths.join(' ')}`);
	const bare = apiRequests.filter(r => r.authorization !== `Bearer ${admin}`);
	if (bare.length > 0)
		throw new Error(`without the bearer token: ${bare.map(r => r.path).join(' ')}`);
});

await check('a reload keeps the session (same tab)', async () => {
	await page.reload();
	await page.locator('#who').waitFor({ state: 'visible' });
	await page.getByRole('heading', { name: 'Databases' }).waitFor();
});

await check('a token revoked elsewhere: the next call is 401 and the sign-in view shows the API\'s message', async () => {
	const other = token('--sub', 'brw-revoked', '--perm', 'infrastructure:admin');
	await page.evaluate(() => sessionStorage.clear());
	await signIn(page, other);
	const revoked = await api('POST', '/auth/logout', { token: other });
	if (revoked.status !== 204)
		throw new Error(`logout from outside: ${revoked.status}`);
	await page.getByRole('link', { name: 'Migrations' }).click();
	await page.getByLabel('Bearer token').waitFor({ state: 'visible' });
	const message = await signInMessage();
	if (!/invalid token/.test(message))
		throw new Error(`message: '${message}'`);
	if (await storedToken() !== null)
		throw new Error('the revoked token stayed in sessionStorage');
});

await check('sign-out calls POST /auth/logout (204) and forgets the token', async () => {
	await signIn(page, admin);
	const logout = page.waitForResponse(r => r.url() === `${URL_BASE}/auth/logout` && r.request().method() === 'POST');
	await page.getByRole('button', { name: 'Sign out' }).click();
	const response = await logout;
	if (response.status() !== 204)
		throw new Error(`POST /auth/logout: ${response.status()}`);
	await page.getByLabel('Bearer token').waitFor({ state: 'visible' });
	if (!(await signInMessage()).includes('Signed out'))
		throw new Error(`message: '${await signInMessage()}'`);
	if (await storedToken() !== null)
		throw new Error('the token stayed in sessionStorage');
});

await check('after sign-out the token is unusable: GET /auth/me with it is 401', async () => {
	const me = await api('GET', '/auth/me', { token: admin });
	if (me.status !== 401 || me.data?.error_code !== 'AUTH_001')
		throw new Error(`GET /auth/me: ${me.status} ${JSON.stringify(me.data)}`);
});


await finish(browser);
