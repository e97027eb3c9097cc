/**
 * The order and billing annotations poolgate adds to the ModelArts body. Pay-per-use ("0") is
 * the default when the request names no billing mode; yearly/monthly ("1") is never sent without
 * an order id.
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
    ...(a[ANNOTATION.periodNum] ? { periodNum: a[ANNOTATION.periodNum] } : {}),
    ...(a[ANNOTATION.periodType] ? { periodType: a[ANNOTATION.periodType] } : {}),
    ...(a[ANNOTATION.autoRenew] ? { autoRenew: a[ANNOTATION.autoRenew] } : {}),
    ...(a[ANNOTATION.orderId] ? { orderId: a[ANNOTATION.orderId] } : {}),
  };
}

/** The annotations to send: the request's own, completed with poolgate's defaults and links. */
export function billingAnnotations(
  body: NodePoolRequest,
  extra: { consoleUrl: string; orderId?: string },
): Annotations {
  const annotations = annotationsOf(body);
  const mode: BillingMode = annotations[ANNOTATION.billingMode] === '1' ? '1' : '0';
  annotations[ANNOTATION.billingMode] = mode;
  annotations[ANNOTATION.consoleUrl] = extra.consoleUrl;
  if (mode === '1') {
    annotations[ANNOTATION.autoRenew] ??= '0';
    const orderId = annotations[ANNOTATION.orderId] || extra.orderId;
    if (!orderId) throw new MissingOrderIdError('a yearly/monthly node pool needs os.modelarts/order.id');
    annotations[ANNOTATION.orderId] = orderId;
  }
  return annotations;
}
