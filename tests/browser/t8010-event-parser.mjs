// t8010-event-parser.mjs — EventParser from nginx/admin/js/sse.js, the
// module the pages use, run in Node: a stream shaped like infrad's (retry,
// id/event/data, comments) gives the same events however the network cuts
// it into chunks, with LF, CRLF or CR line ends; multi-line data, a field
// without a space, an event without data and a value holding colons follow
// the HTML standard's rules.
import { check, done } from './harness.mjs';
import { EventParser } from '../../nginx/admin/js/sse.js';

const STREAM = [
	'retry: 2000', '',
	'id: 1', 'event: progress', 'data: {"status": "pending", "percent": 0.0}', '',
	': ping', '',
	'id: 2', 'event: target', 'data: {"schema": "s1", "note": "a: b"}', '',
	'id: 3', 'event: progress', 'data:{"percent":50}', '',
	'event: ignored-without-data', '',
	'id: 4', 'data: line one', 'data: line two', '',
	'id: 5', 'event: done', 'data: {"status": "completed"}', '', '',
];
const EXPECTED = [
	{ type: 'progress', data: '{"status": "pending", "percent": 0.0}', id: '1' },
	{ type: 'target', data: '{"schema": "s1", "note": "a: b"}', id: '2' },
	{ type: 'progress', data: '{"percent":50}', id: '3' },
	{ type: 'message', data: 'line one\nline two', id: '4' },
	{ type: 'done', data: '{"status": "completed"}', id: '5' },
];

function parse(chunks) {
	const events = [];
	const retries = [];
	const parser = new EventParser(e => events.push(e), ms => retries.push(ms));
	for (const chunk of chunks)
		parser.push(chunk);
	parser.end();
	return { events, retries };
}

function same(got, what) {
	if (JSON.stringify(got.events) !== JSON.stringify(EXPECTED))
		throw new Error(`${what}: ${JSON.stringify(got.events)}`);
	if (JSON.stringify(got.retries) !== '[2000]')
		throw new Error(`${what}: retry ${JSON.stringify(got.retries)}`);
}

for (const [name, eol] of [['LF', '\n'], ['CRLF', '\r\n'], ['CR', '\r']]) {
	const text = STREAM.join(eol);
	await check(`${name} line ends, in one chunk: the five events and the retry`, () => same(parse([text]), 'whole'));
	await check(`${name} line ends, cut in two at each of ${text.length} places: the same`, () => {
		for (let at = 1; at < text.length; at++)
			same(parse([text.slice(0, at), text.slice(at)]), `cut at ${at}`);
	});
	await check(`${name} line ends, one character a chunk: the same`, () => same(parse([...text]), 'characters'));
}

await check('an event the stream\'s end cuts short is not dispatched', () => {
	const { events } = parse(['id: 9\nevent: done\ndata: {}\n']);
	if (events.length !== 0)
		throw new Error(JSON.stringify(events));
});

done();
