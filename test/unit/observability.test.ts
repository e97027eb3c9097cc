/**
 * Observability: the business metrics the use cases record (once per recorded step, never twice on a
 * retry), the Powertools EMF adapter that writes them only where a namespace is configured, and the
 * request id on every log line of an invocation.
 */
import type { Context } from 'aws-lambda';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApprovalRepository } from '../../lambdas/adapters/dynamodb/approval-repository';
import { ClaimRepository } from '../../lambdas/adapters/dynamodb/claim-repository';
import { QuotaRepository } from '../../lambdas/adapters/dynamodb/quota-repository';
import { RequestRepository } from '../../lambdas/adapters/dynamodb/request-repository';
import { logger, startInvocationLog } from '../../lambdas/adapters/logger';
import { parsePolicy } from '../../lambdas/config/policy';
import type { PoolRequestRecord } from '../../lambdas/domain/pool-request';
import { decide } from '../../lambdas/use-cases/decide-approval';
import { finalizeRequest } from '../../lambdas/use-cases/finalize-request';
import type { MetricName, MetricUnit, RecordMetric } from '../../lambdas/use-cases/metrics';
import { requestApproval } from '../../lambdas/use-cases/request-approval';
import { submitRequest } from '../../lambdas/use-cases/submit-request';
import { useTestTable } from '../support/dynamodb';
import { requestRecord } from '../support/fixtures';

const ROOT = join(__dirname, '../..');

/** Captures what a test writes to stdout (Powertools writes EMF and JSON logs there). */
function captureStdout(): { lines: () => string[]; restore: () => void } {
  const written: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  });
  return { lines: () => written.join('').split('\n').filter(Boolean), restore: () => spy.mockRestore() };
}

describe('the metrics adapter', () => {
  const load = (namespace: string | undefined): RecordMetric => {
    const saved = process.env.POWERTOOLS_METRICS_NAMESPACE;
    if (namespace === undefined) delete process.env.POWERTOOLS_METRICS_NAMESPACE;
    else process.env.POWERTOOLS_METRICS_NAMESPACE = namespace;
    let recordMetric: RecordMetric | undefined;
    jest.isolateModules(() => {
      ({ recordMetric } = jest.requireActual<typeof import('../../lambdas/adapters/metrics')>(
        '../../lambdas/adapters/metrics',
      ));
    });
    if (saved === undefined) delete process.env.POWERTOOLS_METRICS_NAMESPACE;
    else process.env.POWERTOOLS_METRICS_NAMESPACE = saved;
    return recordMetric!;
  };

  it('writes one EMF line per metric, at once, in the configured namespace with the service dimension', () => {
    const recordMetric = load('PoolgateTest');
    const out = captureStdout();
    try {
      recordMetric('approvalWaitTime', 42.5, 'Seconds');
      recordMetric('submitted', 1, 'Count');
    } finally {
      out.restore();
    }
    const [wait, submitted] = out.lines().map(
      (l) =>
        JSON.parse(l) as Record<string, unknown> & {
          _aws: { CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: unknown[] }> };
        },
    );
    expect(wait._aws.CloudWatchMetrics).toEqual([
      {
        Namespace: 'PoolgateTest',
        Dimensions: [['service']],
        Metrics: [{ Name: 'approvalWaitTime', Unit: 'Seconds' }],
      },
    ]);
    expect(wait).toMatchObject({ service: 'poolgate', approvalWaitTime: 42.5 });
    expect(submitted).toMatchObject({ service: 'poolgate', submitted: 1 });
  });

  it('writes nothing where no namespace is configured (the local stack, tests)', () => {
    const recordMetric = load(undefined);
    const out = captureStdout();
    try {
      recordMetric('submitted', 1, 'Count');
    } finally {
      out.restore();
    }
    expect(out.lines()).toEqual([]);
  });
});

describe('the log context of an invocation', () => {
  const context = (awsRequestId: string) =>
    ({
      awsRequestId,
      functionName: 'poolgate-test',
      invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:poolgate-test',
    }) as Context;

  it("puts Lambda's and poolgate's request ids on every line, and drops them at the next invocation", () => {
    logger.setLogLevel('INFO');
    const out = captureStdout();
    try {
      startInvocationLog(context('lambda-1'), { requestId: 'req-1' });
      logger.info('first');
      logger.info('second');
      startInvocationLog(context('lambda-2'));
      logger.info('third');
      logger.appendKeys({ requestId: 'req-3' });
      logger.info('fourth');
    } finally {
      out.restore();
      logger.resetKeys();
      logger.setLogLevel('SILENT');
    }
    const lines = out.lines().map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => [l.message, l.function_request_id, l.requestId])).toEqual([
      ['first', 'lambda-1', 'req-1'],
      ['second', 'lambda-1', 'req-1'],
      ['third', 'lambda-2', undefined],
      ['fourth', 'lambda-2', 'req-3'],
    ]);
  });
});

