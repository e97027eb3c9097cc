/**
 * `npm run openapi`: writes lambdas/openapi/openapi.json from the zod schemas. The `openapi` handler
 * serves that file; test/unit/openapi.test.ts fails when it is stale.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { buildOpenApiDocument } from '../lambdas/openapi/document';

export const OPENAPI_FILE = resolve(__dirname, '../lambdas/openapi/openapi.json');

export function renderOpenApiDocument(): string {
  return `${JSON.stringify(buildOpenApiDocument(), null, 2)}\n`;
}

if (require.main === module) {
  writeFileSync(OPENAPI_FILE, renderOpenApiDocument());
  process.stdout.write(`wrote ${OPENAPI_FILE}\n`);
}
