import { z } from 'zod';

const ExternalSecretStatus = z.object({
  status: z
    .object({
      refreshTime: z.string().optional(),
      conditions: z
        .array(z.object({ type: z.string(), status: z.string(), reason: z.string().optional() }))
        .optional(),
    })
    .optional(),
});

/**
 * Whether the operator has synced an ExternalSecret since `since`: status.refreshTime (RFC3339,
 * second precision, so `since` is floored to the second) is not older, and Ready=True.
 */
export function externalSecretSynced(externalSecret: unknown, since: Date): boolean {
  const parsed = ExternalSecretStatus.safeParse(externalSecret);
  if (!parsed.success) return false;
  const status = parsed.data.status;
  const refreshed = Date.parse(status?.refreshTime ?? '');
  if (Number.isNaN(refreshed)) return false;
  if (Math.floor(refreshed / 1000) < Math.floor(since.getTime() / 1000)) return false;
  return status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}
