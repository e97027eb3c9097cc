/**
 * The policy file (`poolgate.config.json`): teams, their members, approval stages and quotas.
 * Validated at synth (bin/), at `npm start` (local/) and at every cold start (lambdas/).
 */
import { readFileSync } from 'node:fs';
import * as z from 'zod';

/** ISO 8601 duration limited to days/hours/minutes/seconds, e.g. `PT4H`, `P2D`, `PT30S`. */
const ISO_DURATION = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/;

export function durationSeconds(duration: string): number {
  const match = ISO_DURATION.exec(duration);
  if (!match || duration === 'P' || duration.endsWith('T')) throw new Error(`not an ISO 8601 duration: ${duration}`);
  const [, d = '0', h = '0', m = '0', s = '0'] = match;
  return Number(d) * 86400 + Number(h) * 3600 + Number(m) * 60 + Number(s);
}

const Duration = z.string().refine((v) => {
  try {
    return durationSeconds(v) > 0;
  } catch {
    return false;
  }
}, 'must be a positive ISO 8601 duration such as PT4H, P2D or PT30S');

/**
 * Longest a stage may wait. Step Functions allows a year, but Node timers (the local engine) overflow
 * after 24.8 days; approvals that old are stale anyway.
 */
export const MAX_STAGE_SECONDS = 24 * 86400;

const Email = z.email().transform((e) => e.toLowerCase());

export const PersonSchema = z.strictObject({
  email: Email,
  slackUserId: z.string().regex(/^[UW][A-Z0-9]+$/, 'must be a Slack user id such as U012ABCDEF').optional(),
});

export const StageConditionSchema = z.strictObject({
  /** The stage applies only when the request's billing mode is one of these. */
  billingModes: z.array(z.enum(['0', '1'])).min(1),
});

export const StageSchema = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, 'must be lowercase letters, digits and dashes'),
  approvers: z.array(PersonSchema).min(1),
  requiredApprovals: z.number().int().min(1).default(1),
  when: StageConditionSchema.optional(),
  remindAfter: Duration.default('PT4H'),
  expireAfter: Duration.default('P2D'),
  /** The approvers of this stage enter the ModelArts order id of a yearly/monthly request that has none. */
  collectsOrderId: z.boolean().default(false),
});

export const TeamSchema = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, 'must be lowercase letters, digits and dashes'),
  members: z.array(PersonSchema).min(1),
  stages: z.array(StageSchema).min(1),
  escalation: z.array(PersonSchema).default([]),
  /** Slack channel for the team's approval messages; approvers get direct messages when absent. */
  slackChannel: z.string().regex(/^[CG][A-Z0-9]+$/, 'must be a Slack channel id such as C012ABCDEF').optional(),
  /** Node limits per flavor; a flavor not listed may not be used by the team. */
  quotas: z.record(z.string().min(1), z.number().int().min(0)),
  /** Project ids the team may use; `*` allows any. */
  projects: z.array(z.string().min(1)).default(['*']),
  /** Pool names the team may use; `*` allows any. */
  pools: z.array(z.string().min(1)).default(['*']),
});

const Region = z.string().regex(/^[a-z]{2}-[a-z]+-\d+$/, 'must be a Huawei Cloud region id such as cn-north-4');
const ProjectId = z.string().regex(/^[0-9a-f]{32}$/, 'must be a Huawei Cloud project id (32 hexadecimal characters)');

export const ModelArtsProjectSchema = z.strictObject({
  region: Region.optional(),
  endpoint: z.url().optional(),
  /** The complete ARN (with its 6-character suffix) of the secret holding `{"accessKey","secretKey"}` for this project. */
  credentialsSecretArn: z
    .string()
    .regex(/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+-[A-Za-z0-9]{6}$/, 'must be the complete ARN of a Secrets Manager secret, with its 6-character suffix')
    .optional(),
});

export const PolicySchema = z
  .strictObject({
    auth: z
      .strictObject({
        issuer: z.url(),
        audience: z.string().min(1),
        jwksUri: z.url().optional(),
      })
      .optional(),
    mail: z.strictObject({ from: Email }).optional(),
    /** AWS deployments: where CloudWatch alarms are sent besides their SNS topic (docs/deploy.md). */
    alarms: z.strictObject({ email: Email.optional() }).optional(),
    /**
     * Where ModelArts is: a Huawei Cloud region (endpoint derived from it) or an explicit endpoint; per
     * project, its own region or endpoint and the Secrets Manager secret holding the AK/SK to sign with.
     */
    modelArts: z
      .strictObject({
        region: Region.default('cn-north-4'),
        endpoint: z.url().optional(),
        projects: z.record(ProjectId, ModelArtsProjectSchema).default({}),
      })
      .default({ region: 'cn-north-4', projects: {} }),
    admins: z.array(Email).default([]),
    /** After creation, follow the node pool until its nodes are available (status ACTIVE) or abnormal. */
    nodeTracking: z
      .strictObject({
        enabled: z.boolean().default(true),
        pollIntervalSeconds: z.number().int().min(1).max(3600).default(30),
        timeoutSeconds: z.number().int().min(10).max(7 * 86400).default(3600),
      })
      .default({ enabled: true, pollIntervalSeconds: 30, timeoutSeconds: 3600 }),
    /**
     * How often the team quotas are reconciled with the node pools in ModelArts (an EventBridge schedule
     * on AWS, rounded up to whole minutes; a timer on the local stack).
     */
    quotaReconciliation: z
      .strictObject({
        enabled: z.boolean().default(true),
        intervalSeconds: z.number().int().min(1).max(86400).default(900),
      })
      .default({ enabled: true, intervalSeconds: 900 }),
    /** List prices per flavor and node-hour, shown to approvers as an estimate. */
    pricing: z
      .record(z.string().min(1), z.strictObject({ hourly: z.number().nonnegative(), currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as USD') }))
      .default({}),
    teams: z.array(TeamSchema).min(1),
  })
  .superRefine((policy, ctx) => {
    const seen = new Map<string, string>();
    policy.teams.forEach((team, t) => {
      team.members.forEach((m, i) => {
        const other = seen.get(m.email);
        if (other && other !== team.name) {
          ctx.addIssue({ code: 'custom', path: ['teams', t, 'members', i, 'email'], message: `${m.email} is already a member of team ${other}` });
        }
        seen.set(m.email, team.name);
      });
      team.stages.forEach((stage, s) => {
        if (stage.requiredApprovals > stage.approvers.length) {
          ctx.addIssue({ code: 'custom', path: ['teams', t, 'stages', s, 'requiredApprovals'], message: 'cannot exceed the number of approvers' });
        }
        if (durationSeconds(stage.expireAfter) > MAX_STAGE_SECONDS) {
          ctx.addIssue({ code: 'custom', path: ['teams', t, 'stages', s, 'expireAfter'], message: 'must be at most P24D' });
        }
        if (durationSeconds(stage.remindAfter) > durationSeconds(stage.expireAfter)) {
          ctx.addIssue({ code: 'custom', path: ['teams', t, 'stages', s, 'remindAfter'], message: 'must not be longer than expireAfter' });
        }
      });
    });
  });

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
    const messageOf = (i: z.core.$ZodIssue): string => (i.code === 'invalid_key' && i.issues[0] ? i.issues[0].message : i.message);
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
  return [...new Set(Object.values(policy.modelArts.projects).flatMap((p) => (p.credentialsSecretArn ? [p.credentialsSecretArn] : [])))];
}

export function teamOf(policy: Policy, email: string): Team | undefined {
  const wanted = email.toLowerCase();
  return policy.teams.find((team) => team.members.some((m) => m.email === wanted));
}
