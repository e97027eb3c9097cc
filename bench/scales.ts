/**
 * Scales, one after another, on a quiet stack with node tracking on: each node pool of `names` (created
 * by an earlier flow) patched through `PATCH .../nodepools/{name}` to `count` nodes, the scale-up
 * approved from its e-mail link as an approver would (a scale-down needs no approval by default), and
 * followed until its execution ends (ACTIVE). Per scale: the state transitions of its execution and
 * what the batch consumed (GET /_local/usage before and after, divided by the number of scales).
 */
import type { RunningStack } from '../local/harness/stack';
import type { OutboxIndex } from '../local/harness/outbox';
import { eventually } from '../local/harness/poll';
import { formFields, openLink, POOL, postDecision, PROJECT_ID } from '../local/harness/requests';
import { APPROVER, oneAfterAnother, succeededExecution, type ExecutionFigures, type FlowFigures } from './flows';

export interface ScaleOptions {
  readonly stack: RunningStack;
  readonly token: string;
  readonly outbox: OutboxIndex;
  readonly names: readonly string[];
  /** The node count each node pool is patched to. */
  readonly count: number;
  /** Whether the policy asks an approver (a scale-up by default). */
  readonly approve: boolean;
  readonly flavor?: string;
}

export type ScaleFigures = FlowFigures & { readonly pollsPerScale: number };

async function oneScale(options: ScaleOptions, name: string): Promise<ExecutionFigures> {
  const { stack } = options;
  const flavor = options.flavor ?? 'modelarts.vm.2u4g.dcc';
  const response = await fetch(`${stack.endpoints.api}/v2/${PROJECT_ID}/pools/${POOL}/nodepools/${name}`, {
    method: 'PATCH',
    headers: { authorization: `Bearer ${options.token}`, 'content-type': 'application/merge-patch+json' },
    body: JSON.stringify({ spec: { resources: { flavor, count: options.count, maxCount: options.count } } }),
  });
  const body = (await response.json()) as { requestId?: string };
  if (response.status !== 202 || !body.requestId)
    throw new Error(`scale ${name}: ${response.status} ${JSON.stringify(body)}`);
  const requestId = body.requestId;
  if (options.approve) {
    const link = await eventually(
      () => options.outbox.link(requestId, APPROVER),
      `the approval mail of ${name}`,
      60_000,
      5,
    );
    const decided = await postDecision(link, formFields((await openLink(link)).html), 'approve');
    if (decided.status !== 200) throw new Error(`decision on the scale of ${name}: ${decided.status}`);
  }
  return succeededExecution(stack, requestId, `scale of ${name}`);
}

export async function scaleFlows(options: ScaleOptions): Promise<ScaleFigures> {
  const figures = await oneAfterAnother(options, options.names, (name) => oneScale(options, name));
  return { ...figures, pollsPerScale: figures.usage.lambda.checkNodes?.invocations ?? 0 };
}
