// app.js — the admin pages' entry point: signing in with a pasted bearer
// token, who is signed in and what the token may do, signing out, and the
// table of routes to the views in js/.

import { api, onUnauthorized } from './js/api.js';
import { replace, utc, h } from './js/dom.js';
import { route, start, stop } from './js/router.js';
import { can, forget, principal, setPrincipal, setToken, token } from './js/session.js';
import { overview } from './js/overview.js';
import { databaseList, databaseNew } from './js/databases.js';
import { databaseDetail } from './js/database.js';
import { migrationList } from './js/migrations.js';
import { migrationNew } from './js/migrate.js';
import { migrationDetail } from './js/migration.js';
import { tenants } from './js/tenants.js';
import { audit } from './js/audit.js';

route('/overview', overview, 'infrastructure:read');
route('/databases', databaseList, 'databases:read');
route('/databases/new', databaseNew, 'databases:manage');
route('/databases/:id', databaseDetail, 'databases:read');
route('/migrations', migrationList, 'migrations:read');
route('/migrations/new', migrationNew, 'migrations:execute');
route('/migrations/:id', migrationDetail, 'migrations:read');
route('/tenants', tenants, 'tenants:read');
route('/audit', audit, 'infrastructure:admin');

const $ = id => document.getElementById(id);

// The first section of the navigation this token may open.
function home() {
	const first = [...document.querySelectorAll('#nav a')].find(a => can(a.dataset.perm));
	return first ? first.getAttribute('href').slice(1) : '/none';
}

function showSignIn(message) {
	stop();
	$('main').hidden = true;
	$('nav').hidden = true;
	$('who').hidden = true;
	$('signin').hidden = false;
	$('signin-message').textContent = message || '';
	$('signin-token').value = '';
	$('signin-token').focus();
}

function showApp() {
	const me = principal();
	$('signin').hidden = true;
	$('signin-message').textContent = '';
	replace($('who-name'), me.username || me.sub);
	replace($('who-tenant'), me.tenant ? `tenant ${me.tenant}` : 'platform');
	replace($('who-expires'), h('time', { datetime: me.expires_at }, utc(me.expires_at)));
	replace($('who-permissions'), (me.permissions || []).map(p => h('li', null, h('code', null, p))));
	for (const a of document.querySelectorAll('#nav a'))
		a.hidden = !can(a.dataset.perm);
	$('nav').hidden = false;
	$('who').hidden = false;
	$('main').hidden = false;
	start($('main'), home);
}

// signIn(): ask /auth/me with the stored token; the sign-in view shows the
// API's message when it refuses.
async function signIn() {
	try {
		const { data } = await api('GET', '/auth/me');
		setPrincipal(data);
		showApp();
	} catch (err) {
		forget();
		showSignIn(err.status === 401 ? `The API refused this token: ${err.message}.`
			: `Cannot sign in: ${err.message}.`);
	}
}

async function signOut() {
	let message = 'Signed out: the token is revoked.';
	try {
		await api('POST', '/auth/logout');
	} catch (err) {
		if (err.status !== 401)
			message = `Signed out here, but the API did not confirm the logout (${err.message}): ` +
				'the token stays valid until it expires.';
	}
	forget();
	showSignIn(message);
}

// Any 401 (expired, revoked, forged token) returns to the sign-in view
// with the API's message.
onUnauthorized(err => {
	if (!token())
		return;
	forget();
	showSignIn(`Signed out: ${err.message}.`);
});

$('signin-form').addEventListener('submit', event => {
	event.preventDefault();
	const value = $('signin-token').value.trim().replace(/^Bearer\s+/i, '');
	if (!value) {
		$('signin-message').textContent = 'Paste a token first.';
		return;
	}
	setToken(value);
	signIn();
});
$('signout').addEventListener('click', signOut);

if (token())
	signIn();
else
	showSignIn();
