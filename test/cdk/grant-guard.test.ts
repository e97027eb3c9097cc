/**
 * The grant guard. The local stack gives every handler every variable, so a handler that starts to
 * need a table or a secret its function is not granted passes every local test and fails only on AWS.
 * Here each handler's needs are derived from what it wires (test/cdk/wiring-needs.ts) and checked
 * against its function in the synthesized stack: every grant of FUNCTION_NEEDS sets its variable with
 * it (bindTable, bindSecret, addEnvironment), so a variable present is a grant given.
 */
import { ENV } from '../../contracts/environment';
import { FUNCTION_ENTRIES, type FunctionId } from '../../contracts/functions';
import { FUNCTION_NEEDS } from '../../lib/constructs/functions';
import { type CfnResource, logicalIdOf, synthesizePoolgate, type SynthesizedPoolgate } from './support';
import { filesReadingEnvironment, handlerNeeds, type EnvReads } from './wiring-needs';

jest.setTimeout(60_000);

const ALL_FUNCTIONS = Object.keys(FUNCTION_ENTRIES) as FunctionId[];
/** Read when set, never set by the stack: endpoints the local stack points elsewhere (its simulator, its Slack stand-in). */
const LOCAL_OVERRIDES: readonly string[] = [ENV.modelArtsEndpoint, ENV.slackApiUrl];
/**
 * Granted but not read, found by this guard when it was written and left as they are (issue 14 changes
 * no behaviour; narrowing a grant is a change of its own): the request page gets `links` for its key
 * but builds no absolute link; the two decision handlers get `notify` (SES and MAIL_FROM with the Slack
 * token) but only rewrite Slack messages (wiring's settledStageNotifier has no mailer). The node-pool
 * inventory is in the request page's case: `links` for the key its list cursors are signed with, its
 * links relative.
 */
const KNOWN_UNREAD = [
  'requestPage: PUBLIC_BASE_URL',
  'nodePoolInventory: PUBLIC_BASE_URL',
  // It checks extension links (the link key), and builds none.
  'extendLease: PUBLIC_BASE_URL',
  'approvals: MAIL_FROM',
  'slackInteractions: MAIL_FROM',
];
/** Set on every function by PoolgateFunction, read by the wiring and Powertools. */
const EVERY_FUNCTION: readonly string[] = [ENV.policyFile];

/** The variables of each function of a synthesized service stack. */
function variablesOf(synth: SynthesizedPoolgate): Record<FunctionId, Set<string>> {
  const resources = synth.serviceTemplate.toJSON().Resources as Record<string, CfnResource>;
  return Object.fromEntries(
    ALL_FUNCTIONS.map((fid) => {
      const id = logicalIdOf(synth.service, synth.service.functions.byId[fid].functionArn);
      const environment = resources[id].Properties.Environment as { Variables?: Record<string, unknown> } | undefined;
      return [fid, new Set(Object.keys(environment?.Variables ?? {}))];
    }),
  ) as Record<FunctionId, Set<string>>;
}

/**
 * What the guard reports: each variable a handler reads that its function lacks. An optional variable
 * counts when the stack sets it on some function (it is a deployment setting, like the Slack bot
 * token: without it that handler would silently not use Slack); the local-only overrides do not.
 */
function unmetNeeds(needs: Record<FunctionId, EnvReads>, variables: Record<FunctionId, Set<string>>): string[] {
  const setSomewhere = new Set(ALL_FUNCTIONS.flatMap((fid) => [...variables[fid]]));
  return ALL_FUNCTIONS.flatMap((fid) => {
    const wanted = [
      ...needs[fid].required,
      ...[...needs[fid].optional].filter((v) => setSomewhere.has(v) && !LOCAL_OVERRIDES.includes(v)),
    ];
    return wanted
      .filter((v) => !variables[fid].has(v))
      .sort()
      .map((v) => `${fid} reads ${v}, which its function is not granted (FUNCTION_NEEDS.${fid})`);
  });
}

