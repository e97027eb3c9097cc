/**
 * The policy file (`poolgate.config.json`): teams, their members, approval stages and quotas.
 * Validated at synth (bin/), at `npm start` (local/) and at every cold start (lambdas/).
 * zod/mini (the functional API of zod 4: smaller bundles), with zod's English messages.
 */
import { readFileSync } from 'node:fs';
import { en } from 'zod/v4/locales';
import * as z from 'zod/mini';
import { DEFAULT_JWT_ALGORITHMS, JWT_ALGORITHMS } from '../../contracts/auth';
import { CHANGE_KINDS } from '../domain/request-kind';
import { DEFAULT_POLL_INTERVAL_SECONDS } from '../domain/tracking-schedule';

// zod/mini loads no locale by itself: the rules below without their own message use zod's English ones.
z.config(en());

/** ISO 8601 duration limited to days/hours/minutes/seconds, e.g. `PT4H`, `P2D`, `PT30S`. */
const ISO_DURATION = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/;

export function durationSeconds(duration: string): number {
  const match = ISO_DURATION.exec(duration);
  if (!match || duration === 'P' || duration.endsWith('T')) throw new Error(`not an ISO 8601 duration: ${duration}`);
  const [, d = '0', h = '0', m = '0', s = '0'] = match;
  return Number(d) * 86400 + Number(h) * 3600 + Number(m) * 60 + Number(s);
}

const Duration = z.string().check(
  z.refine((v) => {
    try {
      return durationSeconds(v) > 0;
    } catch {
      return false;
    }
  }, 'must be a positive ISO 8601 duration such as PT4H, P2D or PT30S'),
);

/**
 * Longest a stage may wait. Step Functions allows a year, but Node timers (the local engine) overflow
 * after 24.8 days; approvals that old are stale anyway.
 */
export const MAX_STAGE_SECONDS = 24 * 86400;

const Email = z.pipe(
  z.email(),
  z.transform((e: string) => e.toLowerCase()),
);

export const PersonSchema = z.strictObject({
  email: Email,
  slackUserId: z.optional(z.string().check(z.regex(/^[UW][A-Z0-9]+$/, 'must be a Slack user id such as U012ABCDEF'))),
});

export const StageConditionSchema = z.strictObject({
  /** The stage applies only when the request's billing mode is one of these. */
  billingModes: z.optional(z.array(z.enum(['0', '1'])).check(z.minLength(1))),
  /**
   * The changes the stage applies to (lambdas/domain/request-kind.ts); absent: `create` and `scale-up`.
   * `scale-down`, `update` and `delete` need no approval unless a stage names them.
   */
  changes: z.optional(z.array(z.enum(CHANGE_KINDS)).check(z.minLength(1))),
});

export const StageSchema = z.strictObject({
  name: z.string().check(z.regex(/^[a-z][a-z0-9-]{0,31}$/, 'must be lowercase letters, digits and dashes')),
  approvers: z.array(PersonSchema).check(z.minLength(1)),
  requiredApprovals: z._default(z.number().check(z.int(), z.gte(1)), 1),
  when: z.optional(StageConditionSchema),
  remindAfter: z._default(Duration, 'PT4H'),
  expireAfter: z._default(Duration, 'P2D'),
  /** The approvers of this stage enter the ModelArts order id of a yearly/monthly request that has none. */
  collectsOrderId: z._default(z.boolean(), false),
});

export const TeamSchema = z.strictObject({
  name: z.string().check(z.regex(/^[a-z][a-z0-9-]{0,62}$/, 'must be lowercase letters, digits and dashes')),
  members: z.array(PersonSchema).check(z.minLength(1)),
  stages: z.array(StageSchema).check(z.minLength(1)),
  escalation: z._default(z.array(PersonSchema), []),
  /** Slack channel for the team's approval messages; approvers get direct messages when absent. */
  slackChannel: z.optional(
    z.string().check(z.regex(/^[CG][A-Z0-9]+$/, 'must be a Slack channel id such as C012ABCDEF')),
  ),
  /** Node limits per flavor; a flavor not listed may not be used by the team. */
  quotas: z.record(z.string().check(z.minLength(1)), z.number().check(z.int(), z.gte(0))),
  /** Project ids the team may use; `*` allows any. */
  projects: z._default(z.array(z.string().check(z.minLength(1))), ['*']),
  /** Pool names the team may use; `*` allows any. */
  pools: z._default(z.array(z.string().check(z.minLength(1))), ['*']),
});

