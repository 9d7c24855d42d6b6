import { z } from 'zod';
import type { AwsIamIssuerSpec } from './domain/credential';
import { envName, requiredEnv } from './catalog-env';
import { Secret } from './domain/secret';

/**
 * `issuer.kind: aws_iam`: one IAM user's access keys. The admin key is named by environment
 * variables, never written here; the waits default to what IAM needs (GetAccessKeyLastUsed lags
 * by hours, so the quiet window is 4 hours).
 */
export const awsIamIssuerSchema = z
  .object({
    kind: z.literal('aws_iam'),
    name: z.string().min(1).default('iam.amazonaws.com'),
    userName: z.string().regex(/^[\w+=,.@-]{1,64}$/, 'an IAM user name'),
    /** The signing region; AWS_REGION when absent. */
    region: z
      .string()
      .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'an AWS region such as us-east-1')
      .optional(),
    /** IAM's endpoint; AWS_ENDPOINT_URL_IAM, then AWS's own, when absent. */
    endpoint: z.url().optional(),
    accessKeyIdEnv: envName,
    secretAccessKeyEnv: envName,
    quietWindowSeconds: z
      .number()
      .int()
      .min(0)
      .max(7 * 86_400)
      .default(4 * 3_600),
    deleteAfterSeconds: z
      .number()
      .int()
      .min(0)
      .max(90 * 86_400)
      .default(7 * 86_400),
    newKeyConsistencySeconds: z.number().int().min(0).max(3_600).default(120),
    deleteForeignInactiveKey: z.boolean().default(false),
    maxConcurrent: z.number().int().min(1).max(1000).optional(),
  })
  .strict();

export type RawAwsIamIssuer = z.infer<typeof awsIamIssuerSchema>;

/** The issuer spec with its admin key resolved from `env`; missing variables are added to `problems`. */
export function buildAwsIamIssuer(
  raw: RawAwsIamIssuer,
  env: Record<string, string | undefined>,
  at: string,
  problems: string[],
): AwsIamIssuerSpec {
  const id = requiredEnv(env, raw.accessKeyIdEnv, `${at}.issuer.accessKeyIdEnv`, problems);
  const secret = requiredEnv(env, raw.secretAccessKeyEnv, `${at}.issuer.secretAccessKeyEnv`, problems);
  const endpoint = raw.endpoint ?? env['AWS_ENDPOINT_URL_IAM'];
  return {
    kind: 'aws_iam',
    name: raw.name,
    userName: raw.userName,
    region: raw.region ?? env['AWS_REGION'] ?? 'us-east-1',
    ...(endpoint ? { endpoint } : {}),
    accessKeyId: id ?? '',
    secretAccessKey: new Secret(secret ?? ''),
    quietWindowMs: raw.quietWindowSeconds * 1000,
    deleteAfterMs: raw.deleteAfterSeconds * 1000,
    newKeyConsistencyMs: raw.newKeyConsistencySeconds * 1000,
    deleteForeignInactiveKey: raw.deleteForeignInactiveKey,
    ...(raw.maxConcurrent ? { maxConcurrent: raw.maxConcurrent } : {}),
  };
}
