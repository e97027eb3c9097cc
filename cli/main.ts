/**
 * `poolgate <command>`: run the local stack, mint a dev token, and use a poolgate server (local or on
 * AWS) over its HTTP API: submit, status, list, cancel. The client commands talk HTTP only.
 *
 * Exit codes: 0 done (for `submit --wait`: the node pool is there; for `scale --wait`: ModelArts shows the
 * new count; for `delete --wait`: it is DELETED),
 * 1 the server refused or could not be reached, 2 usage, 3 the request ended without reaching its goal
 * (REJECTED, EXPIRED, CANCELLED, FAILED), 4 `--timeout` reached while the request goes on.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { REQUEST_STATUSES } from '../contracts/api-values';
import {
  ApiError,
  DEFAULT_URL,
  PoolgateApi,
  succeeded,
  UnreachableError,
  UsageError,
  type DeleteDryRun,
  type DryRunResult,
  type ModelArtsNodePoolView,
  type ScaleDryRun,
  type Inventory,
  type RequestList,
  type RequestView,
  type SubmitAccepted,
} from './api';
import { decideByLink, DecisionRefused, isApprovalLink, outboxText, readOutbox } from './outbox';
import { waitUntilFinal, WaitTimeoutError } from './progress';
import { colorsFor, requestDetails, requestTable, shortTime, statusLine } from './render';

export const EXIT = { ok: 0, failed: 1, usage: 2, requestFailed: 3, timeout: 4 } as const;

const STATUSES: readonly string[] = REQUEST_STATUSES;

interface ServerOptions {
  url: string;
  token?: string;
  json?: boolean;
}

class ExitError extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
  }
}

function out(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

function printJson(value: unknown): void {
  out(JSON.stringify(value, null, 2));
}

/** --json, --url and --token: every client command takes them (listed after its own options). */
const jsonOption = () => new Option('--json', 'print the API response as JSON (for scripts)');
const urlOption = () => new Option('--url <url>', 'poolgate API base URL').env('POOLGATE_URL').default(DEFAULT_URL);
const tokenOption = () => new Option('--token <token>', 'bearer token (JWT with an email claim)').env('POOLGATE_TOKEN');

function apiOf(options: ServerOptions): PoolgateApi {
  return new PoolgateApi(options.url, options.token);
}

function positiveInt(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new InvalidArgumentError('Must be a positive integer.');
  return Number(value);
}

function requestStatus(value: string): string {
  const status = value.toUpperCase();
  if (!STATUSES.includes(status)) throw new InvalidArgumentError(`Allowed choices are ${STATUSES.join(', ')}.`);
  return status;
}