const Region = z
  .string()
  .check(z.regex(/^[a-z]{2}-[a-z]+-\d+$/, 'must be a Huawei Cloud region id such as cn-north-4'));
const ProjectId = z
  .string()
  .check(z.regex(/^[0-9a-f]{32}$/, 'must be a Huawei Cloud project id (32 hexadecimal characters)'));

export const ModelArtsProjectSchema = z.strictObject({
  region: z.optional(Region),
  endpoint: z.optional(z.url()),
  /** The complete ARN (with its 6-character suffix) of the secret holding `{"accessKey","secretKey"}` for this project. */
  credentialsSecretArn: z.optional(
    z
      .string()
      .check(
        z.regex(
          /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+-[A-Za-z0-9]{6}$/,
          'must be the complete ARN of a Secrets Manager secret, with its 6-character suffix',
        ),
      ),
  ),
});

const JwtAlgorithms = z
  .array(
    z.enum(JWT_ALGORITHMS, {
      error: (issue) =>
        `must be one of ${JWT_ALGORITHMS.join(', ')} (asymmetric JWS algorithms), got ${JSON.stringify(issue.input)}`,
    }),
  )
  .check(
    z.minLength(1, 'must name at least one algorithm'),
    z.refine((list) => new Set(list).size === list.length, 'must not name an algorithm twice'),
  );

