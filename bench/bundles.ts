/**
 * Bundle size and cold import time of every Lambda handler, bundled with exactly the stack's options
 * (contracts/bundling.ts), beside an empty module measured in the same run.
 *
 * Import time: `await import(bundle)` timed inside fresh `node` processes (the median of `runs`),
 * the bundles taken in turn within each round so that a slow moment of the machine hits them all
 * alike. Three variants:
 *  - as bundled (the AWS SDK inside), without and with NODE_OPTIONS of the stack (--enable-source-maps);
 *  - with `@aws-sdk/*` left out of the bundle, imported from node_modules instead, which is what
 *    "the SDK of the Lambda runtime" would mean (measured here from this machine's node_modules).
 */
import { build, type Metafile } from 'esbuild';
import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { LAMBDA_BUNDLING, LAMBDA_NODE_OPTIONS } from '../contracts/bundling';
import { FUNCTION_ENTRIES, type FunctionId } from '../contracts/functions';
import { median, round } from './stats';

const run = promisify(execFile);
const ROOT = resolve(__dirname, '..');
/** Inside node_modules, so that `@aws-sdk/*` left out of a bundle resolves to the project's copy. */
const OUT_DIR = join(ROOT, 'node_modules', '.cache', 'poolgate-bench');

/** The handlers on the request path (the brief's 400 KB class); every other one is a workflow or utility handler. */
export const REQUEST_PATH: readonly FunctionId[] = [
  'submit',
  'getRequest',
  'requestPage',
  'approvals',
  'slackInteractions',
];

export interface BundleFigures {
  readonly functionId: FunctionId;
  readonly requestPath: boolean;
  /** Bytes of the minified bundle (the .mjs, not its source map). */
  readonly bytes: number;
  readonly sourceMapBytes: number;
  /** Largest contributors: npm package (or `poolgate` for our own code) -> bytes in the output. */
  readonly topInputs: ReadonlyArray<readonly [string, number]>;
  readonly importMs: number;
  readonly importWithSourceMapsMs: number;
  readonly sdkExternal: { readonly bytes: number; readonly importMs: number };
}

/** One dependency bundled alone with the same options: what it adds to a handler. */
export interface ComponentFigures {
  readonly name: string;
  readonly bytes: number;
  readonly importMs: number;
}

/** The dependencies the handlers are made of, each imported as the handlers import it. */
const COMPONENTS: ReadonlyArray<readonly [string, string]> = [
  [
    'AWS SDK: DynamoDB document client',
    "import { DynamoDBClient } from '@aws-sdk/client-dynamodb'; import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb'; export const x = [DynamoDBClient, DynamoDBDocumentClient, GetCommand];",
  ],
  [
    'AWS SDK: Step Functions client',
    "import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn'; export const x = [SFNClient, StartExecutionCommand];",
  ],
  [
    'AWS SDK: DynamoDB + Step Functions (submit)',
    "import { DynamoDBClient } from '@aws-sdk/client-dynamodb'; import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb'; import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn'; export const x = [DynamoDBClient, DynamoDBDocumentClient, GetCommand, SFNClient, StartExecutionCommand];",
  ],
  [
    'AWS SDK: SESv2 client',
    "import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2'; export const x = [SESv2Client, SendEmailCommand];",
  ],
  [
    'Powertools parameters: getSecret (+ Secrets Manager client)',
    "import { getSecret } from '@aws-lambda-powertools/parameters/secrets'; export const x = getSecret;",
  ],
  ['Powertools logger', "import { Logger } from '@aws-lambda-powertools/logger'; export const x = new Logger();"],
  [
    "zod/mini (import * as z from 'zod/mini')",
    "import * as z from 'zod/mini'; export const x = z.strictObject({ a: z.string().check(z.minLength(1)) });",
  ],
  [
    'poolgate: request body schema (zod/mini)',
    "import { NodePoolRequestSchema } from './lambdas/domain/nodepool-request'; export const x = NodePoolRequestSchema;",
  ],
  [
    'poolgate: policy schema (zod/mini)',
    "import { PolicySchema } from './lambdas/config/policy'; export const x = PolicySchema;",
  ],
  [
    'Node built-ins the SDK loads (http, https, crypto, stream, os)',
    "import * as http from 'node:http'; import * as https from 'node:https'; import * as crypto from 'node:crypto'; import * as stream from 'node:stream'; import * as os from 'node:os'; export const x = [http, https, crypto, stream, os];",
  ],
  [
    'jose (jwtVerify, createRemoteJWKSet)',
    "import { createRemoteJWKSet, jwtVerify } from 'jose'; export const x = [createRemoteJWKSet, jwtVerify];",
  ],
  ['@slack/web-api', "import { WebClient } from '@slack/web-api'; export const x = WebClient;"],
];

export interface BundleReport {
  readonly options: typeof LAMBDA_BUNDLING;
  readonly nodeOptions: string;
  readonly runs: number;
  readonly emptyImportMs: number;
  readonly emptyImportWithSourceMapsMs: number;
  readonly bundles: readonly BundleFigures[];
  /** Each dependency alone: where the bytes and the import time come from. */
  readonly components: readonly ComponentFigures[];
}

async function bundle(functionId: FunctionId, outDir: string, sdkExternal: boolean) {
  return bundleEntry(
    { entryPoints: [join(ROOT, FUNCTION_ENTRIES[functionId])] },
    join(outDir, functionId, 'index.mjs'),
    sdkExternal,
  );
}