export function buildProgram(): Command {
  const program = new Command('poolgate')
    .description('An approval gate in front of Huawei Cloud ModelArts node-pool creation.')
    .addHelpText(
      'after',
      `
Environment:
  POOLGATE_URL     the poolgate API (default ${DEFAULT_URL}, the local stack)
  POOLGATE_TOKEN   your bearer token (locally: export POOLGATE_TOKEN=$(npx poolgate dev-token you@example.com))

Exit codes: 0 done, 1 refused by the server or unreachable, 2 usage, 3 the request ended without a
node pool (REJECTED, EXPIRED, CANCELLED, FAILED), 4 --timeout reached (the request goes on).`,
    )
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  program
    .command('start')
    .description('run poolgate locally (HTTP API, Step Functions, DynamoDB, ModelArts simulator)')
    .option('--json', 'print the endpoints as JSON instead of the banner')
    .action(async (options: { json?: boolean }) => {
      const { startLocalStack, PortInUseError } = await import('../local/main');
      const stack = await configuredLocally(() =>
        startLocalStack({ printUrls: !options.json, handleSignals: true }).catch((error: unknown) => {
          throw error instanceof PortInUseError ? new ExitError(EXIT.failed, error.message) : error;
        }),
      );
      if (options.json) printJson(stack.endpoints);
    });

  program
    .command('dev-token')
    .description('print a bearer token for <email> that the local stack accepts')
    .argument('<email>', 'whose token')
    .option('--json', 'print {"token": ...}')
    .action(async (email: string, options: { json?: boolean }) => {
      if (!email.includes('@')) {
        process.stderr.write('usage: poolgate dev-token <email>\n');
        throw new ExitError(EXIT.usage, '');
      }
      const { devToken } = await import('../local/dev-token');
      const token = await configuredLocally(() => devToken(email));
      if (options.json) printJson({ token });
      else out(token);
    });

  program
    .command('submit')
    .description('ask for a node pool: send a ModelArts "Create a node pool" body')
    .argument('<nodepool.json>', 'the request body (the ModelArts API page format), or - for standard input')
    .requiredOption('--project <id>', 'the ModelArts project id')
    .requiredOption('--pool <name>', 'the resource pool')
    .option('--justification <text>', 'why you need it (shown to the approvers)')
    .option(
      '--lease <duration>',
      "a time box for a pay-per-use node pool (X-Lease), e.g. P14D or PT36H, or none; default: the policy's",
    )
    .option('--idempotency-key <key>', 'a retry with the same key returns the same request')
    .option('--dry-run', 'say what would happen (validation, approvers, capacity, quota); record nothing')
    .option('--wait', 'follow the request until it is done; exit 0 only when the node pool is there')
    .option('--timeout <seconds>', 'with --wait: stop waiting after this long (exit 4)', positiveInt)
    .addOption(jsonOption())
    .addOption(urlOption())
    .addOption(tokenOption())
    .action(
      async (
        file: string,
        options: ServerOptions & {
          project: string;
          pool: string;
          justification?: string;
          lease?: string;
          idempotencyKey?: string;
          dryRun?: boolean;
          wait?: boolean;
          timeout?: number;
        },
      ) => {
        const api = apiOf(options);
        const body = readBody(file);
        const path = `/v2/${encodeURIComponent(options.project)}/pools/${encodeURIComponent(options.pool)}/nodepools`;
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (options.justification) headers['x-justification'] = options.justification;
        if (options.lease) headers['x-lease'] = options.lease;
        if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;

        if (options.dryRun) {
          const result = await api.call<DryRunResult>('POST', path, { body, headers, query: { dryRun: 'true' } });
          if (options.json) printJson(result);
          else out(dryRunText(result));
          if (result.wouldBe === 'REJECTED') throw new ExitError(EXIT.requestFailed, '');
          return;
        }
        const accepted = await api.call<SubmitAccepted>('POST', path, { body, headers });
        if (!options.wait) {
          if (options.json) return printJson(accepted);
          return out(
            `Submitted request ${accepted.requestId} (${accepted.status}).${accepted.lease ? `\nLease: ${accepted.lease.duration} from its creation in ModelArts.` : ''}\nFollow it: poolgate status ${accepted.requestId}`,
          );
        }
        if (!options.json)
          out(
            `Submitted request ${accepted.requestId}; waiting for it to finish (Ctrl-C stops waiting, not the request).`,
          );
        await waitThenPrintFinal(api, accepted.requestId, options, {
          page: true,
          onInterrupt: () =>
            process.stderr.write(`\nStopped waiting. The request goes on: poolgate status ${accepted.requestId}\n`),
        });
      },
    );

  program
    .command('delete')
    .description('delete a node pool poolgate created (its team members and admins)')
    .argument('<pool/nodepool>', 'the resource pool and the node pool, e.g. pool-a/np-train')
    .requiredOption('--project <id>', 'the ModelArts project id')
    .option('--idempotency-key <key>', 'a retry with the same key returns the same request')
    .option('--dry-run', 'say what would happen (who may, who would be asked); record nothing')
    .option('--wait', 'follow the request until it is done; exit 0 only when the node pool is DELETED')
    .option('--timeout <seconds>', 'with --wait: stop waiting after this long (exit 4)', positiveInt)
    .addOption(jsonOption())
    .addOption(urlOption())
    .addOption(tokenOption())
    .action(
      async (
        target: string,
        options: ServerOptions & {
          project: string;
          idempotencyKey?: string;
          dryRun?: boolean;
          wait?: boolean;
          timeout?: number;
        },
      ) => {
        const { path } = nodePoolTarget(target, options.project);
        const api = apiOf(options);
        const headers: Record<string, string> = {};
        if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
        if (options.dryRun) {
          const result = await api.call<DeleteDryRun>('DELETE', path, { headers, query: { dryRun: 'true' } });
          if (options.json) return printJson(result);
          const stages = result.approval.stages.map((s) => `${s.name} (${s.approvers.join(', ')})`).join(', ');
          return out(
            `Would delete ${result.nodePool.nodePoolName} (${result.nodePool.count} ${result.nodePool.flavor} node(s), team ${result.nodePool.team}): ${result.wouldBe}${stages ? `, asking ${stages}` : ', no approval needed'}.`,
          );
        }
        const accepted = await api.call<SubmitAccepted>('DELETE', path, { headers });
        await followChange(api, 'delete', accepted, options);
      },
    );

  program
    .command('scale')
    .description('change the node count of a node pool poolgate created, through the gate (ModelArts PatchNodePool)')
    .argument('<pool/nodepool>', 'the resource pool and the node pool, e.g. pool-a/np-train')
    .requiredOption('--project <id>', 'the ModelArts project id')
    .requiredOption('--count <n>', 'the node count wanted', positiveInt)
    .option(
      '--max-count <n>',
      'the new maxCount (default: the count, unless the node pool allows more already)',
      positiveInt,
    )
    .option('--idempotency-key <key>', 'a retry with the same key returns the same request')
    .option('--dry-run', 'say what would change and who would be asked; record nothing')
    .option('--wait', 'follow the request until it is done; exit 0 only when ModelArts shows the new count')
    .option('--timeout <seconds>', 'with --wait: stop waiting after this long (exit 4)', positiveInt)
    .addOption(jsonOption())
    .addOption(urlOption())
    .addOption(tokenOption())
    .action(
      async (
        target: string,
        options: ServerOptions & {
          project: string;
          count: number;
          maxCount?: number;
          idempotencyKey?: string;
          dryRun?: boolean;
          wait?: boolean;
          timeout?: number;
        },
      ) => {
        const { nodePool, path } = nodePoolTarget(target, options.project);
        const api = apiOf(options);
        // PatchNodePool needs flavor, count and maxCount: the flavor (and the zones) as the node pool has them now.
        const current = (await api.call<ModelArtsNodePoolView>('GET', path)).spec.resources as {
          flavor: string;
          count: number;
          maxCount: number;
          azs?: Array<{ az: string; count: number }>;
        };
        const maxCount =
          options.maxCount ??
          (current.maxCount > current.count ? Math.max(current.maxCount, options.count) : options.count);
        const resources: Record<string, unknown> = { flavor: current.flavor, count: options.count, maxCount };
        if (current.azs?.length === 1) resources.azs = [{ az: current.azs[0].az, count: options.count }];
        else if (current.azs && current.azs.length > 1)
          throw new UsageError(
            `${nodePool} spreads its nodes over ${current.azs.length} zones: send a PATCH with the zone counts (spec.resources.azs) through the API`,
          );
        const body = JSON.stringify({ spec: { resources } });
        const headers: Record<string, string> = { 'content-type': 'application/merge-patch+json' };
        if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
        if (options.dryRun) {
          const result = await api.call<ScaleDryRun>('PATCH', path, { headers, body, query: { dryRun: 'true' } });
          if (options.json) return printJson(result);
          const stages = result.approval.stages.map((s) => `${s.name} (${s.approvers.join(', ')})`).join(', ');
          const delta = result.change.to - result.change.from;
          return out(
            `Would scale ${result.nodePool.nodePoolName} from ${result.change.from} to ${result.change.to} nodes (${delta >= 0 ? '+' : ''}${delta}, ${result.change.kind}): ${result.wouldBe}${stages ? `, asking ${stages}` : ', no approval needed'}.`,
          );
        }
        const accepted = await api.call<SubmitAccepted>('PATCH', path, { headers, body });
        await followChange(api, 'scale', accepted, options);
      },
    );

  program
    .command('nodepools')
    .description("poolgate's inventory: a team's node pools (default: your team's)")
    .option('--team <name>', "a team's node pools (its members, approvers and the admins)")
    .option('--limit <n>', 'node pools per page (1-100, default 20)', positiveInt)
    .option('--cursor <cursor>', 'the page after the one that printed this cursor')
    .addOption(jsonOption())
    .addOption(urlOption())
    .addOption(tokenOption())
    .action(async (options: ServerOptions & { team?: string; limit?: number; cursor?: string }) => {
      const query: Record<string, string> = {};
      if (options.team) query.team = options.team;
      if (options.limit) query.limit = String(options.limit);
      if (options.cursor) query.cursor = options.cursor;
      const page = await apiOf(options).call<Inventory>('GET', '/nodepools', { query });
      if (options.json) return printJson(page);
      if (page.items.length === 0) out('No node pools.');
      for (const n of page.items)
        out(
          `${n.projectId}/${n.poolName}/${n.nodePoolName}  ${n.count} x ${n.flavor}  ${n.billingMode === '1' ? 'yearly/monthly' : 'pay-per-use'}  team ${n.team}  created by ${n.createdBy}${n.lease ? `  lease ends ${n.lease.endsAt ? `${shortTime(n.lease.endsAt)} UTC` : 'when created'}` : ''}${n.openRequest ? `  open: ${n.openRequest.kind} ${n.openRequest.status} ${n.openRequest.requestId}` : ''}`,
        );
      if (page.nextCursor) out(`More: poolgate nodepools --cursor ${page.nextCursor}`);
    });

  program
    .command('extend')
    .description("ask to extend a node pool's lease (it goes through the team's approval)")
    .argument('<id>', 'the request that created the node pool (its id, or its first 8 or more characters)')
    .requiredOption('--by <duration>', 'how much later the lease should end, e.g. P7D or PT12H')
    .option('--idempotency-key <key>', 'a retry with the same key returns the same request')
    .addOption(jsonOption())
    .addOption(urlOption())
    .addOption(tokenOption())
    .action(async (id: string, options: ServerOptions & { by: string; idempotencyKey?: string }) => {
      const api = apiOf(options);
      // A prefix names the request as `status` does; the extension needs the full id.
      const creating = await api.call<RequestView>('GET', `/requests/${encodeURIComponent(id)}`);
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
      const accepted = await api.call<SubmitAccepted>(
        'POST',
        `/requests/${encodeURIComponent(creating.requestId)}/extend`,
        { body: JSON.stringify({ duration: options.by }), headers },
      );
      if (options.json) return printJson(accepted);
      out(
        `Submitted extension request ${accepted.requestId} (${accepted.status}) for the lease of ${creating.nodePoolName}${creating.lease?.endsAt ? `, which ends ${shortTime(creating.lease.endsAt)} UTC` : ''}.\nFollow it: poolgate status ${accepted.requestId}`,
      );
    });

  program
    .command('status')
    .description('show a request and its timeline')
    .argument('<id>', 'the request id, or its first 8 or more characters')
    .option('--wait', 'wait until the request is done, then show it; exit 0 only when the node pool is there')
    .option('--timeout <seconds>', 'with --wait: stop waiting after this long (exit 4)', positiveInt)
    .addOption(jsonOption())
    .addOption(urlOption())
    .addOption(tokenOption())
    .action(async (id: string, options: ServerOptions & { wait?: boolean; timeout?: number }) => {
      const api = apiOf(options);
      let view = await api.call<RequestView>('GET', `/requests/${encodeURIComponent(id)}`);
      if (options.wait)
        view = await waitUntilFinal(api, view.requestId, {
          show: false,
          timeoutMs: options.timeout === undefined ? undefined : options.timeout * 1000,
        });
      if (options.json) printJson(view);
      else out(requestDetails(view, colorsFor(process.stdout)));
      if (options.wait && !succeeded(view)) throw new ExitError(EXIT.requestFailed, '');
    });

  program
    .command('list')
    .description("list requests, newest first (default: your team's)")
    .addOption(
      new Option('--status <status>', 'only requests in this status').choices(STATUSES).argParser(requestStatus),
    )
    .option('--mine', 'only the requests you submitted')
    .option('--team <name>', "a team's requests (its members, approvers and the admins)")
    .option('--awaiting-me', 'what waits for your decision, with your links to decide')
    .option('--limit <n>', 'requests per page (1-100, default 20)', positiveInt)
    .option('--cursor <cursor>', 'the page after the one that printed this cursor')
    .option('--all', 'follow every page')
    .addOption(jsonOption())
    .addOption(urlOption())
    .addOption(tokenOption())
    .action(
      async (
        options: ServerOptions & {
          status?: string;
          mine?: boolean;
          team?: string;
          awaitingMe?: boolean;
          limit?: number;
          cursor?: string;
          all?: boolean;
        },
      ) => {
        if (options.awaitingMe && (options.mine || options.team !== undefined || options.status))
          throw new UsageError('--awaiting-me cannot be combined with --mine, --team or --status');
        if (options.mine && options.team !== undefined) throw new UsageError('--mine and --team cannot be combined');
        const api = apiOf(options);
        const query = {
          status: options.status,
          mine: options.mine ? 'true' : undefined,
          team: options.team,
          awaiting: options.awaitingMe ? 'me' : undefined,
          limit: options.limit === undefined ? undefined : String(options.limit),
        };
        const list = (cursor: string | undefined) =>
          api.call<RequestList>('GET', '/requests', { query: { ...query, cursor } }).catch((error: unknown) => {
            throw error instanceof ApiError ? withCliFlags(error) : error;
          });
        let page = await list(options.cursor);
        const items = [...page.items];
        while (options.all && page.nextCursor) {
          page = await list(page.nextCursor);
          items.push(...page.items);
        }
        if (options.json) return printJson({ items, nextCursor: page.nextCursor });
        // Someone in no team gets what awaits them by default: the items then carry their stage and link.
        const awaiting = Boolean(options.awaitingMe) || items.some((item) => item.awaiting !== undefined);
        out(items.length ? requestTable(items, colorsFor(process.stdout), awaiting) : 'No requests.');
        if (page.nextCursor) out(`More: add --cursor ${page.nextCursor} (or --all)`);
      },
    );

  program
    .command('outbox')
    .description(
      'local stack: the latest e-mails poolgate sent, with their links decoded; --approve or --reject decides from the newest approval link',
    )
    .option('--to <email>', 'only mails to this address')
    .option('--request <id>', 'only mails about this request (its id or a prefix of it)')
    .option('--limit <n>', 'how many mails (default 5)', positiveInt)
    .option('--approve', "approve from the newest approval link shown, as that link's approver")
    .option('--reject', "reject from the newest approval link shown, as that link's approver")
    .option('--comment <text>', 'with --approve or --reject: the comment')
    .option('--order-id <id>', 'with --approve: the ModelArts order id a yearly/monthly request needs')
    .addOption(jsonOption())
    .addOption(urlOption())
    .action(
      async (
        options: ServerOptions & {
          to?: string;
          request?: string;
          limit?: number;
          approve?: boolean;
          reject?: boolean;
          comment?: string;
          orderId?: string;
        },
      ) => {
        if (options.approve && options.reject) throw new UsageError('--approve and --reject cannot be combined');
        const deciding = options.approve || options.reject;
        if (!deciding && (options.comment !== undefined || options.orderId !== undefined))
          throw new UsageError('--comment and --order-id go with --approve or --reject');
        const mails = await readOutbox(options.url, {
          to: options.to,
          request: options.request,
          limit: deciding ? 500 : (options.limit ?? 5),
        });
        if (!deciding) return options.json ? printJson({ mails }) : out(outboxText(mails));
        const mail = mails.find((m) => m.links.some(isApprovalLink));
        if (!mail) throw new ExitError(EXIT.failed, 'no approval link in the outbox matches --to/--request');
        const link = mail.links.find(isApprovalLink)!;
        const approver = new URL(link).searchParams.get('approver');
        try {
          const said = await decideByLink(link, {
            decision: options.approve ? 'approve' : 'reject',
            comment: options.comment,
            orderId: options.orderId,
          });
          if (options.json) return printJson({ decided: true, approver, link, page: said });
          out(`As ${approver}, from "${mail.subject}":\n${said}`);
        } catch (error) {
          if (!(error instanceof DecisionRefused)) throw error;
          if (options.json) printJson({ decided: false, approver, link, page: error.message });
          throw new ExitError(EXIT.failed, `as ${approver}: ${error.message.replace(/\n/g, ': ')}`);
        }
      },
    );

  requestAction(
    program,
    'cancel',
    'cancel a request that is not provisioning yet (its requester or an admin)',
    (view) => `Request ${view.requestId} is ${view.status}${view.reason ? ` (${view.reason})` : ''}.`,
  );
  requestAction(
    program,
    'retry',
    'run a FAILED request again from the step that failed, without a new approval (its requester or an admin)',
    (view) => `Request ${view.requestId} is ${view.status}: retrying.`,
  );

  return program;
}

