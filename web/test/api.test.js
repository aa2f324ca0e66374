// Unit tests of the page's only server client (src/api.js), with a fake
// fetch that records each request and answers from a script.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createClient, basicAuth, ApiError } from '../src/api.js';

function fakeFetch(answers = []) {
	const calls = [];
	const f = async (url, init) => {
		calls.push({ url, init, body: JSON.parse(init.body) });
		const a = answers.length > 1 ? answers.shift() : answers[0] || { status: 200, body: {} };
		if (a.throw)
			throw new TypeError('network down');
		const text = typeof a.body === 'string' ? a.body : JSON.stringify(a.body);
		return {
			status: a.status,
			ok: a.status >= 200 && a.status < 300,
			text: async () => text,
		};
	};
	f.calls = calls;
	return f;
}

const POLICY = { user: 'alice', admin: false, role: 'authority', may_hold: true, lifetimes: [] };

async function signedIn(answers = [{ status: 200, body: POLICY }]) {
	const fetch = fakeFetch(answers);
	const signedOut = [];
	const client = createClient({ fetch, onSignedOut: e => signedOut.push(e) });
	await client.signIn('alice', 'pässword:1');
	return { fetch, client, signedOut };
}

test('basicAuth encodes user:password as UTF-8 base64', () => {
	assert.equal(basicAuth('alice', 'secret'), 'Basic ' + Buffer.from('alice:secret').toString('base64'));
	assert.equal(basicAuth('zoë', 'pässword:1'), 'Basic ' + Buffer.from('zoë:pässword:1', 'utf8').toString('base64'));
});

test('every request is a POST to /apitoken/api/<action> with the three headers and no cookies', async () => {
	const { fetch } = await signedIn();
	assert.equal(fetch.calls.length, 1);
	const { url, init, body } = fetch.calls[0];
	assert.equal(url, '/apitoken/api/policy');
	assert.equal(init.method, 'POST');
	assert.equal(init.headers['Authorization'], basicAuth('alice', 'pässword:1'));
	assert.equal(init.headers['X-Apitoken-Request'], '1');
	assert.equal(init.headers['Content-Type'], 'application/json');
	assert.equal(init.credentials, 'omit');
	assert.equal(init.cache, 'no-store');
	assert.deepEqual(body, {});
	assert.ok(!url.includes('pässword'), 'password never in the URL');
});

test('signIn returns the policy and keeps the user', async () => {
	const fetch = fakeFetch([{ status: 200, body: POLICY }]);
	const client = createClient({ fetch });
	assert.equal(client.signedIn, false);
	const p = await client.signIn(' alice ', 'pw');
	assert.deepEqual(p, POLICY);
	assert.equal(client.signedIn, true);
	assert.equal(client.user, 'alice');
});

test('signIn refuses empty fields and a ":" in the user name without asking the server', async () => {
	const fetch = fakeFetch();
	const client = createClient({ fetch });
	await assert.rejects(client.signIn('', 'pw'), e => e.field === 'user');
	await assert.rejects(client.signIn('a:b', 'pw'), e => e.field === 'user');
	await assert.rejects(client.signIn('alice', ''), e => e.field === 'password');
	assert.equal(fetch.calls.length, 0);
	assert.equal(client.signedIn, false);
});

test('signOut forgets the credentials: nothing more is sent, with or without them', async () => {
	const { fetch, client } = await signedIn();
	client.signOut();
	assert.equal(client.signedIn, false);
	assert.equal(client.user, null);
	await assert.rejects(client.list(), e => e instanceof ApiError && e.kind === 'auth');
	assert.equal(fetch.calls.length, 1, 'no request after sign-out');
	// The client object holds nothing that spells the password.
	assert.ok(!JSON.stringify(client).includes('pässword'));
});

test('a 401 forgets the password, reports the sign-out, and carries the message', async () => {
	const { fetch, client, signedOut } = await signedIn([
		{ status: 200, body: POLICY },
		{ status: 401, body: { error: 'Sign-in failed.', field: 'password' } },
	]);
	await assert.rejects(client.list(), e => e.kind === 'auth' && e.status === 401 &&
		e.message === 'Sign-in failed.' && e.field === 'password');
	assert.equal(client.signedIn, false);
	assert.equal(signedOut.length, 1);
	await assert.rejects(client.policy(), e => e.kind === 'auth');
	assert.equal(fetch.calls.length, 2);
});

test('a failed sign-in keeps no password', async () => {
	for (const answer of [{ status: 401, body: { error: 'Wrong user name or password.', field: 'password' } },
		{ status: 500, body: 'x' }, { throw: true }]) {
		const fetch = fakeFetch([answer, { status: 200, body: [] }]);
		const client = createClient({ fetch });
		await assert.rejects(client.signIn('alice', 'pw'));
		assert.equal(client.signedIn, false);
		await assert.rejects(client.list(), e => e.kind === 'auth');
		assert.equal(fetch.calls.length, 1);
	}
});

