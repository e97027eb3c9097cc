/**
 * The OpenAPI document: generated from the zod schemas (never written by hand), committed as the
 * file the `openapi` handler serves, valid OpenAPI 3.1, and covering every route of contracts/routes.ts.
 */
import { compileErrors, validate } from '@readme/openapi-parser';
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { LAMBDA_BUNDLING } from '../../contracts/bundling';
import { FUNCTION_ENTRIES } from '../../contracts/functions';
import { ROUTES } from '../../contracts/routes';
import { OPENAPI_FILE, renderOpenApiDocument } from '../../scripts/generate-openapi';

const generated = renderOpenApiDocument();

it('is the file the handler serves, regenerated (run `npm run openapi` after changing a schema)', () => {
  expect(
    readFileSync(OPENAPI_FILE, 'utf8') === generated
      ? 'up to date'
      : 'lambdas/openapi/openapi.json is stale: run `npm run openapi`',
  ).toBe('up to date');
});

it('is a valid OpenAPI 3.1 document', async () => {
  const result = await validate(JSON.parse(generated));
  expect(result.valid ? 'valid' : compileErrors(result)).toBe('valid');
  expect(JSON.parse(generated).openapi).toBe('3.1.0');
});

it('documents every route with its method, and nothing else', () => {
  const document = JSON.parse(generated) as { paths: Record<string, Record<string, unknown>> };
  const documented = Object.entries(document.paths).flatMap(([path, operations]) =>
    Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
  );
  expect(documented.sort()).toEqual(ROUTES.map((r) => `${r.method} ${r.path}`).sort());
});

it('takes the submit body from the schema submit validates with, and lists the error body', () => {
  const document = JSON.parse(generated);
  const body =
    document.paths['/v2/{project_id}/pools/{pool_name}/nodepools'].post.requestBody.content['application/json'].schema;
  expect(body).toEqual({ $ref: '#/components/schemas/NodePoolRequest' });
  expect(document.components.schemas.NodePoolRequest.properties.spec.required).toEqual(['resources']);
  expect(document.components.schemas.NodePoolRequest.additionalProperties).toBe(false);
  expect(document.components.schemas.Error.required).toEqual(['error_code', 'error_msg']);
});

it('is served by a handler whose bundle carries the JSON, not zod or the generator', async () => {
  const { sourcemap: _sourcemap, banner, ...options } = LAMBDA_BUNDLING;
  const result = await build({
    ...options,
    mainFields: [...options.mainFields],
    external: [...options.external],
    banner: { js: banner },
    entryPoints: [resolve(__dirname, '../..', FUNCTION_ENTRIES.openapi)],
    bundle: true,
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const inputs = Object.keys(result.metafile.inputs);
  expect(inputs.filter((file) => /node_modules\/(zod|@asteasolutions)\//.test(file))).toEqual([]);
  expect(inputs).toContain('lambdas/openapi/openapi.json');
  expect(result.outputFiles[0].contents.length).toBeLessThan(100_000);
});
