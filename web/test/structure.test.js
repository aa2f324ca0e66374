// The page's own rules, checked on its source: only src/api.js talks to the
// server, and nothing stores or logs what the person typed or was given.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const src = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'src');
const files = readdirSync(src, { recursive: true })
	.filter(f => /\.(js|jsx)$/.test(f))
	.map(f => [f, readFileSync(path.join(src, f), 'utf8')]);

test('only src/api.js calls fetch or XMLHttpRequest', () => {
	assert.ok(files.length > 5);
	for (const [f, text] of files) {
		if (f === 'api.js')
			continue;
		assert.doesNotMatch(text, /\bfetch\s*\(|XMLHttpRequest|sendBeacon|WebSocket|EventSource/, f);
	}
});

test('no storage, cookies, history, title changes or console output anywhere in the page', () => {
	for (const [f, text] of files) {
		assert.doesNotMatch(text, /localStorage|sessionStorage|indexedDB|document\.cookie|caches\./, f);
		assert.doesNotMatch(text, /history\.(push|replace)State|location\.(hash|search|href)\s*=|document\.title/, f);
		assert.doesNotMatch(text, /console\./, f);
	}
});
