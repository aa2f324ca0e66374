#!/usr/bin/env node
// A stand-in for the real CGI, to look at the page without Apache or
// tokenadm: serves DIST at /apitoken/ and a fake JSON API at /apitoken/api/
// on 127.0.0.1 only, with the same request rules (POST, custom header,
// Basic credentials, {error, field} errors). Never for production.
//   node web/dev/fake-server.mjs [PORT] [DIST] [--import-only]
// Users: alice/alice (may hold tokens), admin/admin (administrator),
// nobody/nobody (may not hold tokens).
import http from 'node:http';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2).filter(a => !a.startsWith('--'));
const port = Number(args[0] || 8377);
const dist = path.resolve(args[1] || path.join(here, '..', 'dist'));
const role = process.argv.includes('--import-only') ? 'import-only' : 'authority';

const DAY = 86400e3;
const iso = ms => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
const now = Date.now();
const users = {
	alice: { password: 'alice', admin: false, may_hold: true },
	admin: { password: 'admin', admin: true, may_hold: true },
	nobody: { password: 'nobody', admin: false, may_hold: false },
};
const tok = (id, user, name, o = {}) => ({
	id, user, name, created: iso(now - 40 * DAY), expires: iso(now + 60 * DAY), last_used: null,
	last_rhost: null, state: 'active', reason: null, services: [], allow_from: [], deny_from: [],
	disabled_by_admin: false, ...o,
});
const tokens = [
	tok('a1b2c3d4', 'alice', 'mail on my phone', { last_used: iso(now - 3600e3), last_rhost: '192.0.2.44', services: ['imap'] }),
	tok('e5f6a7b8', 'alice', 'ci deploy', { expires: iso(now + 5 * DAY), allow_from: ['10.0.0.0/8'] }),
	tok('c9d0e1f2', 'alice', 'old laptop', { state: 'revoked', reason: 'revoked' }),
	tok('a3b4c5d6', 'alice', 'backup script', { state: 'disabled', reason: 'disabled by its owner' }),
	tok('f7a8b9c0', 'bob', 'calendar sync', { state: 'inactive', reason: 'bob is no longer in a permitted group (apitoken-users)', last_used: iso(now - 100 * DAY), last_rhost: '198.51.100.7' }),
	tok('d1e2f3a4', 'carol', 'build bot', { state: 'expired', reason: 'expired', expires: iso(now - 2 * DAY) }),
];

function policy(user) {
	const u = users[user];
	return {
		user, uid: 1000, admin: u.admin, role, may_hold: u.may_hold,
		why_not: u.may_hold ? null : 'Only members of the group apitoken-users may hold API tokens, and nobody is not one.',
		max_lifetime: '90d', max_lifetime_seconds: 90 * 86400,
		lifetimes: [{ label: '1 day', value: '1d' }, { label: '7 days', value: '7d' }, { label: '30 days', value: '30d' }, { label: '90 days', value: '90d' }],
		max_tokens_per_user: 10, tokens_held: tokens.filter(t => t.user === user && t.state !== 'revoked').length,
		expiry_warning_seconds: 14 * 86400, deny_services: ['sshd', 'apitoken-web'], services_allowed_to_name: null,
		...(u.admin ? { policy: { allowed_groups: ['apitoken-users'], admin_group: 'apitoken-admins', max_lifetime: '90d', max_tokens_per_user: 10, deny_services: ['sshd', 'apitoken-web'], role } } : {}),
	};
}

const fail = (res, status, error, field = null) => send(res, status, { error, exit: 1, field });
function send(res, status, body) {
	res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
	res.end(JSON.stringify(body));
}
const durSecs = d => { const m = /^([1-9]\d*)([mhdw])$/.exec(d || ''); return m ? m[1] * { m: 60, h: 3600, d: 86400, w: 604800 }[m[2]] : null; };

