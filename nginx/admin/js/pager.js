// pager.js — keyset pagination over the API's opaque next_cursor: "Next"
// follows it, "Previous" returns to the cursor the page before started
// from (kept in memory, since the API's cursors only go forward).

import { h } from './dom.js';

export class Pager {
	// load(cursor) renders one page and resolves to the API's answer
	// (its next_cursor is read).
	constructor(load, label = 'Pages') {
		this.load = load;
		this.before = [];
		this.cursor = null;
		this.next = null;
		this.prevButton = h('button', { type: 'button', class: 'secondary', on: { click: () => this.previous() } }, '← Previous');
		this.nextButton = h('button', { type: 'button', class: 'secondary', on: { click: () => this.forward() } }, 'Next →');
		this.where = h('span', { class: 'page-no' });
		this.element = h('nav', { class: 'pager', 'aria-label': label }, this.prevButton, this.where, this.nextButton);
		this.show();
	}

	// first(): the first page again (after a filter changed).
	first() {
		this.before = [];
		this.cursor = null;
		return this.run();
	}

	forward() {
		if (!this.next)
			return Promise.resolve();
		this.before.push(this.cursor);
		this.cursor = this.next;
		return this.run();
	}

	previous() {
		if (this.before.length === 0)
			return Promise.resolve();
		this.cursor = this.before.pop();
		return this.run();
	}

	async run() {
		this.prevButton.disabled = this.nextButton.disabled = true;
		try {
			const answer = await this.load(this.cursor);
			this.next = answer?.next_cursor || null;
		} finally {
			this.show();
		}
	}

	show() {
		this.prevButton.disabled = this.before.length === 0;
		this.nextButton.disabled = !this.next;
		this.where.textContent = `page ${this.before.length + 1}`;
	}
}