test('error statuses map to ApiError with the server message and field', async () => {
	const { client } = await signedIn([
		{ status: 200, body: POLICY },
		{ status: 400, body: { error: 'A token named "ci" exists already.', field: 'name', exit: 1 } },
	]);
	await assert.rejects(client.create({ name: 'ci' }), e => e instanceof ApiError &&
		e.status === 400 && e.field === 'name' && e.message === 'A token named "ci" exists already.' &&
		e.kind === 'error');
	assert.equal(client.signedIn, true, 'other errors keep the sign-in');
});

test('an unknown field is dropped; "services" is reported as "service"', async () => {
	const { client } = await signedIn([
		{ status: 200, body: POLICY },
		{ status: 400, body: { error: 'x', field: 'onclick' } },
		{ status: 400, body: { error: 'y', field: 'services' } },
	]);
	await assert.rejects(client.create({ name: 'a' }), e => e.field === null);
	await assert.rejects(client.create({ name: 'a' }), e => e.field === 'service');
});

test('a body that is not the server JSON becomes words for people, never the raw body', async () => {
	const raw = '<html><body>Internal Server Error at /usr/lib/cgi-bin</body></html>';
	for (const [status, words] of [[500, /could not do this/], [403, /not permitted/], [404, /No such token/],
		[413, /too large/], [429, /Too many requests/], [502, /could not do this/]]) {
		const { client } = await signedIn([{ status: 200, body: POLICY }, { status, body: raw }]);
		await assert.rejects(client.show('t1'), e => {
			assert.match(e.message, words);
			assert.ok(!e.message.includes('<html>'));
			assert.equal(e.status, status);
			return true;
		});
	}
	const { client } = await signedIn([{ status: 200, body: POLICY }, { status: 200, body: 'not json' }]);
	await assert.rejects(client.policy(), e => /cannot read/.test(e.message));
});

test('a network failure is an ApiError of kind network and keeps the sign-in', async () => {
	const { client } = await signedIn([{ status: 200, body: POLICY }, { throw: true }]);
	await assert.rejects(client.list(), e => e.kind === 'network');
	assert.equal(client.signedIn, true);
});

test('an answer that arrives after sign-out is dropped', async () => {
	let release;
	const gate = new Promise(r => { release = r; });
	const fetch = async (url, init) => {
		if (url.endsWith('/list')) {
			await gate;
			return { status: 200, ok: true, text: async () => '[{"id":"x"}]' };
		}
		return { status: 200, ok: true, text: async () => JSON.stringify(POLICY) };
	};
	const client = createClient({ fetch });
	await client.signIn('alice', 'pw');
	const pending = client.list();
	client.signOut();
	release();
	await assert.rejects(pending, e => e.kind === 'signed-out');
});

test('body shape per action', async () => {
	const { fetch, client } = await signedIn([{ status: 200, body: POLICY }, { status: 200, body: {} }]);
	await client.policy();
	await client.list();
	await client.list({ all: true, user: 'bob', state: 'inactive', expiringWithin: '7d', unusedFor: '90d', limit: 500 });
	await client.list({ all: false, user: '', state: '', limit: 0 });
	await client.show('abc');
	await client.create({ name: ' ci deploy ', expires: '30d', allowFrom: ['10.0.0.0/8', ''], services: ['imap'] });
	await client.create({ name: 'x' });
	await client.rotate('abc', '1d');
	await client.rotate('abc', '');
	await client.revoke('abc');
	await client.disable('abc');
	await client.enable('abc');
	const got = fetch.calls.slice(1).map(c => [c.url.replace('/apitoken/api/', ''), c.body]);
	assert.deepEqual(got, [
		['policy', {}],
		['list', {}],
		['list', { all: true, user: 'bob', state: 'inactive', expiring_within: '7d', unused_for: '90d', limit: 500 }],
		['list', {}],
		['show', { id: 'abc' }],
		['create', { name: 'ci deploy', expires: '30d', allow_from: ['10.0.0.0/8'], services: ['imap'] }],
		['create', { name: 'x', allow_from: [], services: [] }],
		['rotate', { id: 'abc', grace: '1d' }],
		['rotate', { id: 'abc' }],
		['revoke', { id: 'abc' }],
		['disable', { id: 'abc' }],
		['enable', { id: 'abc' }],
	]);
	for (const c of fetch.calls)
		assert.equal(c.init.headers['X-Apitoken-Request'], '1');
});

test('an action on no token is refused before any request', async () => {
	const { fetch, client } = await signedIn();
	for (const f of ['show', 'revoke', 'disable', 'enable', 'rotate'])
		await assert.rejects(client[f](''), e => e.field === 'id');
	assert.equal(fetch.calls.length, 1);
});

test('the base path can be changed', async () => {
	const fetch = fakeFetch([{ status: 200, body: POLICY }]);
	const client = createClient({ fetch, base: '/other/api/' });
	await client.signIn('alice', 'pw');
	assert.equal(fetch.calls[0].url, '/other/api/policy');
});