async function bundleEntry(
  entry: { entryPoints: string[] } | { stdin: { contents: string; resolveDir: string; loader: 'ts' } },
  outfile: string,
  sdkExternal: boolean,
) {
  const result = await build({
    ...entry,
    outfile,
    bundle: true,
    write: true,
    metafile: true,
    logLevel: 'error',
    format: LAMBDA_BUNDLING.format,
    platform: LAMBDA_BUNDLING.platform,
    target: LAMBDA_BUNDLING.target,
    minify: LAMBDA_BUNDLING.minify,
    sourcemap: LAMBDA_BUNDLING.sourcemap,
    sourcesContent: LAMBDA_BUNDLING.sourcesContent,
    mainFields: [...LAMBDA_BUNDLING.mainFields],
    external: sdkExternal ? [...LAMBDA_BUNDLING.external, '@aws-sdk/*'] : [...LAMBDA_BUNDLING.external],
    banner: { js: LAMBDA_BUNDLING.banner },
    alias: { ...LAMBDA_BUNDLING.alias },
    absWorkingDir: ROOT,
  });
  return {
    outfile,
    bytes: statSync(outfile).size,
    sourceMapBytes: LAMBDA_BUNDLING.sourcemap ? statSync(`${outfile}.map`).size : 0,
    metafile: result.metafile,
  };
}

function topInputs(metafile: Metafile, count = 6): Array<[string, number]> {
  const output = Object.values(metafile.outputs).find((o) => o.entryPoint);
  const byPackage = new Map<string, number>();
  for (const [file, input] of Object.entries(output?.inputs ?? {})) {
    const name = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file)?.[1] ?? 'poolgate';
    byPackage.set(name, (byPackage.get(name) ?? 0) + input.bytesInOutput);
  }
  return [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, count);
}

/** One fresh process: milliseconds from before `import()` to its resolution. */
async function importOnce(file: string, nodeOptions?: string): Promise<number> {
  const script = `const t = performance.now(); await import(${JSON.stringify(pathToFileURL(file).href)}); process.stdout.write(String(performance.now() - t));`;
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    AWS_REGION: 'us-east-1',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    POWERTOOLS_SERVICE_NAME: 'poolgate',
    ...(nodeOptions ? { NODE_OPTIONS: nodeOptions } : {}),
  };
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { env, cwd: OUT_DIR });
  return Number(stdout);
}

/** Median import time of each file, over `runs` rounds that take every file in turn. */
async function importTimes(files: readonly string[], runs: number, nodeOptions?: string): Promise<number[]> {
  const samples = files.map(() => [] as number[]);
  for (let round = 0; round < runs; round++) {
    for (const [i, file] of files.entries()) samples[i].push(await importOnce(file, nodeOptions));
  }
  return samples.map((s) => median(s));
}

export async function measureBundles(options: {
  runs: number;
  variantRuns: number;
  log: (line: string) => void;
}): Promise<BundleReport> {
  rmSync(OUT_DIR, { recursive: true, force: true });
  mkdirSync(OUT_DIR, { recursive: true });
  const empty = join(OUT_DIR, 'empty', 'index.mjs');
  mkdirSync(join(OUT_DIR, 'empty'), { recursive: true });
  writeFileSync(empty, 'export const handler = async () => ({});\n');

  const ids = Object.keys(FUNCTION_ENTRIES) as FunctionId[];
  const bundled: Array<Awaited<ReturnType<typeof bundle>>> = [];
  const external: Array<Awaited<ReturnType<typeof bundle>>> = [];
  for (const id of ids) {
    bundled.push(await bundle(id, join(OUT_DIR, 'bundled'), false));
    external.push(await bundle(id, join(OUT_DIR, 'sdk-external'), true));
  }
  options.log(
    `bundled ${ids.length} handlers; timing imports (${options.runs} fresh processes each, plus ${options.variantRuns} per variant)`,
  );

  const [emptyMs, ...importMs] = await importTimes([empty, ...bundled.map((b) => b.outfile)], options.runs);
  const [emptySmMs, ...importSmMs] = await importTimes(
    [empty, ...bundled.map((b) => b.outfile)],
    options.variantRuns,
    LAMBDA_NODE_OPTIONS,
  );
  const externalMs = await importTimes(
    external.map((b) => b.outfile),
    options.variantRuns,
  );
  const components: Array<Awaited<ReturnType<typeof bundleEntry>>> = [];
  for (const [i, [, contents]] of COMPONENTS.entries()) {
    components.push(
      await bundleEntry(
        { stdin: { contents, resolveDir: ROOT, loader: 'ts' } },
        join(OUT_DIR, 'components', String(i), 'index.mjs'),
        false,
      ),
    );
  }
  const componentMs = await importTimes(
    components.map((c) => c.outfile),
    options.variantRuns,
  );

  return {
    options: LAMBDA_BUNDLING,
    nodeOptions: LAMBDA_NODE_OPTIONS,
    runs: options.runs,
    emptyImportMs: round(emptyMs),
    emptyImportWithSourceMapsMs: round(emptySmMs),
    bundles: ids.map((functionId, i) => ({
      functionId,
      requestPath: REQUEST_PATH.includes(functionId),
      bytes: bundled[i].bytes,
      sourceMapBytes: bundled[i].sourceMapBytes,
      topInputs: topInputs(bundled[i].metafile),
      importMs: round(importMs[i]),
      importWithSourceMapsMs: round(importSmMs[i]),
      sdkExternal: { bytes: external[i].bytes, importMs: round(externalMs[i]) },
    })),
    components: COMPONENTS.map(([name], i) => ({ name, bytes: components[i].bytes, importMs: round(componentMs[i]) })),
  };
}
