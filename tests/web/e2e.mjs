// The web page end to end (run by tests/test_web.sh): Debian's chromium,
// driven by playwright-core (no browser download), against the real Apache
// with the shipped snippet, the CGI and the setuid tokenadm.
//
// env: BASE (http://127.0.0.1:PORT), TOKEN_API (an Apache location behind
// PAM with pam_apitoken: where a token is tried), MEMBER/MEMBER_PW (in a
// permitted group, login shell nologin), ADMIN/ADMIN_PW, OUTSIDER/
// OUTSIDER_PW (in no permitted group), LEAVER (left the group: their token
// is deactivated), MEMBER_CLI_TOKEN (a token of MEMBER minted with the
// CLI, typed as the password), ARTIFACTS (screenshots), PAMCHECK (a
// command: PAMCHECK USER FAKETIME-OFFSET, the token on stdin; prints
// accepted or refused), SYSLOG (the captured syslog file).
//
// Prints TAP-like "ok N - ..." / "not ok N - ..." lines; exits 1 on any
// failure.
import { chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import { readFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';

const env = process.env;
const BASE = env.BASE;
const ART = env.ARTIFACTS;
mkdirSync(ART, { recursive: true });

let n = 0, failed = 0;
function check(ok, what) {
	n++;
	if (!ok)
		failed++;
	console.log(`${ok ? 'ok' : 'not ok'} ${n} - ${what}`);
	return ok;
}

// A token tried as the password at the Apache location behind PAM.
async function tokenStatus(user, token) {
	const r = await fetch(env.TOKEN_API, {
		headers: { Authorization: 'Basic ' + Buffer.from(`${user}:${token}`).toString('base64') },
	});
	return r.status;
}

// The same through pamtester at a shifted clock (faketime).
function pamAt(user, token, offset) {
	return execFileSync('bash', ['-c', env.PAMCHECK + ' "$@"', '_', user, offset],
		{ input: token + '\n' }).toString().trim();
}

async function shot(page, name) {
	await page.screenshot({ path: path.join(ART, `${name}.png`), fullPage: true });
}

const browser = await chromium.launch({
	executablePath: '/usr/bin/chromium',
	// The suite runs as root, where Chromium's own sandbox cannot start.
	args: ['--no-sandbox'],
	headless: true,
});
const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
context.setDefaultTimeout(20000);
const page = await context.newPage();
const cspErrors = [];
page.on('console', m => {
	if (m.type() === 'error' && /Content.Security.Policy/i.test(m.text()))
		cspErrors.push(m.text());
});

async function signIn(user, password) {
	await page.goto(`${BASE}/apitoken/`);
	await page.getByLabel('User name').fill(user);
	await page.getByLabel('Password').fill(password);
	await page.getByRole('button', { name: 'Sign in' }).click();
}
async function signOut() {
	await page.getByRole('button', { name: 'Sign out' }).click();
	await page.getByRole('button', { name: 'Sign in' }).waitFor();
}

// Every focusable control in the accessibility tree has a name.
async function unnamedControls() {
	const cdp = await context.newCDPSession(page);
	const { nodes } = await cdp.send('Accessibility.getFullAXTree');
	await cdp.detach();
	const roles = new Set(['button', 'textbox', 'combobox', 'checkbox', 'link', 'radio',
		'menuitem', 'spinbutton', 'switch', 'tab', 'searchbox', 'listbox', 'slider']);
	return nodes.filter(x => !x.ignored && x.role && roles.has(x.role.value) &&
		!(x.name && typeof x.name.value === 'string' && x.name.value.trim() !== ''))
		.map(x => x.role.value);
}

// The secret must be nowhere in the page once the dialog is closed: not
// in the DOM (markup or input values), the title, the URL or storage.
async function traces(secret) {
	return page.evaluate(s => {
		const where = [];
		if (document.documentElement.outerHTML.includes(s)) where.push('DOM');
		for (const el of document.querySelectorAll('input, textarea'))
			if (el.value.includes(s)) where.push('input value');
		if (document.title.includes(s)) where.push('title');
		if (location.href.includes(s)) where.push('URL');
		for (const st of [localStorage, sessionStorage])
			for (let i = 0; i < st.length; i++)
				if ((st.getItem(st.key(i)) || '').includes(s)) where.push('storage');
		return where;
	}, secret);
}

function row(name) {
	return page.getByRole('row').filter({ hasText: name });
}

// The rotated token's grace, checked at a shifted clock last of all (a
// login at +2h records a last use in the future, which the screenshots
// before it need not show).
let graceCheck = null;

try {
	// ---- a member whose login shell is nologin ----
	await signIn(env.MEMBER, env.MEMBER_PW);
	await page.getByRole('heading', { name: 'Your API tokens' }).waitFor();
	check(true, 'a member (login shell nologin) signs in with their password');
	await page.getByTestId('token-table').or(page.getByTestId('no-tokens')).first().waitFor();
	await shot(page, '01-member-tokens');
	check((await unnamedControls()).length === 0,
		`every control has an accessible name (signed in): ${await unnamedControls()}`);

	// Create with the keyboard alone: Tab to "Create token", Enter, type.
	let reached = false;
	for (let i = 0; i < 40 && !reached; i++) {
		await page.keyboard.press('Tab');
		reached = await page.evaluate(() => document.activeElement &&
			document.activeElement.textContent.trim() === 'Create token');
	}
	check(reached, 'the keyboard reaches "Create token"');
	await page.keyboard.press('Enter');
	const create = page.getByRole('dialog');
	await create.waitFor();
	check((await unnamedControls()).length === 0,
		`every control has an accessible name (create dialog): ${await unnamedControls()}`);
	await shot(page, '02-create-dialog');
	// Focus to the name field by keyboard, wherever the dialog put it.
	for (let i = 0; i < 10; i++) {
		if (await page.evaluate(() => document.activeElement && document.activeElement.id === 'create-name'))
			break;
		await page.keyboard.press('Tab');
	}
	await page.keyboard.type('laptop');
	await page.keyboard.press('Enter');
	const secretBox = page.locator('#secret-value');
	await secretBox.waitFor();
	const tok1 = await secretBox.inputValue();
	check(/^[A-Za-z0-9]+_[A-Za-z0-9]{12}_/.test(tok1), 'created with the keyboard alone; the dialog shows the value');
	check((await unnamedControls()).length === 0,
		`every control has an accessible name (secret dialog): ${await unnamedControls()}`);
	await shot(page, '03-token-shown-once');
	check(await tokenStatus(env.MEMBER, tok1) === 200, 'the token from the dialog logs in through PAM (Apache): 200');
	await page.getByRole('button', { name: 'Done' }).click();
	await page.getByRole('dialog').waitFor({ state: 'detached' });
	await row('laptop').first().waitFor();
	const left = await traces(tok1);
	check(left.length === 0, `after "Done" the token is not in the page (${left.join(', ') || 'nowhere'})`);
	await shot(page, '04-member-list');

	// Revoke (confirmation names the token).
	const id1 = tok1.split('_')[1];
	await page.getByRole('button', { name: `Revoke laptop (${id1})` }).click();
	const confirm = page.getByRole('dialog');
	check((await confirm.textContent()).includes('laptop'), 'the revoke confirmation names the token');
	await shot(page, '05-revoke-confirm');
	await confirm.getByRole('button', { name: /Revoke/ }).click();
	await confirm.waitFor({ state: 'detached' });
	await row('laptop').getByTestId('token-state').filter({ hasText: /revoked/i }).first().waitFor();
	check(await tokenStatus(env.MEMBER, tok1) === 401, 'after revoking in the page the same login is refused: 401');

	// Rotate with a grace of 1 hour.
	await page.getByTestId('create-button').click();
	await page.getByLabel('Name').fill('ci-runner');
	await page.getByRole('dialog').getByRole('button', { name: 'Create' }).click();
	await secretBox.waitFor();
	const old = await secretBox.inputValue();
	await page.getByRole('button', { name: 'Done' }).click();
	await page.getByRole('dialog').waitFor({ state: 'detached' });
	const id2 = old.split('_')[1];
	await page.getByRole('button', { name: `Rotate ci-runner (${id2})` }).click();
	await page.getByLabel('Old value keeps working for').selectOption('1h');
	await shot(page, '06-rotate-dialog');
	await page.getByRole('dialog').getByRole('button', { name: 'Rotate' }).click();
	await page.locator('#secret-value').waitFor();
	const fresh = await page.locator('#secret-value').inputValue();
	check(fresh !== old && fresh.split('_')[1] === id2, 'rotate shows a new value for the same id');
	await page.getByRole('button', { name: 'Done' }).click();
	await page.getByRole('dialog').waitFor({ state: 'detached' });
	check((await traces(fresh)).length === 0, 'after "Done" the rotated value is not in the page');
	check(await tokenStatus(env.MEMBER, fresh) === 200, 'the new value logs in: 200');
	check(await tokenStatus(env.MEMBER, old) === 200, 'the old value still logs in within its grace: 200');
	graceCheck = () => {
		check(pamAt(env.MEMBER, old, '+2h') === 'refused', 'two hours later (faketime, pamtester) the old value is refused');
		check(pamAt(env.MEMBER, fresh, '+2h') === 'accepted', 'two hours later the new value is accepted');
	};
	await signOut();
	check((await traces(fresh)).length === 0 && !(await page.content()).includes(env.MEMBER_PW),
		'after sign-out neither the password nor a token is in the page');

	// ---- an administrator ----
	await signIn(env.ADMIN, env.ADMIN_PW);
	await page.getByRole('heading', { name: 'All API tokens' }).waitFor();
	await row('ci-runner').first().waitFor();
	check(await row('ci-runner').filter({ hasText: env.MEMBER }).count() > 0,
		"the administrator sees the member's token");
	const gone = row('left-group');
	await gone.first().waitFor();
	const state = await gone.getByTestId('token-state').first().textContent();
	const reason = await gone.getByTestId('token-reason').first().textContent().catch(() => '');
	check(/deactivated|inactive/i.test(state) && reason.trim() !== '',
		`a deactivated token is marked, with its reason ("${state}": "${reason}")`);
	check((await unnamedControls()).length === 0,
		`every control has an accessible name (administrator): ${await unnamedControls()}`);
	await shot(page, '07-admin-all-tokens');
	await signOut();

	// ---- a person who may not hold tokens ----
	await signIn(env.OUTSIDER, env.OUTSIDER_PW);
	await page.getByTestId('why-not').waitFor();
	// The list still loads below the notice: shoot the settled page, not a spinner.
	await page.getByTestId('token-table').or(page.getByTestId('no-tokens')).first().waitFor();
	check(await page.getByTestId('create-button').count() === 0,
		'a user without permission sees why, and no create button');
	await shot(page, '08-no-permission');
	await signOut();

	// ---- refused sign-ins ----
	await signIn(env.MEMBER, 'not-' + env.MEMBER_PW);
	await page.getByTestId('signin-error').waitFor();
	check(await page.getByRole('heading', { name: 'Your API tokens' }).count() === 0,
		'a wrong password is refused');
	await shot(page, '09-wrong-password');
	const log = readFileSync(env.SYSLOG, 'utf8');
	check(new RegExp(`authentication failure.*rhost=127\\.0\\.0\\.1.*user=${env.MEMBER}`).test(log),
		'the failed sign-in is logged (pam_unix style, with rhost)');
	check(!log.includes(env.MEMBER_PW), 'the log holds no password');
	await signIn(env.MEMBER, env.MEMBER_CLI_TOKEN);
	await page.getByTestId('signin-error').waitFor();
	check(await page.getByRole('heading', { name: 'Your API tokens' }).count() === 0,
		'an API token typed as the password is refused');
	check(cspErrors.length === 0, `no Content-Security-Policy violations (${cspErrors.length})`);
	if (check(graceCheck !== null, 'the rotation happened'))
		graceCheck();
} catch (e) {
	check(false, `the walk through the page stopped: ${e.message.split('\n')[0]}`);
	await shot(page, 'zz-failure').catch(() => {});
} finally {
	await browser.close();
}
console.log(`${n - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
