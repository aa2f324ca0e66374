// Drives Debian's chromium through the page served by dev/fake-server.mjs and
// saves a screenshot of each state in /tmp/webui-shots (a look, not a test:
// the end-to-end test runs against the real Apache). Needs playwright-core:
//   node web/dev/fake-server.mjs 8377 & node web/dev/look.mjs
import { chromium } from 'playwright-core';
const base = process.argv[2] || 'http://127.0.0.1:8377/apitoken/';
const out = process.env.SHOTS || '/tmp/webui-shots';
await import('node:fs').then(fs => fs.mkdirSync(out, { recursive: true }));
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
const logs = [];
page.on('console', m => logs.push(m.type() + ': ' + m.text()));
page.on('pageerror', e => logs.push('pageerror: ' + e.message));
async function signIn(user, pw) {
	await page.goto(base);
	await page.getByLabel('User name').fill(user);
	await page.getByLabel('Password').fill(pw);
	await page.getByRole('button', { name: 'Sign in' }).click();
}
await page.goto(base);
await page.screenshot({ path: `${out}/01-signin.png` });
await signIn('alice', 'wrong');
await page.getByTestId('signin-error').waitFor();
await page.screenshot({ path: `${out}/02-signin-failed.png` });
await signIn('alice', 'alice');
await page.getByTestId('token-table').waitFor();
await page.screenshot({ path: `${out}/03-alice-list.png`, fullPage: true });
// keyboard-only create
await page.getByTestId('create-button').focus();
await page.keyboard.press('Enter');
await page.waitForFunction(() => document.activeElement && document.activeElement.id === 'create-name');
await page.keyboard.type('mail on my phone');
await page.keyboard.press('Enter');
await page.getByText('You already have a token').waitFor();
await page.screenshot({ path: `${out}/04-create-refused.png` });
await page.keyboard.press('Control+A');
await page.keyboard.type('kbd token');
await page.keyboard.press('Enter');
await page.getByTestId('secret-dialog').waitFor();
const value = await page.locator('#secret-value').inputValue();
console.log('token value', value.slice(0, 12) + '…', 'focused:', await page.evaluate(() => document.activeElement.id));
await page.screenshot({ path: `${out}/05-secret.png` });
await page.getByRole('button', { name: 'Done' }).click();
await page.getByTestId('secret-dialog').waitFor({ state: 'detached' });
const html = await page.content();
console.log('value in DOM after Done:', html.includes(value), 'title:', await page.title(), 'url:', page.url());
await page.getByRole('button', { name: /^Revoke kbd token/ }).click();
await page.screenshot({ path: `${out}/06-revoke-confirm.png` });
await page.getByRole('dialog').getByRole('button', { name: 'Revoke' }).click();
await page.getByRole('button', { name: /^Rotate ci deploy/ }).click();
await page.screenshot({ path: `${out}/07-rotate.png` });
await page.getByRole('dialog').getByRole('button', { name: 'Rotate' }).click();
await page.getByTestId('secret-dialog').waitFor();
await page.screenshot({ path: `${out}/08-rotated.png` });
await page.keyboard.press('Escape');
await page.getByTestId('secret-dialog').waitFor({ state: 'detached' });
await page.screenshot({ path: `${out}/09-after.png`, fullPage: true });
// unnamed controls
const unnamed = await page.evaluate(() => [...document.querySelectorAll('button, input, select, textarea, a[href]')]
	.filter(e => !(e.getAttribute('aria-label') || e.labels?.length || e.getAttribute('aria-labelledby') || e.textContent.trim() || e.title))
	.map(e => e.outerHTML.slice(0, 120)));
console.log('unnamed controls:', unnamed);
await page.getByRole('button', { name: 'Sign out' }).click();
await signIn('nobody', 'nobody');
await page.getByTestId('why-not').waitFor();
await page.screenshot({ path: `${out}/10-nobody.png` });
await page.getByRole('button', { name: 'Sign out' }).click();
await signIn('admin', 'admin');
await page.getByTestId('token-table').waitFor();
await page.getByText('Effective policy').click();
await page.screenshot({ path: `${out}/11-admin.png`, fullPage: true });
await page.getByLabel('Filter by state').selectOption('inactive');
await page.getByRole('button', { name: 'Apply filters' }).click();
await page.waitForTimeout(300);
await page.screenshot({ path: `${out}/12-admin-filtered.png` });
console.log('logs:', logs);
await browser.close();