/** The list API's query parameters, as the CLI's flags name them. */
const CLI_FLAGS: ReadonlyArray<[RegExp, string]> = [
  [/\bawaiting=me\b/g, '--awaiting-me'],
  [/\bmine=true\b/g, '--mine'],
  [/\bteam=<name>/g, '--team <name>'],
  [/\bstatus=<status>/g, '--status <status>'],
  [/^(status|limit|cursor|team|mine): /, '--$1: '],
  [/\bquery parameter\b/g, 'option'],
];

/** A list error from the server, reworded to name the CLI's flags rather than the API's query parameters. */
export function withCliFlags(error: ApiError): ApiError {
  const message = CLI_FLAGS.reduce((text, [pattern, flag]) => text.replace(pattern, flag), error.message);
  return new ApiError(error.status, error.code, message);
}

/** `<pool>/<nodepool>` of a change command: the node pool's name and its API path in `project`. */
function nodePoolTarget(target: string, project: string): { nodePool: string; path: string } {
  const [pool, nodePool, ...rest] = target.split('/');
  if (!pool || !nodePool || rest.length) throw new UsageError(`${target}: say <pool>/<nodepool>, e.g. pool-a/np-train`);
  return {
    nodePool,
    path: `/v2/${encodeURIComponent(project)}/pools/${encodeURIComponent(pool)}/nodepools/${encodeURIComponent(nodePool)}`,
  };
}

