/**
 * In a real browser (headless Chromium driven by Playwright): an approver opens the link from their
 * e-mail, reads the page and clicks Approve; the requester then opens the request page and finds the
 * node pool in the timeline. A prefetch of the link (a GET, as mail scanners and link previews do)
 * decides nothing. Both pages fit a phone (390 x 844) and a laptop (1280 x 900) with hard content:
 * a 32-character project id, a 2,000-character justification, an earlier stage's decision with a
 * long comment.
 *
 * Needs Debian's chromium at /usr/bin/chromium (`apt-get update && apt-get install -y chromium`;
 * .ci/run installs it). Screenshots of both pages at both sizes go to a temp dir, or to
 * docs/screenshots/ with UPDATE_SCREENSHOTS=1 (the README shows those).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
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
const PHONE = { width: 390, height: 844 };
const LAPTOP = { width: 1280, height: 900 };

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
  // The default policy, with a list price so that approvers see an estimate.
  const policy = JSON.parse(readFileSync(resolve(__dirname, '../../poolgate.config.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  policy.pricing = { 'modelarts.vm.2u4g.dcc': { hourly: 0.42, currency: 'USD' } };
  [stack, browser] = await Promise.all([
    startStack({ policy }),
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

async function approvalLink(approver: string, nodePool: string): Promise<string> {
  const mail = await eventually(
    () => readOutbox(stack).find((m) => m.to.includes(approver) && m.subject.includes(`node pool ${nodePool} `)),
    `${approver}'s approval mail for ${nodePool}`,
  );
  return mail.links[0];
}

/** Elements whose right edge is beyond the viewport (what makes a phone scroll sideways). */
async function overflowing(page: Page): Promise<string[]> {
  // A string, evaluated in the page (this project compiles without the DOM library).
  return page.evaluate<string[]>(`(() => {
    const width = document.documentElement.clientWidth;
    const wide = [...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > width + 0.5);
    const scroll = document.documentElement.scrollWidth > width ? ['page ' + document.documentElement.scrollWidth + 'px'] : [];
    return [...scroll, ...wide.map((e) => e.tagName.toLowerCase() + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right) + 'px')];
  })()`);
}

/** Where a button is on the first screen, and its colour. */
async function button(page: Page, name: string) {
  const locator = page.getByRole('button', { name, exact: true });
  const box = await locator.boundingBox();
  // Runs in the page: only the function's own text travels there (no closure, no DOM typings here).
  const [background, color] = await locator.evaluate((e) => {
    const css = (
      globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string; color: string } }
    ).getComputedStyle(e);
    return [css.backgroundColor, css.color];
  });
  return {
    bottom: (box?.y ?? Infinity) + (box?.height ?? 0),
    right: (box?.x ?? 0) + (box?.width ?? 0),
    background,
    color,
  };
}

/** The checks of the approval page at one size: nothing wider than the screen, both buttons on the first screen, in different colours. */
async function expectUsableApprovalPage(page: Page, viewport: { width: number; height: number }) {
  expect(await overflowing(page)).toEqual([]);
  const approve = await button(page, 'Approve');
  const reject = await button(page, 'Reject');
  expect(approve.bottom).toBeLessThanOrEqual(viewport.height);
  expect(reject.bottom).toBeLessThanOrEqual(viewport.height);
  expect(Math.max(approve.right, reject.right)).toBeLessThanOrEqual(viewport.width);
  expect(approve.background).not.toBe(reject.background);
  expect(approve.color).not.toBe(reject.color);
}

