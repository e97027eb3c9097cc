/**
 * How every Lambda handler is bundled and started, in one place: the house construct
 * (lib/constructs/poolgate-function.ts) hands these to NodejsFunction, and the benchmark (bench/)
 * bundles and imports the handlers with exactly the same options to measure what is deployed.
 * Plain data (no CDK, no esbuild import), in esbuild's vocabulary.
 */
export const LAMBDA_BUNDLING = {
  format: 'esm',
  platform: 'node',
  target: 'node22',
  minify: true,
  sourcemap: true,
  /**
   * Maps without the sources themselves (about 0.6 MB instead of 2-3 MB): stack traces still point at
   * file and line, and Node (NODE_OPTIONS below) reads and parses the map at import: 35-50 ms less per
   * cold start measured on this repository's 2-core machine (docs/decisions.md).
   */
  sourcesContent: false,
  mainFields: ['module', 'main'],
  /**
   * The AWS SDK is bundled (pinned by package-lock, tree-shaken), not taken from the runtime. Left
   * out: the SDK's event-stream codec (about 15 KB), which its HTTP protocol loads with a dynamic
   * `import()` only for operations with event streams; none of the clients poolgate uses (DynamoDB,
   * Step Functions, SESv2, Secrets Manager) has such an operation, so the import never runs. A client
   * that had one would fail at that call ("Cannot find package '@smithy/core'"), not silently.
   */
  external: ['@smithy/core/event-streams'],
  /** ESM bundles of CommonJS dependencies need `require` (DESIGN, bundle facts). */
  banner: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
  /**
   * Modules replaced in the bundles (esbuild `alias`; paths relative to the project root, where esbuild
   * runs). The SDK clients' default credential chain becomes the environment provider Lambda feeds
   * (about -130 KB per handler: the chain's nested STS/SSO/sign-in clients and their protocols);
   * see lambdas/adapters/aws/env-credentials.ts and docs/decisions.md. Sources run unbundled (tests,
   * the local stack) keep the full chain.
   */
  alias: { '@aws-sdk/credential-provider-node': './lambdas/adapters/aws/env-credentials.ts' },
} as const satisfies {
  format: 'esm';
  platform: 'node';
  target: string;
  minify: boolean;
  sourcemap: boolean;
  sourcesContent: boolean;
  mainFields: readonly string[];
  external: readonly string[];
  banner: string;
  alias: Readonly<Record<string, string>>;
};

/** NODE_OPTIONS of every function: stack traces through the bundle's source map. */
export const LAMBDA_NODE_OPTIONS = '--enable-source-maps';
