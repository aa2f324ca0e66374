import { test } from 'node:test';
import assert from 'node:assert/strict';
import { relativeTime, expiresSoon, splitList, defaultLifetime, stateWords, policyValue, formatTime } from '../src/format.js';

const NOW = Date.parse('2025-06-01T12:00:00Z');

test('relativeTime', () => {
	assert.equal(relativeTime('2025-06-04T12:00:00Z', NOW), 'in 3 days');
	assert.equal(relativeTime('2025-06-01T07:00:00Z', NOW), '5 hours ago');
	assert.equal(relativeTime('2025-06-01T12:00:10Z', NOW), 'in less than a minute');
	assert.equal(relativeTime(null, NOW), '');
	assert.equal(relativeTime('garbage', NOW), '');
	assert.equal(formatTime(null), '');
});

test('expiresSoon: only active tokens inside the warning window', () => {
	const w = 14 * 86400;
	assert.equal(expiresSoon({ state: 'active', expires: '2025-06-10T00:00:00Z' }, w, NOW), true);
	assert.equal(expiresSoon({ state: 'active', expires: '2025-07-10T00:00:00Z' }, w, NOW), false);
	assert.equal(expiresSoon({ state: 'active', expires: null }, w, NOW), false);
	assert.equal(expiresSoon({ state: 'revoked', expires: '2025-06-10T00:00:00Z' }, w, NOW), false);
	assert.equal(expiresSoon({ state: 'active', expires: '2025-05-10T00:00:00Z' }, w, NOW), false);
	assert.equal(expiresSoon({ state: 'active', expires: '2025-06-10T00:00:00Z' }, 0, NOW), false);
});

test('splitList, defaultLifetime, stateWords, policyValue', () => {
	assert.deepEqual(splitList(' 10.0.0.0/8, local\n192.0.2.1 ,'), ['10.0.0.0/8', 'local', '192.0.2.1']);
	assert.deepEqual(splitList(''), []);
	assert.equal(defaultLifetime([{ value: '7d' }, { value: '30d' }, { value: '90d' }]), '30d');
	assert.equal(defaultLifetime([{ value: '1d' }, { value: '7d' }]), '7d');
	assert.equal(defaultLifetime([]), '');
	assert.equal(stateWords('inactive'), 'Deactivated');
	assert.equal(stateWords('<b>'), 'Unknown');
	assert.equal(policyValue(['sshd', 'apitoken-web']), 'sshd, apitoken-web');
	assert.equal(policyValue(null), 'not set');
	assert.equal(policyValue(true), 'yes');
});
