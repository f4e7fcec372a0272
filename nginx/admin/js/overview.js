// overview.js — the Overview view: every service of /health/detailed with
// its state, response time and message, and what /system/info says about
// the host that answered. Refreshed every 30 s while shown.

import { api } from './api.js';
import { badge, facts, h, heading, healthBadge, millis, replace, table, when } from './dom.js';
import { errorBox } from './forms.js';

const REFRESH_MS = 30000;

export async function overview(root, { signal }) {
	const summary = h('div', { class: 'summary' });
	const services = h('section', { 'aria-labelledby': 'services-title' });
	const system = h('section', { 'aria-labelledby': 'system-title' });
	const problem = h('div');
	const refresh = h('button', { type: 'button', class: 'secondary', on: { click: () => load() } }, 'Refresh');
	const stamp = h('span', { class: 'muted' });
	root.append(heading('Overview', stamp, refresh), problem, summary,
		h('h2', { id: 'services-title' }, 'Services'), services,
		h('h2', { id: 'system-title' }, 'System'), system);

	async function load() {
		refresh.disabled = true;
		try {
			const [health, info] = await Promise.all([
				api('GET', '/health/detailed', { signal }),
				api('GET', '/system/info', { signal }),
			]);
			replace(problem);
			showHealth(health.data);
			showSystem(info.data);
			replace(stamp, 'as of ', when(new Date().toISOString()));
		} catch (err) {
			if (signal.aborted || err.status === 401)
				return;
			replace(problem, errorBox(err));
		} finally {
			refresh.disabled = false;
		}
	}

	function showHealth(health) {
		const s = health.summary || {};
		replace(summary, badge(health.overall_status), ' ',
			`${s.healthy_services ?? '?'} of ${s.total_services ?? '?'} services healthy`);
		replace(services, table([
			{ label: 'Service', cell: x => h('strong', null, x.name) },
			{ label: 'State', cell: x => healthBadge(x.is_healthy) },
			{ label: 'Response time', cell: x => millis(x.response_time_ms), class: 'num' },
			{ label: 'Message', cell: x => x.message || '—' },
		], health.services || [], 'No services reported.', x => ({ dataset: { service: x.name } })));
	}

	function showSystem(info) {
		replace(system, facts([
			['Version', info.version],
			['Build', h('code', null, info.build)],
			['Host', info.host],
			['Started', when(info.started_at)],
			['Uptime', uptime(info.started_at)],
			['Request workers', info.workers],
			['Job runners', info.runners],
		]));
	}

	const timer = setInterval(load, REFRESH_MS);
	signal.addEventListener('abort', () => clearInterval(timer));
	await load();
}

// uptime(iso): "3 d 4 h 5 min" since iso.
function uptime(iso) {
	const seconds = Math.floor((Date.now() - new Date(iso).getTime()) / 1000);
	if (!Number.isFinite(seconds) || seconds < 0)
		return '—';
	const d = Math.floor(seconds / 86400);
	const hours = Math.floor(seconds % 86400 / 3600);
	const min = Math.floor(seconds % 3600 / 60);
	return [d && `${d} d`, (d || hours) && `${hours} h`, `${min} min`].filter(Boolean).join(' ');
}