it('approves from the e-mail link in a browser, then shows the created node pool on the request page, and a prefetch decides nothing', async () => {
  const alice = await stack.token('alice@example.com');
  const submitted = await submit(stack, alice, exampleBody('np-browser'), {
    'x-justification': 'Q4 ranking model retraining: two more nodes for the nightly evaluation runs',
  });
  expect(submitted.status).toBe(202);
  const requestId = submitted.json.requestId as string;
  const link = await approvalLink('bob@example.com', 'np-browser');

  const context = await browser.newContext({ viewport: LAPTOP });
  const phone = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
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

    // On a phone first (the screenshot), then the decision on a laptop.
    const small = await phone.newPage();
    expect((await small.goto(link))?.status()).toBe(200);
    await expectUsableApprovalPage(small, PHONE);
    await small.screenshot({ path: join(SCREENSHOTS, 'approval-page-phone.png'), fullPage: true });

    const page = await context.newPage();
    const opened = await page.goto(link);
    expect(opened?.status()).toBe(200);
    await expect(page.title()).resolves.toBe('Approve node pool np-browser?');
    await page.getByRole('heading', { level: 1, name: 'Approve node pool np-browser?' }).waitFor();
    // textContent: the folded details count too.
    const facts = (await page.locator('main').textContent()) ?? '';
    for (const fact of [
      PROJECT_ID,
      POOL,
      'np-browser',
      'modelarts.vm.2u4g.dcc',
      'pay-per-use',
      'Q4 ranking model retraining',
      '0 of 10 in use, 1 after this',
      '1 node(s) x 0.42 USD/h = 0.42 USD/h',
    ])
      expect(facts).toContain(fact);
    await expectUsableApprovalPage(page, LAPTOP);
    await page.getByLabel('Comment (optional)').fill('Approved for Q4');
    await page.screenshot({ path: join(SCREENSHOTS, 'approval-page.png'), fullPage: true });

    await Promise.all([
      page.waitForURL((url) => url.pathname.startsWith('/approvals/')),
      page.getByRole('button', { name: 'Approve' }).click(),
    ]);
    await page.getByRole('heading', { name: 'Your approval is recorded' }).waitFor();
    const recorded = await page.locator('main').innerText();
    expect(recorded).toMatch(/bob@example\.com approved at \d{4}-\d\d-\d\d \d\d:\d\d UTC/);
    expect(recorded).toContain('Approved for Q4');
    expect(recorded).toContain('Node pool np-browser');

    const done = await waitForStatus(stack, alice, requestId, 'ACTIVE');
    const pageLink = (done as unknown as { links: { page: string } }).links.page;
    // The page after the decision links the request's page.
    expect(await page.getByRole('link', { name: "The request's page" }).getAttribute('href')).toBe(pageLink);
    const requestPage = await context.newPage();
    expect((await requestPage.goto(pageLink))?.status()).toBe(200);
    await requestPage.getByRole('heading', { level: 1, name: 'Node pool np-browser' }).waitFor();
    await expect(requestPage.getByRole('status').innerText()).resolves.toContain('ACTIVE');
    const rows = await requestPage.locator('table.timeline tbody tr').allInnerTexts();
    const row = (label: string) => rows.find((r) => r.split('\t')[1] === label)?.split('\t');
    expect(row('Approved')?.slice(2, 4)).toEqual(['ok', 'bob@example.com']);
    expect(row('Approved')?.[4]).toContain('“Approved for Q4”');
    expect(row('Approved')?.[0]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
    expect(row('Node pool created')?.[2]).toBe('ok');
    expect(row('Nodes active')?.[4]).toContain('1 node(s) available');
    await expect(requestPage.getByRole('columnheader', { name: 'By' }).count()).resolves.toBe(1);
    expect(await requestPage.locator('table.timeline time').first().getAttribute('datetime')).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/,
    );
    expect(await overflowing(requestPage)).toEqual([]);
    await requestPage.screenshot({ path: join(SCREENSHOTS, 'request-page.png'), fullPage: true });

    const smallRequest = await phone.newPage();
    expect((await smallRequest.goto(pageLink))?.status()).toBe(200);
    expect(await overflowing(smallRequest)).toEqual([]);
    // Stacked rows on a phone: each step's "By" is on screen, not behind a sideways scroll.
    const approvedRow = smallRequest.locator('table.timeline tbody tr', { hasText: 'Approved' });
    const by = approvedRow.locator('td[data-label="By"]');
    await expect(by.innerText()).resolves.toBe('bob@example.com');
    const box = await by.boundingBox();
    expect((box?.x ?? 0) + (box?.width ?? 0)).toBeLessThanOrEqual(PHONE.width);
    await smallRequest.screenshot({ path: join(SCREENSHOTS, 'request-page-phone.png'), fullPage: true });
  } finally {
    await context.close();
    await phone.close();
  }
});

