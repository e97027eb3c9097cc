/**
 * The order and billing annotations poolgate adds to the ModelArts body. A request that names no
 * billing mode takes the pool's: CheckRequest lets it through only in a pay-per-use pool, so it is
 * sent as pay-per-use ("0"); in a yearly/monthly pool it is refused (BILLING_MODE_REQUIRED) rather
 * than create pay-per-use nodes there. Yearly/monthly ("1") is never sent without an order id.
 */
import type { NodePoolRequest } from './nodepool-request';

export type BillingMode = '0' | '1';

export const ANNOTATION = {
  billingMode: 'os.modelarts/billing.mode',
  periodNum: 'os.modelarts/period.num',
  periodType: 'os.modelarts/period.type',
  autoRenew: 'os.modelarts/auto.renew',
  promotionInfo: 'os.modelarts/promotion.info',
  consoleUrl: 'os.modelarts/service.console.url',
  orderId: 'os.modelarts/order.id',
} as const;

export interface BillingSummary {
  readonly mode: BillingMode;
  readonly periodNum?: string;
  readonly periodType?: string;
  readonly autoRenew?: string;
  readonly orderId?: string;
  /**
   * The request named no billing mode: the pool's billing mode decides (`mode` is then "0", the
   * only one such a request can be created with).
   */
  readonly fromPool?: true;
}

export class MissingOrderIdError extends Error {
  override name = 'MissingOrderIdError';
}

type Annotations = Record<string, string>;

function annotationsOf(body: NodePoolRequest): Annotations {
  return { ...(body.metadata.annotations as Annotations | undefined) };
}

export function billingOf(body: NodePoolRequest): BillingSummary {
  const a = annotationsOf(body);
  const mode: BillingMode = a[ANNOTATION.billingMode] === '1' ? '1' : '0';
  return {
    mode,
    ...(a[ANNOTATION.billingMode] === undefined ? { fromPool: true as const } : {}),
    ...(a[ANNOTATION.periodNum] ? { periodNum: a[ANNOTATION.periodNum] } : {}),
    ...(a[ANNOTATION.periodType] ? { periodType: a[ANNOTATION.periodType] } : {}),
    ...(a[ANNOTATION.autoRenew] ? { autoRenew: a[ANNOTATION.autoRenew] } : {}),
    ...(a[ANNOTATION.orderId] ? { orderId: a[ANNOTATION.orderId] } : {}),
  };
}

/**
 * The annotations to send: the request's own, completed with poolgate's defaults and links. The
 * requester's own `service.console.url` is kept; without one, ModelArts links to the request's page.
 */
export function billingAnnotations(
  body: NodePoolRequest,
  extra: { consoleUrl: string; orderId?: string },
): Annotations {
  const annotations = annotationsOf(body);
  const mode: BillingMode = annotations[ANNOTATION.billingMode] === '1' ? '1' : '0';
  annotations[ANNOTATION.billingMode] = mode;
  if (!annotations[ANNOTATION.consoleUrl]) annotations[ANNOTATION.consoleUrl] = extra.consoleUrl;
  if (mode === '1') {
    annotations[ANNOTATION.autoRenew] ??= '0';
    const orderId = annotations[ANNOTATION.orderId] || extra.orderId;
    if (!orderId) throw new MissingOrderIdError('a yearly/monthly node pool needs os.modelarts/order.id');
    annotations[ANNOTATION.orderId] = orderId;
  }
  return annotations;
}
