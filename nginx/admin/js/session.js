// session.js — who is signed in: the bearer token (in sessionStorage only,
// so it dies with the tab) and the /auth/me answer that says what it may do.

const TOKEN_KEY = 'infra.token';

let me = null;

export function token() {
	return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(value) {
	sessionStorage.setItem(TOKEN_KEY, value);
}

// forget(): no token and no principal any more.
export function forget() {
	sessionStorage.removeItem(TOKEN_KEY);
	me = null;
}

export function principal() {
	return me;
}

export function setPrincipal(value) {
	me = value;
}

// can(permission): the token holds it (infrastructure:admin holds every
// one; /auth/me already lists them expanded, this only guards a missing
// list). Pages hide what the token cannot do; the API enforces it anyway.
export function can(permission) {
	const perms = me?.permissions || [];
	return perms.includes(permission) || perms.includes('infrastructure:admin');
}