it('fits a phone with a 2,000-character justification and an earlier stage decided with a long comment; the finance form keeps what was typed when the order id is missing', async () => {
  const alice = await stack.token('alice@example.com');
  const justification = `${'We retrain the ranking model for the Q4 launch; '.repeat(45)}`.slice(0, 2000);
  expect(justification).toHaveLength(2000);
  expect(PROJECT_ID).toHaveLength(32);
  const yearly = exampleBody('np-yearly-with-a-rather-long-node-pool-name', (b) => {
    b.metadata.annotations = {
      'os.modelarts/billing.mode': '1',
      'os.modelarts/period.num': '1',
      'os.modelarts/period.type': '2',
    };
  });
  const submitted = await submit(stack, alice, yearly, { 'x-justification': justification });
  expect(submitted.status).toBe(202);
  const requestId = submitted.json.requestId as string;

  const phone = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
  const laptop = await browser.newContext({ viewport: LAPTOP });
  try {
    // The manager approves with a long comment ...
    const managerPage = await phone.newPage();
    await managerPage.goto(await approvalLink('bob@example.com', yearly.metadata.name));
    await expectUsableApprovalPage(managerPage, PHONE);
    const managerComment = `Approved: the evaluation cluster is saturated every night. ${'See the capacity review. '.repeat(20)}`;
    await managerPage.getByLabel('Comment (optional)').fill(managerComment);
    await managerPage.getByRole('button', { name: 'Approve' }).click();
    await managerPage.getByRole('heading', { name: 'Your approval is recorded' }).waitFor();
    expect(await overflowing(managerPage)).toEqual([]);

    // ... and finance sees it, on a phone and on a laptop, with the buttons on the first screen.
    const financeLink = await approvalLink('carol@example.com', yearly.metadata.name);
    for (const [context, viewport] of [
      [phone, PHONE],
      [laptop, LAPTOP],
    ] as const) {
      const page = await context.newPage();
      expect((await page.goto(financeLink))?.status()).toBe(200);
      await expectUsableApprovalPage(page, viewport);
      const text = await page.locator('main').innerText();
      expect(text).toContain('manager: approved by bob@example.com');
      expect(text).toContain('Approved: the evaluation cluster is saturated every night.');
      expect(await page.getByLabel(/ModelArts order id/).getAttribute('required')).toBe('');
      expect(await page.getByText('(required to approve)').count()).toBe(1);
      // The long justification folds; opened, it still wraps within the screen.
      await page.locator('details.justification summary').click();
      await page.locator('details', { hasText: 'Request details' }).locator('summary').click();
      expect(await overflowing(page)).toEqual([]);
      expect(await page.locator('main').innerText()).toContain(PROJECT_ID);
      await page.close();
    }

    // A decision the server refuses (no order id; the browser's own check is bypassed) keeps the form and what was typed.
    const page = await phone.newPage();
    await page.goto(financeLink);
    await page.getByLabel('Comment (optional)').fill('Paid from the Q4 budget');
    await page
      .getByLabel(/ModelArts order id/)
      .evaluate((input) => (input as unknown as { removeAttribute(name: string): void }).removeAttribute('required'));
    const [answer] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST'),
      page.getByRole('button', { name: 'Approve' }).click(),
    ]);
    expect(answer.status()).toBe(400);
    await expect(page.getByRole('alert').innerText()).resolves.toContain('order id is required');
    await expect(page.getByLabel('Comment (optional)').inputValue()).resolves.toBe('Paid from the Q4 budget');
    await page.getByLabel(/ModelArts order id/).fill('CS2612061403ABCDE');
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.getByRole('heading', { name: 'Your approval is recorded' }).waitFor();
    const after = await page.locator('main').innerText();
    expect(after).toContain('carol@example.com approved at');
    expect(after).toContain('(order id CS2612061403ABCDE)');
    expect(after).toContain('Paid from the Q4 budget');

    // The link again: already decided, with who decided what and when, and the request page.
    const again = await phone.newPage();
    expect((await again.goto(financeLink))?.status()).toBe(409);
    const closed = await again.locator('main').innerText();
    expect(closed).toContain('Already decided');
    expect(closed).toContain('carol@example.com approved at');
    expect(closed).toContain(`Node pool ${yearly.metadata.name}`);
    expect(await again.getByRole('link', { name: "The request's page" }).count()).toBe(1);
    expect(await overflowing(again)).toEqual([]);
    expect((await getRequest(stack, alice, requestId)).json.steps.map((s) => s.step)).toContain('approved');
  } finally {
    await phone.close();
    await laptop.close();
  }
});