describe('the business metrics the use cases record', () => {
  const table = useTestTable();

  function recorder() {
    const recorded: Array<[MetricName, number, MetricUnit]> = [];
    const recordMetric: RecordMetric = (name, value, unit) => recorded.push([name, value, unit]);
    return { recorded, recordMetric };
  }

  const silentNotifier = {
    askApprovers: async () => [],
    showSettled: async () => undefined,
    tellRequester: async () => undefined,
  };
  const deliveringWorkflow = { answer: async () => 'delivered' as const };

  function request(requestId: string, stages: number): PoolRequestRecord {
    const stage = (name: string) => ({
      name,
      approvers: [{ email: 'bob@example.com' }],
      requiredApprovals: 1,
      remindAfterSeconds: 3600,
      expireAfterSeconds: 86400,
      escalated: false,
      collectsOrderId: false,
    });
    return {
      ...requestRecord(requestId, ['manager', 'finance'].slice(0, stages).map(stage)),
      createdAt: '2026-11-26T09:00:00.000Z',
      updatedAt: '2026-11-26T09:00:00.000Z',
    };
  }

  /** Opens stage `stageIndex` at `askedAt`, then bob decides `seconds` later. */
  async function decideAfter(
    requestId: string,
    stageIndex: number,
    vote: 'approve' | 'reject',
    askedAt: Date,
    seconds: number,
    recordMetric: RecordMetric,
  ) {
    const requests = new RequestRepository(table.db, table.tableName);
    const approvals = new ApprovalRepository(table.db, table.tableName);
    await requestApproval(
      { requestId, stageIndex, taskToken: `token-${requestId}-${stageIndex}` },
      { requests, approvals, notifier: silentNotifier, workflow: deliveringWorkflow, now: () => askedAt },
    );
    const approval = (await approvals.get(`${requestId}.${stageIndex}`))!;
    const decidedAt = new Date(askedAt.getTime() + seconds * 1000);
    return decide(
      { approval, approver: 'bob@example.com', via: 'link' },
      { vote },
      {
        requests,
        approvals,
        workflow: deliveringWorkflow,
        notifier: silentNotifier,
        linkKey: 'k',
        recordMetric,
        now: () => decidedAt,
      },
    );
  }

  it('counts a submission once: an idempotent replay of it is not counted again', async () => {
    const { recorded, recordMetric } = recorder();
    const policy = parsePolicy(readFileSync(join(ROOT, 'poolgate.config.json'), 'utf8'));
    const deps = {
      policy,
      requests: new RequestRepository(table.db, table.tableName),
      claims: new ClaimRepository(table.db, table.tableName),
      workflow: { start: async () => 'started' as const },
      recordMetric,
      now: () => new Date(),
    };
    const input = {
      requester: 'alice@example.com',
      projectId: '0123456789abcdef0123456789abcdef',
      poolName: 'pool-a',
      rawBody: readFileSync(join(ROOT, 'test/fixtures/example-nodepool.json'), 'utf8'),
    };
    const first = await submitRequest(input, deps);
    const replay = await submitRequest(input, deps);
    expect(replay.requestId).toBe(first.requestId);
    expect(recorded).toEqual([['submitted', 1, 'Count']]);
  });

  it('times each decided stage from its approval_requested step, and counts approved only when the last stage approves', async () => {
    const { recorded, recordMetric } = recorder();
    await new RequestRepository(table.db, table.tableName).create(request('r-approve', 2));
    await decideAfter('r-approve', 0, 'approve', new Date('2026-11-26T10:00:00.000Z'), 90, recordMetric);
    expect(recorded).toEqual([['approvalWaitTime', 90, 'Seconds']]);
    await decideAfter('r-approve', 1, 'approve', new Date('2026-11-26T11:00:00.000Z'), 3600, recordMetric);
    expect(recorded).toEqual([
      ['approvalWaitTime', 90, 'Seconds'],
      ['approvalWaitTime', 3600, 'Seconds'],
      ['approved', 1, 'Count'],
    ]);
  });

  it('counts a rejection with its wait', async () => {
    const { recorded, recordMetric } = recorder();
    await new RequestRepository(table.db, table.tableName).create(request('r-reject', 1));
    await decideAfter('r-reject', 0, 'reject', new Date('2026-11-26T10:00:00.000Z'), 30, recordMetric);
    expect(recorded).toEqual([
      ['approvalWaitTime', 30, 'Seconds'],
      ['rejected', 1, 'Count'],
    ]);
  });

  it('counts a failure once, however often Finalize is retried', async () => {
    const { recorded, recordMetric } = recorder();
    await new RequestRepository(table.db, table.tableName).create({ ...request('r-fail', 1), status: 'PROVISIONING' });
    const deps = {
      requests: new RequestRepository(table.db, table.tableName),
      approvals: new ApprovalRepository(table.db, table.tableName),
      quotas: new QuotaRepository(table.db, table.tableName),
      notifier: silentNotifier,
      nodeTracking: true,
      recordMetric,
    };
    const input = {
      requestId: 'r-fail',
      approval: null,
      error: { Error: 'ModelArtsError', Cause: '{"errorMessage":"quota exceeded in ModelArts"}' },
      created: null,
    };
    expect(await finalizeRequest(input, deps)).toEqual({ status: 'FAILED' });
    expect(await finalizeRequest(input, deps)).toEqual({ status: 'FAILED' });
    expect(recorded).toEqual([['failed', 1, 'Count']]);
  });
});

describe('the policy file alarms section', () => {
  const policyWith = (alarms: unknown) => {
    const policy = JSON.parse(readFileSync(join(ROOT, 'poolgate.config.json'), 'utf8')) as Record<string, unknown>;
    return JSON.stringify({ ...policy, alarms });
  };

  it('takes an optional e-mail for the alarm topic', () => {
    expect(parsePolicy(policyWith({ email: 'Ops@Example.com' })).alarms).toEqual({ email: 'ops@example.com' });
    expect(parsePolicy(policyWith({})).alarms).toEqual({});
  });

  it('names the field of a wrong one', () => {
    expect(() => parsePolicy(policyWith({ email: 'ops' }))).toThrow(/alarms\.email: /);
    expect(() => parsePolicy(policyWith({ emails: ['ops@example.com'] }))).toThrow(/alarms: .*emails/);
  });
});