function api(action, user, body, res) {
	const u = users[user];
	const mine = t => u.admin || t.user === user;
	const find = () => tokens.find(t => t.id === body.id && mine(t));
	switch (action) {
	case 'policy': return send(res, 200, policy(user));
	case 'list': {
		let rows = tokens.filter(t => (u.admin && body.all) ? true : t.user === (u.admin && body.user ? body.user : user));
		if (body.state) rows = rows.filter(t => t.state === body.state);
		if (body.expiring_within) rows = rows.filter(t => t.expires && Date.parse(t.expires) - now < durSecs(body.expiring_within) * 1e3);
		if (body.unused_for) rows = rows.filter(t => !t.last_used || now - Date.parse(t.last_used) > durSecs(body.unused_for) * 1e3);
		return send(res, 200, rows.slice(0, body.limit || 1e9));
	}
	case 'show': { const t = find(); return t ? send(res, 200, t) : fail(res, 404, 'No such token.', 'id'); }
	case 'create': {
		if (!u.may_hold || role !== 'authority') return fail(res, 403, 'You may not create tokens.');
		if (!body.name) return fail(res, 400, 'A token needs a name.', 'name');
		if (tokens.some(t => t.user === user && t.name === body.name && t.state !== 'revoked'))
			return fail(res, 400, `You already have a token named "${body.name}".`, 'name');
		if ((body.allow_from || []).some(a => !/^[0-9a-f.:/]+$|^local$/i.test(a)))
			return fail(res, 400, 'Not an address or network.', 'allow_from');
		const t = tok(randomBytes(4).toString('hex'), user, body.name, { created: iso(Date.now()), expires: iso(Date.now() + durSecs(body.expires) * 1e3), allow_from: body.allow_from || [], services: body.services || [] });
		tokens.unshift(t);
		return send(res, 200, { id: t.id, token: `apt_${t.id}_${randomBytes(24).toString('base64url')}`, user, name: t.name, expires: t.expires });
	}
	case 'rotate': {
		const t = find(); if (!t) return fail(res, 404, 'No such token.', 'id');
		const g = body.grace ? durSecs(body.grace) : 0;
		return send(res, 200, { id: t.id, token: `apt_${t.id}_${randomBytes(24).toString('base64url')}`, user: t.user, name: t.name, expires: t.expires, previous_valid_until: g ? iso(Date.now() + g * 1e3) : null });
	}
	case 'revoke': case 'disable': case 'enable': {
		const t = find(); if (!t) return fail(res, 404, 'No such token.', 'id');
		t.state = { revoke: 'revoked', disable: 'disabled', enable: 'active' }[action];
		t.reason = t.state === 'active' ? null : `${t.state} by ${user}`;
		t.disabled_by_admin = action === 'disable' && u.admin && t.user !== user;
		return send(res, 200, { id: t.id, state: t.state });
	}
	default: return fail(res, 404, 'No such action.');
	}
}

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.woff2': 'font/woff2', '.txt': 'text/plain' };
http.createServer(async (req, res) => {
	const url = new URL(req.url, 'http://x');
	const m = /^\/apitoken\/api\/([a-z]+)$/.exec(url.pathname);
	if (m) {
		if (req.method !== 'POST' || req.headers['x-apitoken-request'] !== '1')
			return fail(res, 403, 'Refused: not from this page.');
		const [scheme, b64] = (req.headers.authorization || '').split(' ');
		const [user, ...pw] = scheme === 'Basic' ? Buffer.from(b64 || '', 'base64').toString('utf8').split(':') : [];
		if (!users[user] || users[user].password !== pw.join(':'))
			return fail(res, 401, 'Sign-in failed: wrong user name or password.', 'password');
		let data = '';
		for await (const c of req) data += c;
		let body;
		try { body = JSON.parse(data); } catch { return fail(res, 400, 'Bad request.'); }
		return api(m[1], user, body, res);
	}
	if (!url.pathname.startsWith('/apitoken/')) { res.writeHead(302, { Location: '/apitoken/' }); return res.end(); }
	const rel = url.pathname.slice('/apitoken/'.length) || 'index.html';
	const file = path.join(dist, path.normalize(rel));
	if (!file.startsWith(dist)) { res.writeHead(404); return res.end(); }
	try {
		const data = await readFile(file);
		res.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] || 'application/octet-stream' });
		res.end(data);
	} catch { res.writeHead(404); res.end(); }
}).listen(port, '127.0.0.1', () => console.log(`fake API and page on http://127.0.0.1:${port}/apitoken/ (${role})`));
