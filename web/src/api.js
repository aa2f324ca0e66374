// The one module that talks to the server. Components never call fetch:
// they call this client, which holds the person's credentials in a closure
// for the tab's life (never in storage, cookies or the URL) and forgets
// them on sign-out or on any 401.
//
// Every request is POST <base><action> with a JSON body, HTTP Basic
// credentials and the custom header the server requires (a cross-site page
// cannot send it without a CORS preflight the server never grants).

export const FIELDS = ['name', 'expires', 'allow_from', 'deny_from', 'service',
	'services', 'grace', 'id', 'user', 'password', 'state', 'expiring_within',
	'unused_for', 'limit'];

// Words shown when the server gave no message for people (a proxy's HTML
// page, an empty body): never the raw body.
const STATUS_WORDS = {
	400: 'The request was refused.',
	401: 'Sign-in failed: check your user name and password.',
	403: 'You are not permitted to do this.',
	404: 'No such token.',
	413: 'The request was too large.',
	429: 'Too many requests: wait a minute and try again.',
	500: 'The server could not do this. Try again later, or ask an administrator.',
};
const FALLBACK_WORDS = 'The server could not do this. Try again later, or ask an administrator.';
const MAX_MESSAGE = 500;

export class ApiError extends Error {
	// kind: 'auth' (signed out: show the sign-in form), 'network',
	// 'signed-out' (the answer came after sign-out: ignore it), 'error'.
	constructor(message, { status = 0, field = null, kind = 'error' } = {}) {
		super(message);
		this.name = 'ApiError';
		this.status = status;
		this.field = field;
		this.kind = kind;
	}
}

// RFC 7617 with UTF-8: btoa alone takes Latin-1 only.
export function basicAuth(user, password) {
	const bytes = new TextEncoder().encode(`${user}:${password}`);
	let bin = '';
	for (const b of bytes)
		bin += String.fromCharCode(b);
	return 'Basic ' + btoa(bin);
}

function errorFromBody(status, json) {
	let message = STATUS_WORDS[status] || FALLBACK_WORDS;
	let field = null;
	if (json && typeof json === 'object' && !Array.isArray(json)) {
		if (typeof json.error === 'string' && json.error.trim() !== '')
			message = json.error.slice(0, MAX_MESSAGE);
		if (typeof json.field === 'string' && FIELDS.includes(json.field))
			field = json.field === 'services' ? 'service' : json.field;
	}
	return new ApiError(message, { status, field, kind: status === 401 ? 'auth' : 'error' });
}

function nonEmpty(v) {
	return v !== undefined && v !== null && v !== '';
}

export function createClient({ fetch: fetchImpl, base = '/apitoken/api/', onSignedOut } = {}) {
	const doFetch = fetchImpl || ((...a) => globalThis.fetch(...a));
	let creds = null;	// { user, password } while signed in
	let epoch = 0;		// bumped on every sign-in/out: stale answers are dropped

	function forget() {
		creds = null;
		epoch++;
	}

	async function request(action, body) {
		if (!creds)
			throw new ApiError('Sign in first.', { status: 401, kind: 'auth' });
		const started = epoch;
		let response;
		try {
			response = await doFetch(base + action, {
				method: 'POST',
				headers: {
					'Authorization': basicAuth(creds.user, creds.password),
					'X-Apitoken-Request': '1',
					'Content-Type': 'application/json',
					'Accept': 'application/json',
				},
				body: JSON.stringify(body),
				credentials: 'omit',	// the password travels only in our header
				cache: 'no-store',
				redirect: 'error',
				referrerPolicy: 'no-referrer',
			});
		} catch {
			if (started !== epoch)
				throw new ApiError('Signed out.', { kind: 'signed-out' });
			throw new ApiError('The server could not be reached. Check your connection and try again.',
				{ kind: 'network' });
		}
		let text = '';
		try {
			text = await response.text();
		} catch {
			text = '';
		}
		if (started !== epoch)
			throw new ApiError('Signed out.', { kind: 'signed-out' });
		let json;
		try {
			json = JSON.parse(text);
		} catch {
			json = undefined;
		}
		if (response.status === 401) {
			const err = errorFromBody(401, json);
			forget();
			if (onSignedOut)
				onSignedOut(err);
			throw err;
		}
		if (!response.ok)
			throw errorFromBody(response.status, json);
		if (json === undefined)
			throw new ApiError('The server sent an answer this page cannot read.', { status: response.status });
		if (json && typeof json === 'object' && !Array.isArray(json) && typeof json.error === 'string')
			throw errorFromBody(500, json);
		return json;
	}

	function needId(id) {
		if (typeof id !== 'string' || id === '')
			throw new ApiError('No token chosen.', { field: 'id' });
		return id;
	}

	const client = {
		get signedIn() {
			return creds !== null;
		},
		get user() {
			return creds ? creds.user : null;
		},

		// Keeps the credentials only if the server accepts them; returns the
		// person's policy (the first thing the page needs anyway).
		async signIn(user, password) {
			if (typeof user !== 'string' || user.trim() === '')
				throw new ApiError('Enter your user name.', { field: 'user' });
			if (user.includes(':'))
				throw new ApiError('A user name cannot contain ":".', { field: 'user' });
			if (typeof password !== 'string' || password === '')
				throw new ApiError('Enter your password.', { field: 'password' });
			forget();
			creds = { user: user.trim(), password };
			try {
				return await request('policy', {});
			} catch (err) {
				// Whatever went wrong, a sign-in that did not complete keeps
				// no password.
				if (err.kind !== 'signed-out')
					forget();
				throw err;
			}
		},

		signOut() {
			forget();
		},

		async policy() {
			return request('policy', {});
		},

		async list({ all, user, state, expiringWithin, unusedFor, limit } = {}) {
			const body = {};
			if (all === true)
				body.all = true;
			if (nonEmpty(user))
				body.user = user;
			if (nonEmpty(state))
				body.state = state;
			if (nonEmpty(expiringWithin))
				body.expiring_within = expiringWithin;
			if (nonEmpty(unusedFor))
				body.unused_for = unusedFor;
			if (Number.isInteger(limit) && limit > 0)
				body.limit = limit;
			return request('list', body);
		},

		async show(id) {
			return request('show', { id: needId(id) });
		},

		async create({ name, expires, allowFrom = [], services = [] }) {
			const body = { name: typeof name === 'string' ? name.trim() : '' };
			if (nonEmpty(expires))
				body.expires = expires;
			body.allow_from = allowFrom.filter(nonEmpty);
			body.services = services.filter(nonEmpty);
			return request('create', body);
		},

		// No grace: the old value stops at once (tokenadm's default).
		async rotate(id, grace) {
			const body = { id: needId(id) };
			if (nonEmpty(grace))
				body.grace = grace;
			return request('rotate', body);
		},

		async revoke(id) {
			return request('revoke', { id: needId(id) });
		},

		async disable(id) {
			return request('disable', { id: needId(id) });
		},

		async enable(id) {
			return request('enable', { id: needId(id) });
		},
	};
	return client;
}
