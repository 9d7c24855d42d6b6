import type { WebClient } from '@slack/web-api';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { CredentialSpec } from '../src/domain/credential';
import type { HalfRotated } from '../src/domain/half-rotated';
import type { AuditLog } from '../src/domain/ports';
import type { Reconciler } from '../src/procedures/reconciler';
import { halfRotatedView } from '../src/slack/views';

export interface ReconcileJobDeps {
  reconciler: Reconciler;
  catalog: Map<string, CredentialSpec>;
  /** Remembers which Vault version was reported where, so a tick does not repeat itself. */
  redis: Redis;
  prefix: string;
  client: WebClient;
  securityChannel: string;
  audit: AuditLog;
  logger: Logger;
}

const REPORT_TTL_SECONDS = 30 * 86_400;

/**
 * One reconciler tick: finishes pending records, and reports each half-rotated credential to its
 * channel and the security channel, once per Vault version and channel. A post that fails is
 * retried on the next tick.
 */
export function createReconcileProcessor(deps: ReconcileJobDeps) {
  const report = async (f: HalfRotated): Promise<number> => {
    const spec = deps.catalog.get(f.credential);
    const channels = [...new Set([spec?.channel ?? deps.securityChannel, deps.securityChannel])];
    const view = halfRotatedView(f);
    let posted = 0;
    for (const channel of channels) {
      const key = `${deps.prefix}:reconcile:reported:${f.credential}:${channel}`;
      if ((await deps.redis.get(key)) === String(f.version)) continue;
      try {
        await deps.client.chat.postMessage({ channel, text: view.text, blocks: view.blocks });
      } catch (e) {
        const code = (e as { data?: { error?: unknown } }).data?.error;
        deps.logger.warn(
          { credential: f.credential, channel, slackError: code },
          'half-rotation not reported',
        );
        continue;
      }
      await deps.redis.set(key, String(f.version), 'EX', REPORT_TTL_SECONDS);
      posted += 1;
    }
    if (posted > 0) {
      await deps.audit.record({
        credential: f.credential,
        action: 'reconcile.reported',
        outcome: 'info',
        identity: 'reconciler',
        detail: `Vault version ${f.version} half-rotated (run ${f.runId ?? 'none'}: ${f.runState}); reported to ${channels.join(', ')}`,
      });
    }
    return posted;
  };

  return async (): Promise<{ reported: number; recorded: number; unreadable: number }> => {
    const findings = await deps.reconciler.scan();
    let reported = 0;
    for (const f of findings) if (f.kind === 'half_rotated' && (await report(f)) > 0) reported += 1;
    const unreadable = findings.filter((f) => f.kind === 'unreadable');
    if (unreadable.length > 0)
      deps.logger.warn(
        { credentials: unreadable.map((f) => f.credential) },
        'reconciler could not read Vault',
      );
    return {
      reported,
      recorded: findings.filter((f) => f.kind === 'recorded').length,
      unreadable: unreadable.length,
    };
  };
}
