// Pure helpers for what the page shows (tested in test/format.test.js).

export function parseTime(iso) {
	if (typeof iso !== 'string' || iso === '')
		return null;
	const t = Date.parse(iso);
	return Number.isNaN(t) ? null : t;
}

export function formatTime(iso) {
	const t = parseTime(iso);
	if (t === null)
		return '';
	return new Date(t).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

// The date alone, for the table's narrow columns (the full time is in the
// element's title).
export function formatDate(iso) {
	const t = parseTime(iso);
	if (t === null)
		return '';
	return new Date(t).toLocaleDateString(undefined, { dateStyle: 'medium' });
}

const UNITS = [
	['year', 365 * 86400], ['month', 30 * 86400], ['week', 7 * 86400],
	['day', 86400], ['hour', 3600], ['minute', 60],
];

// "in 3 days", "5 hours ago", "just now".
export function relativeTime(iso, now = Date.now()) {
	const t = parseTime(iso);
	if (t === null)
		return '';
	const diff = Math.round((t - now) / 1000);
	const abs = Math.abs(diff);
	for (const [unit, secs] of UNITS) {
		if (abs >= secs) {
			const n = Math.floor(abs / secs);
			const words = `${n} ${unit}${n === 1 ? '' : 's'}`;
			return diff > 0 ? `in ${words}` : `${words} ago`;
		}
	}
	return diff > 0 ? 'in less than a minute' : 'just now';
}

// Inside the warning window (policy.expiry_warning_seconds) and not yet past.
export function expiresSoon(token, warningSeconds, now = Date.now()) {
	if (!token || token.state !== 'active')
		return false;
	const t = parseTime(token.expires);
	if (t === null || !(warningSeconds > 0))
		return false;
	return t > now && t - now <= warningSeconds * 1000;
}

export const STATE_WORDS = {
	active: 'Active',
	expired: 'Expired',
	revoked: 'Revoked',
	disabled: 'Disabled',
	inactive: 'Deactivated',
};

export function stateWords(state) {
	return STATE_WORDS[state] || 'Unknown';
}

// "10.0.0.0/8, local  192.0.2.1" → ["10.0.0.0/8", "local", "192.0.2.1"]
export function splitList(text) {
	if (typeof text !== 'string')
		return [];
	return text.split(/[\s,]+/).filter(s => s !== '');
}

// The lifetime a create dialog starts with: 30 days if the policy offers it
// (what GitHub and GitLab suggest), else the longest one offered.
export function defaultLifetime(lifetimes) {
	if (!Array.isArray(lifetimes) || lifetimes.length === 0)
		return '';
	const thirty = lifetimes.find(l => l.value === '30d');
	return (thirty || lifetimes[lifetimes.length - 1]).value;
}

export function policyValue(v) {
	if (v === null || v === undefined || v === '')
		return 'not set';
	if (Array.isArray(v))
		return v.length ? v.map(x => (typeof x === 'object' ? JSON.stringify(x) : String(x))).join(', ') : 'none';
	if (typeof v === 'object')
		return JSON.stringify(v);
	if (typeof v === 'boolean')
		return v ? 'yes' : 'no';
	return String(v);
}
