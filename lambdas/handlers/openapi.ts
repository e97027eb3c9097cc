import document from '../openapi/openapi.json';
import { json, type HttpResult } from './http';

/**
 * GET /openapi.json — the OpenAPI 3.1 document, generated at build time from the zod schemas
 * (`npm run openapi`), so this bundle carries the JSON and neither zod nor the generator.
 */
export const handler = (): Promise<HttpResult> =>
  Promise.resolve(json(200, document, { 'cache-control': 'public, max-age=300' }));
