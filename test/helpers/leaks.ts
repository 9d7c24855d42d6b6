import { createHash } from 'node:crypto';
import type { Harness } from './harness';
import { dumpPrefix } from './redis';

/**
 * Every place a secret must never appear, searched for every key value the provider ever issued,
 * every token the bot was configured with, and `extraSecrets` (e.g. database passwords read from
 * the store), and for the bare sha256 of each. Returns "where: which" for each hit.
 */
export async function findLeaks(
  h: Harness,
  extraText: string[] = [],
  extraSecrets: string[] = [],
): Promise<string[]> {
  const secrets = [
    ...h.world.provider.issuedValues(),
    ...h.world.oauth.issuedValues(),
    ...h.world.iam.issuedSecrets(),
    ...extraSecrets,
    h.env.VAULT_TOKEN!,
    h.env.SLACK_BOT_TOKEN!,
    h.env.SLACK_SIGNING_SECRET!,
    h.env.PAYMENT_PROVIDER_ADMIN_TOKEN!,
    h.env.IDP_ADMIN_TOKEN!,
  ].filter((s) => s && s.length >= 8);
  // A value's bare sha256 is as good as the value to anyone with a list of guesses: none either.
  const digests = secrets.map((s) => createHash('sha256').update(s).digest('hex'));
  const places: Record<string, string> = {
    redis: await dumpPrefix(h.redis, h.prefix),
    logs: h.logs.text(),
    slack: JSON.stringify(h.world.slack.calls()),
    audit: JSON.stringify(await h.services.audit.recent({ limit: 10_000 })),
    extra: extraText.join('\n'),
  };
  const hits: string[] = [];
  for (const [where, text] of Object.entries(places)) {
    for (const s of secrets) if (text.includes(s)) hits.push(`${where}: ${s.slice(0, 6)}…`);
    for (const [i, d] of digests.entries())
      if (text.includes(d)) hits.push(`${where}: sha256 of ${secrets[i]!.slice(0, 6)}…`);
  }
  return hits;
}

/**
 * Scans for leaks, then closes the harness whatever happened, and only then hands back the hits:
 * asserting on them before closing would leave servers and workers open when the assertion fails,
 * and Jest would hang instead of failing.
 */
export async function closeAndFindLeaks(
  h: Harness,
  extraText: string[] = [],
  extraSecrets: string[] = [],
): Promise<string[]> {
  try {
    return await findLeaks(h, extraText, extraSecrets);
  } finally {
    await h.close();
  }
}
