// harness.mjs — what every browser test shares: Debian's Chromium driven by
// playwright-core, trusting the stack's certificate; TAP lines ("ok N - …")
// that tests/run counts; a screenshot of the page at each failure; calls
// to the API and tokens from scripts/token for setting up and checking.

import { execFileSync, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { chromium } from 'playwright-core';

if (!process.env.INFRA_URL)
	throw new Error('run through tests/run, or export the variables of var/stack.env');

export const URL_BASE = process.env.INFRA_URL;
export const ADMIN = `${URL_BASE}/admin/`;
const REPO = process.env.INFRA_REPO || path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const NAME = path.basename(process.argv[1], '.mjs');
// Generous bound of every wait: a loaded 2-core machine is slow, never
// this slow.
export const WAIT_MS = 30000;

// ------------------------------------------------------------------ TAP

let count = 0;
let failed = 0;
let skipping = false;
let page = null;
let shotDir = null;

export function diag(...lines) {
	for (const line of lines.join('\n').split('\n'))
		console.log(`# ${line}`);
}

// check(description, fn, options): ok when the async fn resolves; not ok
// (with the error and a screenshot) when it throws. Resolves to whether it
// passed. The checks of a file build on each other, so after a failure the
// rest are skipped (each waiting out its timeout would tell nothing more),
// except those with options.always.
export async function check(description, fn, options = {}) {
	count++;
	if (skipping && !options.always) {
		console.log(`ok ${count} # skip ${description} (an earlier check failed)`);
		return false;
	}
	try {
		await fn();
		console.log(`ok ${count} - ${description}`);
		if (process.env.INFRA_BROWSER_SHOTS_ALWAYS)
			await screenshot(`ok-${count}`);
		return true;
	} catch (err) {
		failed++;
		skipping = true;
		console.log(`not ok ${count} - ${description}`);
		diag(String(err?.stack || err).split('\n').slice(0, 8).join('\n'));
		await screenshot(`not-ok-${count}`);
		return false;
	}
}

// screenshot(label): the whole page as PNG in the screenshots folder
// ($INFRA_BROWSER_SHOTS, or a folder under the temp dir kept after the run).
async function screenshot(label) {
	if (!page)
		return;
	try {
		shotDir ??= fs.mkdtempSync(path.join(process.env.INFRA_BROWSER_SHOTS || os.tmpdir(), `infra-browser-${NAME}-`));
		const file = path.join(shotDir, `${label}.png`);
		await page.screenshot({ path: file, fullPage: true, timeout: 10000 });
		diag(`screenshot: ${file}`);
	} catch (err) {
		diag(`no screenshot: ${err.message}`);
	}
}

// done(): the plan line; the exit status says whether all passed.
export function done() {
	console.log(`1..${count}`);
	if (failed > 0)
		diag(`${failed} of ${count} failed`);
	process.exitCode = failed > 0 ? 1 : 0;
}

// ---------------------------------------------------------- the browser

// The SHA-256 of the public key (SPKI) of the certificate the stack serves,
// base64: what --ignore-certificate-errors-spki-list pins. The connection
// that reads it verifies the certificate against $INFRA_CA (chain and
// 127.0.0.1), so Chromium trusts exactly what the stack's CA signed.
function certificatePin() {
	const u = new URL(URL_BASE);
	return new Promise((resolve, reject) => {
		const socket = tls.connect({ host: u.hostname, port: Number(u.port || 443),
			ca: fs.readFileSync(process.env.INFRA_CA) }, () => {
			const spki = socket.getPeerX509Certificate().publicKey.export({ type: 'spki', format: 'der' });
			socket.end();
			resolve(crypto.createHash('sha256').update(spki).digest('base64'));
		});
		socket.on('error', reject);
	});
}

// launch(): Chromium with a fresh profile and one page (the one screenshots
// are taken of). The console's CSP violations and uncaught exceptions are
// collected in `problems`.
export async function launch() {
	const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'infra-chromium-'));
	const pin = await certificatePin();
	const context = await chromium.launchPersistentContext(profile, {
		executablePath: process.env.INFRA_CHROMIUM || '/usr/bin/chromium',
		headless: true,
		viewport: { width: 1440, height: 900 },
		timezoneId: 'Europe/Berlin',	// the pages must show UTC whatever the zone
		args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
			'--disable-background-networking', '--disable-component-update', '--disable-sync',
			`--ignore-certificate-errors-spki-list=${pin}`],
	});
	context.setDefaultTimeout(WAIT_MS);
	page = context.pages()[0] || await context.newPage();
	const problems = [];
	page.on('console', msg => {
		if (msg.type() === 'error' && !/Failed to load resource/.test(msg.text()))
			problems.push(msg.text());
	});
	page.on('pageerror', err => problems.push(`uncaught: ${err.message}`));
	return {
		context,
		page,
		problems,
		async close() {
			await context.close();
			fs.rmSync(profile, { recursive: true, force: true });
		},
	};
}