/** After a change (delete, scale) is accepted: how to follow it, or (`--wait`) its final view. */
async function followChange(
  api: PoolgateApi,
  kind: 'delete' | 'scale',
  accepted: SubmitAccepted,
  options: { json?: boolean; wait?: boolean; timeout?: number },
): Promise<void> {
  if (!options.wait) {
    if (options.json) return printJson(accepted);
    return out(
      `Submitted ${kind} request ${accepted.requestId} (${accepted.status}).\nFollow it: poolgate status ${accepted.requestId}`,
    );
  }
  if (!options.json) out(`Submitted ${kind} request ${accepted.requestId}; waiting for it to finish.`);
  await waitThenPrintFinal(api, accepted.requestId, options);
}

/**
 * `--wait` after a submission: follows the request until it is final, then prints it (the view as
 * JSON, or a ✔/✖ status line, with the request's page when `page`); exits requestFailed unless it
 * succeeded. `onInterrupt`: what Ctrl-C does while waiting (absent: what it does anyway).
 */
async function waitThenPrintFinal(
  api: PoolgateApi,
  requestId: string,
  options: { json?: boolean; timeout?: number },
  how: { page?: boolean; onInterrupt?: () => void } = {},
): Promise<void> {
  if (how.onInterrupt) process.once('SIGINT', how.onInterrupt);
  let view: RequestView;
  try {
    view = await waitUntilFinal(api, requestId, {
      show: !options.json,
      timeoutMs: options.timeout === undefined ? undefined : options.timeout * 1000,
    });
  } finally {
    if (how.onInterrupt) process.off('SIGINT', how.onInterrupt);
  }
  if (options.json) printJson(view);
  else {
    const colors = colorsFor(process.stdout);
    const page = how.page && view.links.page ? `\n  ${view.links.page}` : '';
    const line = `${statusLine(view)}. Request ${view.requestId}${page}`;
    out(succeeded(view) ? `${colors.green('✔')} ${line}` : `${colors.red('✖')} ${line}`);
  }
  if (!succeeded(view)) throw new ExitError(EXIT.requestFailed, '');
}

