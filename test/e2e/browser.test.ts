/**
 * In a real browser (headless Chromium driven by Playwright): an approver opens the link from their
 * e-mail, reads the page and clicks Approve; the requester then opens the request page and finds the
 * node pool in the timeline. A prefetch of the link (a GET, as mail scanners and link previews do)
 * decides nothing.
 *
 * Needs Debian's chromium at /usr/bin/chromium (`apt-get update && apt-get install -y chromium`;
 * .ci/run installs it). Screenshots of both pages go to a temp dir, or to docs/screenshots/ with
 * UPDATE_SCREENSHOTS=1 (the README shows those).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { readOutbox, startStack, type RunningStack } from '../../local/harness/stack';
import { eventually } from '../../local/harness/poll';
import { exampleBody, getRequest, POOL, PROJECT_ID, submit, waitForStatus } from '../../local/harness/requests';

jest.setTimeout(120_000);

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
];
const SCREENSHOTS = process.env.UPDATE_SCREENSHOTS
  ? resolve(__dirname, '../../docs/screenshots')
  : mkdtempSync(join(tmpdir(), 'poolgate-screenshots-'));

let stack: RunningStack;
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `The browser test needs Debian's chromium at ${CHROMIUM}, and it is not installed.\n` +
        'Install it with:  apt-get update && apt-get install -y chromium   (CI runs this in .ci/run).',
    );
  }
  mkdirSync(SCREENSHOTS, { recursive: true });
  [stack, browser] = await Promise.all([
    startStack(),
    chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true }),
  ]);
});
afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  if (!process.env.UPDATE_SCREENSHOTS) rmSync(SCREENSHOTS, { recursive: true, force: true });
});

async function awaitingFor(approver: string): Promise<string[]> {
  const response = await fetch(`${stack.endpoints.api}/requests?awaiting=me`, {
    headers: { authorization: `Bearer ${await stack.token(approver)}` },
  });
  return ((await response.json()) as { items: Array<{ requestId: string }> }).items.map((r) => r.requestId);
}

it('approves from the e-mail link in a browser, then shows the created node pool on the request page, and a prefetch decides nothing', async () => {
  const alice = await stack.token('alice@example.com');
  const submitted = await submit(stack, alice, exampleBody('np-browser'), {
    'x-justification': 'Q4 ranking model <b>retraining</b>',
  });
  expect(submitted.status).toBe(202);
  const requestId = submitted.json.requestId as string;
  const mail = await eventually(
    () => readOutbox(stack).find((m) => m.to.includes('bob@example.com') && m.subject.includes('np-browser')),
    "bob's approval mail",
  );
  const link = mail.links[0];

  const context = await browser.newContext({ viewport: { width: 900, height: 900 } });
  try {
    // A link preview fetches the link, and a careless click opens it: both are GETs and decide nothing.
    const prefetch = await context.request.get(link);
    expect(prefetch.status()).toBe(200);
    const glance = await context.newPage();
    await glance.goto(link);
    await glance.close();
    expect((await getRequest(stack, alice, requestId)).json.status).toBe('AWAITING_APPROVAL');
    expect(await awaitingFor('bob@example.com')).toContain(requestId);
    expect((await getRequest(stack, alice, requestId)).json.steps.map((s) => s.step)).not.toContain('approved');

    const page = await context.newPage();
    const opened = await page.goto(link);
    expect(opened?.status()).toBe(200);
    await expect(page.title()).resolves.toBe('Approve node pool np-browser?');
    await page.getByRole('heading', { level: 1, name: 'Approve node pool np-browser?' }).waitFor();
    const facts = await page.locator('table').innerText();
    for (const fact of [
      PROJECT_ID,
      POOL,
      'np-browser',
      'modelarts.vm.2u4g.dcc',
      'pay-per-use',
      'Q4 ranking model <b>retraining</b>',
    ])
      expect(facts).toContain(fact);
    await page.getByLabel('Comment (optional)').fill('Approved for Q4');
    await page.screenshot({ path: join(SCREENSHOTS, 'approval-page.png'), fullPage: true });

    await Promise.all([
      page.waitForURL((url) => url.pathname.startsWith('/approvals/')),
      page.getByRole('button', { name: 'Approve' }).click(),
    ]);
    await page.getByRole('heading', { name: 'Your approval is recorded' }).waitFor();

    const done = await waitForStatus(stack, alice, requestId, 'ACTIVE');
    const pageLink = (done as unknown as { links: { page: string } }).links.page;
    const requestPage = await context.newPage();
    expect((await requestPage.goto(pageLink))?.status()).toBe(200);
    await requestPage.getByRole('heading', { level: 1, name: 'Node pool np-browser' }).waitFor();
    await expect(requestPage.getByRole('status').innerText()).resolves.toContain('ACTIVE');
    const rows = await requestPage.locator('table.timeline tbody tr').allInnerTexts();
    const row = (label: string) => rows.find((r) => r.split('\t')[1] === label)?.split('\t');
    expect(row('Approved')?.slice(2, 4)).toEqual(['ok', 'bob@example.com']);
    expect(row('Approved')?.[4]).toContain('“Approved for Q4”');
    expect(row('Node pool created')?.[2]).toBe('ok');
    expect(row('Nodes active')?.[4]).toContain('1 node(s) available');
    await expect(requestPage.getByRole('columnheader', { name: 'By' }).count()).resolves.toBe(1);
    expect(await requestPage.locator('b').count()).toBe(0);
    await requestPage.screenshot({ path: join(SCREENSHOTS, 'request-page.png'), fullPage: true });
  } finally {
    await context.close();
  }
});
