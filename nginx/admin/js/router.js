// router.js — the pages' routes live in the URL's hash (#/databases/…?q=…),
// so nginx serves one static index.html and the back button works. Each
// route names the permission its view needs; a view gets a fresh container
// and an AbortSignal that fires when the operator navigates away (its
// requests and streams stop then).

import { h, heading, replace } from './dom.js';
import { errorBox, notice } from './forms.js';
import { can } from './session.js';

const routes = [];
let main = null;
let controller = null;
let flash = null;
let home = () => '/';

// route(pattern, view, permission): pattern is a path such as
// '/databases/:id'; view(root, {params, query, signal}) renders into root.
export function route(pattern, view, permission) {
	const names = [];
	const source = pattern.replace(/:([a-z]+)/g, (_, name) => {
		names.push(name);
		return '([^/]+)';
	});
	routes.push({ regexp: new RegExp(`^${source}$`), names, view, permission });
}

// where(): the current {path, query} (query a URLSearchParams).
export function where() {
	const hash = location.hash.startsWith('#/') ? location.hash.slice(1) : '/';
	const at = hash.indexOf('?');
	return {
		path: at < 0 ? hash : hash.slice(0, at),
		query: new URLSearchParams(at < 0 ? '' : hash.slice(at + 1)),
	};
}

// link(path, query): the href of a route, with the non-empty query values.
export function link(path, query) {
	const q = new URLSearchParams();
	for (const [name, value] of Object.entries(query || {}))
		if (value !== undefined && value !== null && value !== '')
			q.set(name, value);
	const text = q.toString();
	return `#${path}${text ? `?${text}` : ''}`;
}

// go(path, query, message): navigate; `message` is shown once on arrival.
export function go(path, query, message) {
	flash = message || null;
	const target = link(path, query);
	if (location.hash === target)
		show();
	else
		location.hash = target;
}

// start(container, homePath): render the current route into container, and
// every later one; homePath() names the path shown for '#/' or an unknown
// route.
export function start(container, homePath) {
	main = container;
	home = homePath;
	window.onhashchange = show;
	show();
}

// stop(): the current view ends (its requests are aborted), nothing shows.
export function stop() {
	controller?.abort();
	controller = null;
	window.onhashchange = null;
	if (main)
		replace(main);
	main = null;
}

function show() {
	if (!main)
		return;
	controller?.abort();
	controller = new AbortController();
	const { signal } = controller;
	let { path, query } = where();
	let found = match(path);
	if (!found) {
		path = home();
		found = match(path);
		history.replaceState(null, '', link(path));
	}
	const root = h('div', { class: 'view' });
	replace(main, root);
	markCurrent(path);
	if (flash) {
		root.append(notice(flash));
		flash = null;
	}
	if (!found) {
		root.append(heading('Nothing here'), h('p', null, 'This token may see none of the pages.'));
		return;
	}
	if (found.route.permission && !can(found.route.permission)) {
		root.append(heading('Not allowed'), errorBox({
			message: `this token lacks the permission ${found.route.permission}`,
		}));
		return;
	}
	const rendering = found.route.view(root, { params: found.params, query, signal });
	root.querySelector('h1')?.focus({ preventScroll: true });
	Promise.resolve(rendering).catch(err => {
		// Aborted: the operator went elsewhere. 401: the app has
		// already returned to the sign-in view.
		if (signal.aborted || err?.status === 401)
			return;
		root.append(errorBox(err));
	});
}

function match(path) {
	for (const r of routes) {
		const m = r.regexp.exec(path);
		if (m) {
			const params = {};
			r.names.forEach((name, i) => { params[name] = decodeURIComponent(m[i + 1]); });
			return { route: r, params };
		}
	}
	return null;
}

// The main navigation marks the section of the current path.
function markCurrent(path) {
	const section = `#/${path.split('/')[1] || ''}`;
	for (const a of document.querySelectorAll('#nav a')) {
		if (a.getAttribute('href') === section)
			a.setAttribute('aria-current', 'page');
		else
			a.removeAttribute('aria-current');
	}
}