/** `poolgate <action> <id>`: POST /requests/{id}/<action>, then one line (or the view as JSON). */
function requestAction(
  program: Command,
  action: 'cancel' | 'retry',
  description: string,
  line: (view: RequestView) => string,
): void {
  program
    .command(action)
    .description(description)
    .argument('<id>', 'the request id')
    .addOption(jsonOption())
    .addOption(urlOption())
    .addOption(tokenOption())
    .action(async (id: string, options: ServerOptions) => {
      const view = await apiOf(options).call<RequestView>('POST', `/requests/${encodeURIComponent(id)}/${action}`);
      if (options.json) return printJson(view);
      out(line(view));
    });
}

function readBody(file: string): string {
  try {
    return readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as Error).message}`);
  }
}

function dryRunText(result: DryRunResult): string {
  const lines = [
    `Dry run: the request would be ${result.wouldBe}${result.reason ? ` (${result.reason})` : ''}. Nothing was recorded.`,
  ];
  for (const check of result.checks)
    lines.push(
      `  ${check.outcome === 'ok' ? '✔' : check.outcome === 'refused' ? '✖' : '?'} ${check.check}: ${check.message}`,
    );
  return lines.join('\n');
}

/**
 * Runs a local command that reads the policy file and the dev issuer's key: a wrong one is the
 * operator's to fix, and its message says what and where, so it ends the command without a stack trace.
 */
async function configuredLocally<T>(run: () => Promise<T>): Promise<T> {
  const [{ PolicyError }, { DevIssuerKeyError }] = await Promise.all([
    import('../lambdas/config/policy'),
    import('../local/dev-issuer'),
  ]);
  try {
    return await run();
  } catch (error) {
    if (error instanceof PolicyError || error instanceof DevIssuerKeyError)
      throw new ExitError(EXIT.failed, error.message);
    throw error;
  }
}

/** Runs the CLI; returns the exit code (the caller sets process.exitCode). */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  if (argv.length === 0) {
    program.outputHelp();
    return EXIT.usage;
  }
  const wantsJson = argv.includes('--json');
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.code === 'commander.helpDisplayed' ||
        error.code === 'commander.help' ||
        error.code === 'commander.version'
        ? EXIT.ok
        : EXIT.usage;
    }
    if (error instanceof ExitError) {
      if (error.message) process.stderr.write(`poolgate: ${error.message}\n`);
      return error.exitCode;
    }
    if (error instanceof ApiError) {
      if (wantsJson) printJson(error.body());
      process.stderr.write(`poolgate: ${error.message} (${error.code}, HTTP ${error.status})\n`);
      return EXIT.failed;
    }
    if (error instanceof UsageError) {
      process.stderr.write(`poolgate: ${error.message}\n`);
      return EXIT.usage;
    }
    if (error instanceof WaitTimeoutError) {
      if (wantsJson) printJson(error.last);
      process.stderr.write(`poolgate: ${error.message}\n`);
      return EXIT.timeout;
    }
    if (error instanceof UnreachableError) {
      process.stderr.write(`poolgate: ${error.message}\n`);
      return EXIT.failed;
    }
    throw error;
  }
}
