import type { Health } from '../../contracts/api';
import { json, type HttpResult } from './http';

/** GET /health — the API and its function answer. */
export const handler = (): Promise<HttpResult> => Promise.resolve(json(200, { status: 'ok' } satisfies Health));