// finish(browser): the last check of every file (no CSP violation or
// script error reached the console), then the browser closes and the plan
// line ends the output.
export async function finish(browser) {
	await check('no CSP violation or script error in the console', async () => {
		if (browser.problems.length > 0)
			throw new Error(browser.problems.join('\n'));
	}, { always: true });
	await browser.close();
	done();
}

// signIn(page, token): the sign-in form, then the header naming the user.
export async function signIn(p, token) {
	await p.goto(ADMIN);
	await p.getByLabel('Bearer token').fill(token);
	await p.getByRole('button', { name: 'Sign in' }).click();
	await p.locator('#who').waitFor({ state: 'visible' });
}

// -------------------------------------------------------------- the API

// token(...args): a development token (scripts/token args).
export function token(...args) {
	return execFileSync(path.join(REPO, 'scripts/token'), args, { encoding: 'utf8' }).trim();
}

// api(method, path, {token, body, headers}): {status, data, headers}. The
// stack's CA is trusted through NODE_EXTRA_CA_CERTS (tests/browser/lib.sh).
export async function api(method, p, options = {}) {
	const headers = { ...options.headers };
	if (options.token)
		headers.Authorization = `Bearer ${options.token}`;
	if (options.body !== undefined)
		headers['Content-Type'] = 'application/json';
	const response = await fetch(`${URL_BASE}${p}`, {
		method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body),
	});
	const text = await response.text();
	let data = null;
	try {
		data = text ? JSON.parse(text) : null;
	} catch {
		data = text;
	}
	return { status: response.status, data, headers: response.headers };
}

// expectStatus(answer, status, what): throws unless the answer has it.
export function expectStatus(answer, status, what) {
	if (answer.status !== status)
		throw new Error(`${what}: expected ${status}, got ${answer.status} ${JSON.stringify(answer.data)}`);
	return answer.data;
}

// poll(description, fn): fn() until it returns a truthy value, every
// 200 ms, at most WAIT_MS; resolves to that value.
export async function poll(description, fn) {
	const deadline = Date.now() + WAIT_MS;
	for (;;) {
		const value = await fn();
		if (value)
			return value;
		if (Date.now() > deadline)
			throw new Error(`timed out waiting for ${description}`);
		await new Promise(resolve => setTimeout(resolve, 200));
	}
}

// ------------------------------------------------------ managed databases

// The stack's cluster (INFRA_TARGET_PGURL: a superuser URL).
const target = new URL(process.env.INFRA_TARGET_PGURL || 'postgresql://localhost/');
export const TARGET_HOST = target.hostname;
export const TARGET_PORT = Number(target.port || 5432);

const PSQL_ENV = { ...process.env, PGOPTIONS: '-c client_min_messages=warning' };

function targetUrl(database) {
	const u = new URL(target);
	if (database)
		u.pathname = `/${database}`;
	return u.toString();
}

// psql(sql, database): run sql on the stack's cluster as its superuser.
export function psql(sql, database) {
	return execFileSync('psql', [targetUrl(database), '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-c', sql],
		{ encoding: 'utf8', env: PSQL_ENV }).trim();
}

// holdLock(database, sql): a session that runs sql (LOCK TABLE …) in an
// open transaction; resolves once it holds the lock, to {release()}, which
// commits and ends the session.
export function holdLock(database, sql) {
	const session = spawn('psql', [targetUrl(database), '-X', '-q', '-v', 'ON_ERROR_STOP=1'],
		{ env: PSQL_ENV, stdio: ['pipe', 'pipe', 'inherit'] });
	const ended = new Promise(resolve => session.on('exit', resolve));
	return new Promise((resolve, reject) => {
		let out = '';
		session.stdout.on('data', chunk => {
			out += chunk;
			if (out.includes('locked'))
				resolve({
					release() {
						session.stdin.end('COMMIT;\n');
						return ended;
					},
				});
		});
		session.on('exit', code => reject(new Error(`psql holding the lock exited (${code})`)));
		session.stdin.write(`BEGIN;\n${sql}\n\\echo locked\n`);
	});
}

// makeDatabase(name): a fresh login role and database `name` owned by it,
// with password `pw-<name>`.
export function makeDatabase(name) {
	psql(`DROP DATABASE IF EXISTS "${name}"`);
	psql(`DROP ROLE IF EXISTS "${name}"`);
	psql(`CREATE ROLE "${name}" LOGIN PASSWORD 'pw-${name}'`);
	psql(`CREATE DATABASE "${name}" OWNER "${name}"`);
	return { name, password: `pw-${name}` };
}

// A short random suffix, so a rerun on the same stack never collides.
export const RUN = crypto.randomBytes(3).toString('hex');
