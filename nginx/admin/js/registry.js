// registry.js — the registered databases the forms offer as their
// "Database" choice: GET /databases page after page (next_cursor), in
// registration order, the first thousand.

import { api } from './api.js';

const PAGES = 10;	// of 100

export async function registeredDatabases(signal) {
	const items = [];
	let cursor = null;
	for (let page = 0; page < PAGES; page++) {
		const params = new URLSearchParams({ limit: '100' });
		if (cursor)
			params.set('cursor', cursor);
		const { data } = await api('GET', `/databases?${params}`, { signal });
		items.push(...data.items);
		cursor = data.next_cursor;
		if (!cursor)
			break;
	}
	return items;
}