export const PolicySchema = z
  .strictObject({
    auth: z.optional(
      z.strictObject({
        issuer: z.url(),
        audience: z.string().check(z.minLength(1)),
        jwksUri: z.optional(z.url()),
        /** The JWS algorithms a token may be signed with, whatever the issuer's key set allows. */
        algorithms: z._default(JwtAlgorithms, [...DEFAULT_JWT_ALGORITHMS]),
        /** Refuse tokens without an `email_verified` claim too (a `false` one is always refused). */
        requireVerifiedEmail: z._default(z.boolean(), false),
      }),
    ),
    mail: z.optional(z.strictObject({ from: Email })),
    /** AWS deployments: where CloudWatch alarms are sent besides their SNS topic (docs/deploy.md). */
    alarms: z.optional(z.strictObject({ email: z.optional(Email) })),
    /**
     * Where ModelArts is: a Huawei Cloud region (endpoint derived from it) or an explicit endpoint; per
     * project, its own region or endpoint and the Secrets Manager secret holding the AK/SK to sign with.
     */
    modelArts: z._default(
      z.strictObject({
        region: z._default(Region, 'cn-north-4'),
        endpoint: z.optional(z.url()),
        projects: z._default(z.record(ProjectId, ModelArtsProjectSchema), {}),
      }),
      { region: 'cn-north-4', projects: {} },
    ),
    admins: z._default(z.array(Email), []),
    /**
     * After creation, follow the node pool until its nodes are available (status ACTIVE) or abnormal.
     * `pollIntervalSeconds` is the longest wait between two checks: they fall every that many seconds
     * from ModelArts' acceptance of the change (../domain/tracking-schedule.ts). The default, 90 s,
     * notices readiness within 90 s at 7 checks for nodes that take 10 minutes; a smaller value checks
     * more often (tests use 1), a larger one checks less often and notices later.
     */
    nodeTracking: z._default(
      z.strictObject({
        enabled: z._default(z.boolean(), true),
        pollIntervalSeconds: z._default(
          z.number().check(z.int(), z.gte(1), z.lte(3600)),
          DEFAULT_POLL_INTERVAL_SECONDS,
        ),
        timeoutSeconds: z._default(z.number().check(z.int(), z.gte(10), z.lte(7 * 86400)), 3600),
      }),
      { enabled: true, pollIntervalSeconds: DEFAULT_POLL_INTERVAL_SECONDS, timeoutSeconds: 3600 },
    ),
    /**
     * How often the team quotas are reconciled with the node pools in ModelArts (an EventBridge schedule
     * on AWS, rounded up to whole minutes; a timer on the local stack).
     */
    quotaReconciliation: z._default(
      z.strictObject({
        enabled: z._default(z.boolean(), true),
        intervalSeconds: z._default(z.number().check(z.int(), z.gte(1), z.lte(86400)), 900),
      }),
      { enabled: true, intervalSeconds: 900 },
    ),
    /** List prices per flavor and node-hour, shown to approvers as an estimate. */
    pricing: z._default(
      z.record(
        z.string().check(z.minLength(1)),
        z.strictObject({
          hourly: z.number().check(z.nonnegative()),
          currency: z.string().check(z.regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as USD')),
        }),
      ),
      {},
    ),
    /** The time zone of times on pages, e-mails and Slack messages (an IANA name such as Europe/Berlin). */
    displayTimeZone: z._default(
      z.string().check(
        z.refine((zone) => {
          try {
            new Intl.DateTimeFormat('en-US', { timeZone: zone });
            return true;
          } catch {
            return false;
          }
        }, 'must be an IANA time zone such as UTC or Europe/Berlin'),
      ),
      'UTC',
    ),
    teams: z.array(TeamSchema).check(z.minLength(1)),
  })
  .check(
    z.superRefine((policy, ctx) => {
      const seen = new Map<string, string>();
      policy.teams.forEach((team, t) => {
        team.members.forEach((m, i) => {
          const other = seen.get(m.email);
          if (other && other !== team.name) {
            ctx.addIssue({
              code: 'custom',
              path: ['teams', t, 'members', i, 'email'],
              message: `${m.email} is already a member of team ${other}`,
            });
          }
          seen.set(m.email, team.name);
        });
        team.stages.forEach((stage, s) => {
          if (stage.requiredApprovals > stage.approvers.length) {
            ctx.addIssue({
              code: 'custom',
              path: ['teams', t, 'stages', s, 'requiredApprovals'],
              message: 'cannot exceed the number of approvers',
            });
          }
          if (durationSeconds(stage.expireAfter) > MAX_STAGE_SECONDS) {
            ctx.addIssue({
              code: 'custom',
              path: ['teams', t, 'stages', s, 'expireAfter'],
              message: 'must be at most P24D',
            });
          }
          if (durationSeconds(stage.remindAfter) > durationSeconds(stage.expireAfter)) {
            ctx.addIssue({
              code: 'custom',
              path: ['teams', t, 'stages', s, 'remindAfter'],
              message: 'must not be longer than expireAfter',
            });
          }
        });
      });
    }),
  );

export type Policy = z.infer<typeof PolicySchema>;
export type Team = z.infer<typeof TeamSchema>;
export type Stage = z.infer<typeof StageSchema>;
export type Person = z.infer<typeof PersonSchema>;

export class PolicyError extends Error {
  override name = 'PolicyError';
}

/** Parses and validates policy JSON; the error names the file, the field path and the rule. */
export function parsePolicy(json: string, source = 'policy file'): Policy {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (e) {
    throw new PolicyError(`${source}: not valid JSON (${(e as Error).message})`);
  }
  const result = PolicySchema.safeParse(raw);
  if (!result.success) {
    // A record key's own rule is nested in an `invalid_key` issue: say that rule, not "Invalid key in record".
    const messageOf = (i: z.core.$ZodIssue): string =>
      i.code === 'invalid_key' && i.issues[0] ? i.issues[0].message : i.message;
    const lines = result.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${messageOf(i)}`);
    throw new PolicyError(`${source} is invalid:\n${lines.join('\n')}`);
  }
  return result.data;
}

export function loadPolicyFile(path: string): Policy {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new PolicyError(`cannot read policy file ${path}: ${(e as Error).message}`);
  }
  return parsePolicy(text, path);
}

/** Every secret the policy names for a ModelArts project's AK/SK, once each. */
export function modelArtsProjectSecretArns(policy: Policy): string[] {
  return [
    ...new Set(
      Object.values(policy.modelArts.projects).flatMap((p) => (p.credentialsSecretArn ? [p.credentialsSecretArn] : [])),
    ),
  ];
}