const needs = handlerNeeds();
let synth: SynthesizedPoolgate;
beforeAll(() => {
  synth = synthesizePoolgate({ cfnValidation: false });
});
afterAll(() => synth.cleanUp());

it('derives needs from every place lambdas/ reads the environment: the wiring alone (and Powertools its own)', () => {
  expect(filesReadingEnvironment()).toEqual([
    'lambdas/adapters/environment.ts',
    'lambdas/adapters/logger.ts',
    'lambdas/adapters/metrics.ts',
    'lambdas/wiring.ts',
  ]);
});

it('derives what the handlers wire: nothing for health and openapi, the table, auth, workflow and ModelArts for submit', () => {
  expect([...needs.health.required, ...needs.health.optional]).toEqual([]);
  expect([...needs.openapi.required, ...needs.openapi.optional]).toEqual([]);
  expect([...needs.submit.required].sort()).toEqual(
    [
      ENV.tableName,
      ENV.policyFile,
      ENV.stateMachineArn,
      ENV.jwtIssuer,
      ENV.jwtAudience,
      ENV.jwksUri,
      ENV.jwtAlgorithms,
      ENV.jwtRequireVerifiedEmail,
      ENV.modelArtsCredentialsSecretId,
    ].sort(),
  );
  expect([...needs.finalize.optional].sort()).toEqual([ENV.slackApiUrl, ENV.slackBotTokenSecretId].sort());
});

it('finds every variable each handler reads on its function in the synthesized stack', () => {
  expect(unmetNeeds(needs, variablesOf(synth))).toEqual([]);
});

it('grants no variable a handler does not read, beyond those every function gets and the known ones', () => {
  const variables = variablesOf(synth);
  const poolgateVariables = new Set<string>(Object.values(ENV));
  const unread = ALL_FUNCTIONS.flatMap((fid) =>
    [...variables[fid]]
      .filter((v) => poolgateVariables.has(v) && !EVERY_FUNCTION.includes(v))
      .filter((v) => !needs[fid].required.has(v) && !needs[fid].optional.has(v))
      .map((v) => `${fid}: ${v}`),
  );
  expect(unread.sort()).toEqual([...KNOWN_UNREAD].sort());
});

it('leaves the local-only overrides to the local stack: the stack sets them on no function', () => {
  const variables = variablesOf(synth);
  for (const fid of ALL_FUNCTIONS)
    for (const v of LOCAL_OVERRIDES) expect([fid, variables[fid].has(v)]).toEqual([fid, false]);
});

describe('the guard itself', () => {
  it('fails when one grant is removed: getRequest without `links` misses the link key and the public URL', () => {
    const replaced = jest.replaceProperty(
      FUNCTION_NEEDS,
      'getRequest',
      FUNCTION_NEEDS.getRequest.filter((need) => need !== 'links'),
    );
    const weakened = synthesizePoolgate({ name: 'PoolgateGuardTest', cfnValidation: false });
    try {
      expect(unmetNeeds(needs, variablesOf(weakened))).toEqual([
        `getRequest reads ${ENV.linkKeySecretId}, which its function is not granted (FUNCTION_NEEDS.getRequest)`,
        `getRequest reads ${ENV.publicBaseUrl}, which its function is not granted (FUNCTION_NEEDS.getRequest)`,
      ]);
    } finally {
      replaced.restore();
      weakened.cleanUp();
    }
  });

  it('fails when the Slack bot token of notify is missing from a function that tells people', () => {
    const variables = variablesOf(synth);
    variables.finalize.delete(ENV.slackBotTokenSecretId);
    expect(unmetNeeds(needs, variables)).toEqual([
      `finalize reads ${ENV.slackBotTokenSecretId}, which its function is not granted (FUNCTION_NEEDS.finalize)`,
    ]);
  });
});
