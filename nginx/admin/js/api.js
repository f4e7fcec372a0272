// api.js — every call to the infra API: same origin, JSON both ways, the
// bearer token on each request, errors as ApiError carrying the API's
// {error_code, message, details, request_id}. A 401 also tells the app
// (onUnauthorized) so it can return to the sign-in view.

import { token } from './session.js';

export class ApiError extends Error {
	constructor(status, body, requestId) {
		super(body?.message || (status ? `HTTP ${status}` : 'no answer'));
		this.name = 'ApiError';
		this.status = status;
		this.code = body?.error_code || null;
		this.details = body?.details || {};
		this.fields = this.details.fields || {};
		this.requestId = body?.request_id || requestId || null;
	}
}

let unauthorized = () => {};

// onUnauthorized(handler): handler(ApiError) runs on every 401.
export function onUnauthorized(handler) {
	unauthorized = handler;
}

// query(params): "?a=1&b=2" from the non-empty values, or "".
export function query(params) {
	const q = new URLSearchParams();
	for (const [name, value] of Object.entries(params || {}))
		if (value !== undefined && value !== null && value !== '')
			q.set(name, value);
	const text = q.toString();
	return text ? `?${text}` : '';
}

// headers(extra): the request headers, Authorization included.
export function headers(extra) {
	const all = { Accept: 'application/json', ...extra };
	const t = token();
	if (t)
		all.Authorization = `Bearer ${t}`;
	return all;
}

// parse(text): the JSON of a body, or null (empty, or not JSON).
function parse(text) {
	if (!text)
		return null;
	try {
		return JSON.parse(text);
	} catch {
		return null;
	}
}

// errorOf(response): the ApiError of a non-2xx response, its body read; a
// 401 also runs the onUnauthorized handler.
export async function errorOf(response) {
	const err = new ApiError(response.status, parse(await response.text()),
		response.headers.get('X-Request-ID'));
	if (response.status === 401)
		unauthorized(err);
	return err;
}

// api(method, path, {body, headers, signal}): resolves to {status, data,
// etag, response} for a 2xx answer (data null without a body); rejects with
// ApiError otherwise (status 0 when the API did not answer), or with the
// AbortError of `signal`.
export async function api(method, path, options = {}) {
	const init = { method, headers: headers(options.headers), signal: options.signal };
	if (options.body !== undefined) {
		init.headers['Content-Type'] = 'application/json';
		init.body = JSON.stringify(options.body);
	}
	let response;
	try {
		response = await fetch(path, init);
	} catch (e) {
		if (e.name === 'AbortError')
			throw e;
		throw new ApiError(0, { message: `the API did not answer (${e.message})` });
	}
	if (!response.ok)
		throw await errorOf(response);
	return {
		status: response.status,
		data: parse(await response.text()),
		etag: response.headers.get('ETag'),
		response,
	};
}
