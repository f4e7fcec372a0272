// sse.js — follows a Server-Sent Events stream with fetch(), since
// EventSource cannot send an Authorization header: the body is read with a
// ReadableStream reader and parsed here (id:, event:, data:, retry:, and
// comments), and a stream that ends before its `done` event is resumed
// with a Last-Event-ID header, as EventSource would.

import { errorOf, headers } from './api.js';

// EventParser turns chunks of an event stream into events, as the HTML
// standard's "interpret an event stream" says: lines end with CRLF, LF or
// CR; a blank line dispatches; a field's value loses one leading space.
export class EventParser {
	// onEvent({type, data, id}) for each event; onRetry(ms) for retry:.
	constructor(onEvent, onRetry = () => {}) {
		this.onEvent = onEvent;
		this.onRetry = onRetry;
		this.buffer = '';
		this.type = '';
		this.data = '';
		this.lastId = null;
	}

	push(chunk) {
		this.buffer += chunk;
		const eol = /\r\n|\r|\n/g;
		let start = 0;
		let m;
		while ((m = eol.exec(this.buffer)) !== null) {
			// A CR that ends the chunk may be the first half of a CRLF.
			if (m[0] === '\r' && m.index + 1 === this.buffer.length)
				break;
			this.line(this.buffer.slice(start, m.index));
			start = eol.lastIndex;
		}
		this.buffer = this.buffer.slice(start);
	}

	// end(): the stream has ended; a CR held back ended its line after all.
	end() {
		if (this.buffer.endsWith('\r'))
			this.push('\n');
	}

	line(text) {
		if (text === '') {
			this.dispatch();
			return;
		}
		if (text.startsWith(':'))
			return;
		const colon = text.indexOf(':');
		const name = colon < 0 ? text : text.slice(0, colon);
		let value = colon < 0 ? '' : text.slice(colon + 1);
		if (value.startsWith(' '))
			value = value.slice(1);
		if (name === 'event')
			this.type = value;
		else if (name === 'data')
			this.data += `${value}\n`;
		else if (name === 'id' && !value.includes('\0'))
			this.lastId = value;
		else if (name === 'retry' && /^\d+$/.test(value))
			this.onRetry(Number(value));
	}

	dispatch() {
		const type = this.type || 'message';
		const data = this.data;
		this.type = '';
		this.data = '';
		if (data === '')
			return;
		this.onEvent({ type, data: data.slice(0, -1), id: this.lastId });
	}
}

function sleep(ms, signal) {
	return new Promise((resolve, reject) => {
		const timer = setTimeout(resolve, ms);
		signal?.addEventListener('abort', () => {
			clearTimeout(timer);
			reject(signal.reason);
		}, { once: true });
	});
}

// Connections in a row that may fail before follow() gives up.
const MAX_FAILURES = 5;

// follow(url, options): reads the stream until an event of type
// options.last ('done' by default), resuming after a stream that ended
// early. options: onEvent(event), onState('connecting'|'live'|
// 'reconnecting'|'ended'), ended() (async; true when there is nothing
// more to wait for — asked when a stream ends without the last event, so
// a finished execution whose events were all sent is not followed
// forever), signal (AbortSignal: stops, rejecting with its reason).
// Resolves when done; rejects with ApiError when the API refuses the
// stream (401, 404…) or it cannot be reached MAX_FAILURES times in a row.
export async function follow(url, options) {
	const last = options.last || 'done';
	const state = options.onState || (() => {});
	const signal = options.signal;
	let lastId = null;
	let retry = 2000;
	let failures = 0;

	for (;;) {
		let finished = false;
		let response;
		const request = headers({ Accept: 'text/event-stream' });
		if (lastId !== null)
			request['Last-Event-ID'] = lastId;
		state(lastId === null && failures === 0 ? 'connecting' : 'reconnecting');
		try {
			response = await fetch(url, { headers: request, signal, cache: 'no-store' });
		} catch (e) {
			if (signal?.aborted)
				throw e;
			if (++failures >= MAX_FAILURES)
				throw e;
			await sleep(retry, signal);
			continue;
		}
		if (response.status === 503 && failures + 1 < MAX_FAILURES) {
			// Too many streams open on that host: wait as told.
			failures++;
			await response.body?.cancel();
			await sleep(Number(response.headers.get('Retry-After') || 5) * 1000, signal);
			continue;
		}
		if (!response.ok)
			throw await errorOf(response);
		state('live');
		const parser = new EventParser(event => {
			lastId = event.id;
			failures = 0;
			options.onEvent(event);
			if (event.type === last)
				finished = true;
		}, ms => { retry = ms; });
		const reader = response.body.getReader();
		const decoder = new TextDecoder();
		try {
			while (!finished) {
				const { value, done } = await reader.read();
				if (done) {
					parser.end();
					break;
				}
				parser.push(decoder.decode(value, { stream: true }));
			}
		} catch (e) {
			// The connection broke: like an early end, unless we stopped.
			if (signal?.aborted)
				throw e;
		}
		if (finished) {
			reader.cancel().catch(() => {});
			state('ended');
			return;
		}
		if (options.ended && await options.ended()) {
			state('ended');
			return;
		}
		await sleep(retry, signal);
	}
}
