/**
 * Shared by the CDK suites: the app context of cdk.json (so tests synthesize with the feature flags
 * `npm run synth` uses) and a directory of stub handlers outside the repository, so the assertion
 * suite does not depend on the handlers' progress. The assertion suite skips bundling (CDK's own
 * `aws:cdk:bundling-stacks` switch); app.test.ts bundles the real handlers through the CLI.
 */
import { App, type Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { FUNCTION_ENTRIES, type FunctionId } from '../../contracts/functions';
import { addPoolgate, type Poolgate, type PoolgateAppProps } from '../../lib/poolgate-app';

export const ROOT = resolve(__dirname, '../..');
export const POLICY_FILE = join(ROOT, 'poolgate.config.json');
export const ACCOUNT = '123456789012';
export const REGION = 'eu-west-1';

/** The `context` of cdk.json: feature flags and CLI settings, as the CLI hands them to the app. */
export function cdkContext(): Record<string, unknown> {
  return (JSON.parse(readFileSync(join(ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }).context;
}

/**
 * An app with cdk.json's context. `bundle: false` lists no stack for bundling, CDK's own switch (what
 * `cdk synth --exclusively` does for the other stacks): the functions keep every setting, their code
 * is a placeholder, and synth takes a second instead of one esbuild process per function.
 */
export function appWithCdkContext({
  bundle,
  outdir,
  cfnValidation = true,
}: {
  bundle: boolean;
  outdir?: string;
  cfnValidation?: boolean;
}): App {
  return new App({
    outdir,
    builtinCloudFormationValidation: cfnValidation,
    context: { ...cdkContext(), ...(bundle ? {} : { 'aws:cdk:bundling-stacks': [] }) },
  });
}

/** A handlers root with every entry of contracts/functions.ts as a one-line handler, and a lock file. */
export function stubHandlersRoot(): string {
  const dir = mkdtempSync(join(tmpdir(), 'poolgate-stub-handlers-'));
  writeFileSync(join(dir, 'package-lock.json'), JSON.stringify({ name: 'stub', lockfileVersion: 3, packages: {} }));
  for (const [functionId, entry] of Object.entries(FUNCTION_ENTRIES)) {
    mkdirSync(dirname(join(dir, entry)), { recursive: true });
    writeFileSync(
      join(dir, entry),
      `export const handler = async () => ({ statusCode: 200, body: ${JSON.stringify(functionId)} });\n`,
    );
  }
  return dir;
}

/** The two stacks as bin/poolgate.ts builds them (from stub handlers, unbundled), and their templates. */
export interface SynthesizedPoolgate extends Poolgate {
  readonly app: App;
  readonly dataTemplate: Template;
  readonly serviceTemplate: Template;
  /** The stub handlers (PoolgateStackProps.handlersRoot). */
  readonly handlersRoot: string;
  /** Removes the stub handlers and the cloud assembly. */
  readonly cleanUp: () => void;
}

/**
 * The test deployment: the policy file of the repository, a fixed account and region. CloudFormation's
 * own template validation (seconds per synth) runs in stack.test.ts and in the CLI synth of
 * app.test.ts; the other suites skip it with `cfnValidation: false`.
 */
export function synthesizePoolgate({
  name = 'PoolgateTest',
  cfnValidation = true,
  ...overrides
}: Partial<PoolgateAppProps> & { name?: string; cfnValidation?: boolean } = {}): SynthesizedPoolgate {
  const handlersRoot = stubHandlersRoot();
  // The cloud assembly goes beside the stubs, so cleanUp removes both.
  const app = appWithCdkContext({ bundle: false, outdir: join(handlersRoot, 'cdk.out'), cfnValidation });
  const stacks = addPoolgate(app, name, {
    policyFile: POLICY_FILE,
    auth: { issuer: 'https://login.example.com/', audience: 'poolgate' },
    mailFrom: 'poolgate@example.com',
    handlersRoot,
    env: { account: ACCOUNT, region: REGION },
    ...overrides,
  });
  return {
    ...stacks,
    app,
    dataTemplate: Template.fromStack(stacks.data),
    serviceTemplate: Template.fromStack(stacks.service),
    handlersRoot,
    cleanUp: () => rmSync(handlersRoot, { recursive: true, force: true }),
  };
}

/** A CloudFormation resource as the template holds it. */
export interface CfnResource {
  readonly Type: string;
  readonly Properties: Record<string, unknown>;
  readonly DeletionPolicy?: string;
  readonly UpdateReplacePolicy?: string;
  readonly Metadata?: Record<string, unknown>;
}

export interface Statement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: unknown;
}

export const actionsOf = (s: Statement): string[] => [s.Action].flat();
export const resourcesOf = (s: Statement): unknown[] => [s.Resource].flat();

/** The logical id of a construct's CloudFormation resource, as `stack.resolve` renders a Ref/GetAtt. */
export function logicalIdOf(stack: Stack, token: string): string {
  const resolved = stack.resolve(token) as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
  const id = resolved.Ref ?? resolved['Fn::GetAtt']?.[0];
  if (!id) throw new Error(`not a reference: ${JSON.stringify(resolved)}`);
  return id;
}

export type FunctionIds = Record<FunctionId, string>;
