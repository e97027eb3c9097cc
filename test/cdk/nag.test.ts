/**
 * cdk-nag's AwsSolutions pack on both stacks (bin/poolgate.ts runs it on every synth): nothing left
 * unacknowledged, and every acknowledgement is one of the known, reasoned exceptions, made on a
 * resource, never on a whole stack.
 */
import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ACCOUNT, REGION, synthesizePoolgate, type SynthesizedPoolgate } from './support';

jest.setTimeout(60_000);

let synth: SynthesizedPoolgate;
let violations: Array<{ rule: string; paths: Array<string | undefined> }>;
let acknowledgements: Array<{ path: string; id: string; reason: string }>;

beforeAll(() => {
  synth = synthesizePoolgate({ cfnValidation: false });
  violations = new AwsSolutionsChecks(synth.app)
    .validateScope(synth.app)
    .violations.map((v) => ({ rule: v.ruleName, paths: v.violatingResources.map((r) => r.constructPath) }));
  acknowledgements = synth.app.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, string | { reason: string }>).map(([id, value]) => ({
          path: construct.node.path,
          id: id.replace(/^annotation::/i, ''),
          reason: typeof value === 'string' ? value : value.reason,
        })),
      ),
  );
});
afterAll(() => synth.cleanUp());

it('leaves no AwsSolutions error or warning', () => {
  expect(violations).toEqual([]);
});

it('acknowledges only the known exceptions, each with its reason, each on a resource', () => {
  // A new exception is a decision: add it here, with its reason in the code that makes it.
  const expected = new Set([
    'AwsSolutions-APIG4', // no authorizer: each route's handler proves its caller (ROUTE_PROOFS in lib/constructs/api.ts)
    'AwsSolutions-IAM5[Resource::*]', // X-Ray and vended-log delivery have no resource-level permissions
    `AwsSolutions-IAM5[Resource::arn:aws:states:${REGION}:${ACCOUNT}:execution:${synth.service.stackName}-workflow:*]`, // StopExecution
    'AwsSolutions-L1', // Node.js 22 pinned
    'AwsSolutions-SF1', // the workflow logs at ERROR without execution data
    'AwsSolutions-SMG4', // secrets issued elsewhere, or that must outlive their links
  ]);
  expect(new Set(acknowledgements.map((a) => a.id))).toEqual(expected);
  const stacks = new Set([synth.data.node.path, synth.service.node.path]);
  for (const a of acknowledgements) {
    expect([a.id, a.reason]).toEqual([a.id, expect.stringMatching(/^.{60,}$/s)]);
    // Never the app or a whole stack: a construct inside one.
    expect([a.id, a.path !== '' && !stacks.has(a.path)]).toEqual([a.id, true]);
  }
});

it('acknowledges the missing authorizer route by route, saying what proves each caller', () => {
  const routes = acknowledgements.filter((a) => a.id === 'AwsSolutions-APIG4');
  expect(routes).toHaveLength(Object.keys(synth.serviceTemplate.findResources('AWS::ApiGatewayV2::Route')).length);
  for (const route of routes)
    expect(route.reason).toMatch(/^(GET|POST|PATCH|DELETE) \/\S* has no API Gateway authorizer .*proven by \S/);
});
