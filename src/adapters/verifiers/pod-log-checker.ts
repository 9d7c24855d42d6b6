import { AppsV1Api, CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import type { Consumer, KubernetesRef, LogCheck } from '../../domain/credential';
import type { HealthCheckOptions, HealthChecker, HealthResult } from '../../domain/ports';
import { requestTimeout } from '../deployers/request-timeout';

export interface PodLogCheckerOptions {
  /** Per-request timeout (default 10 s). */
  timeoutMs?: number;
  /** Pod selectors already known (the run's discovery listed the deployments): no read for them. */
  selectors?: { selectorOf(ref: KubernetesRef): string | undefined };
}

/** Log lines are the application's text: keep them short and blank out anything token-like. */
const shown = (line: string) => line.replace(/[A-Za-z0-9+/=_-]{24,}/g, '[redacted]').slice(0, 120);

/** "2026-03-01T10:00:00.123456789Z text" (pods/log?timestamps=true) → its time and its text. */
function parseLine(raw: string): { at: number; text: string } {
  const space = raw.indexOf(' ');
  const at = Date.parse(raw.slice(0, space));
  return Number.isNaN(at) ? { at: Number.NaN, text: raw } : { at, text: raw.slice(space + 1) };
}

const podName = (p: V1Pod) => p.metadata?.name ?? '?';

/**
 * The runbook's log verification (`kubectl logs deployment/batch-processor --tail=50 | grep …`): the
 * latest lines of every running pod of the consumer's deployment, read through the Kubernetes API,
 * hold no authentication error since the value was deployed. Never throws: a deployment without
 * running pods, or logs that cannot be read, answer ok:false.
 */
export class PodLogChecker implements HealthChecker {
  private readonly apps: AppsV1Api;
  private readonly core: CoreV1Api;
  private readonly timeoutMs: number;

  constructor(
    kc: KubeConfig,
    private readonly opts: PodLogCheckerOptions = {},
  ) {
    this.apps = kc.makeApiClient(AppsV1Api);
    this.core = kc.makeApiClient(CoreV1Api);
    this.timeoutMs = opts.timeoutMs ?? 10_000;
  }

  async check(consumer: Consumer, opts: HealthCheckOptions = {}): Promise<HealthResult> {
    const logs = consumer.health?.logs;
    const ref = consumer.kubernetes;
    if (!logs || !ref) return { consumer: consumer.name, ok: true, detail: 'no log check declared' };
    try {
      return { consumer: consumer.name, ...(await this.inspect(ref.namespace, ref.deployment, logs, opts)) };
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      const why = typeof code === 'number' ? `HTTP ${code}` : e instanceof Error ? e.name : 'unknown error';
      return { consumer: consumer.name, ok: false, detail: `logs of ${ref.deployment} unreadable (${why})` };
    }
  }

  private async inspect(
    namespace: string,
    deployment: string,
    check: LogCheck,
    opts: HealthCheckOptions,
  ): Promise<Omit<HealthResult, 'consumer'>> {
    const options = requestTimeout(this.timeoutMs);
    const labelSelector =
      this.opts.selectors?.selectorOf({ namespace, deployment }) ??
      Object.entries(
        (await this.apps.readNamespacedDeployment({ namespace, name: deployment }, options)).spec?.selector
          ?.matchLabels ?? {},
      )
        .map(([k, v]) => `${k}=${v}`)
        .join(',');
    const pods = (await this.core.listNamespacedPod({ namespace, labelSelector }, options)).items.filter(
      (p) => p.status?.phase === 'Running',
    );
    if (pods.length === 0) return { ok: false, detail: `no running pods of ${deployment}` };
    const pattern = new RegExp(check.errorPattern, 'i');
    const since = opts.since?.getTime() ?? -Infinity;
    const errors: Array<{ pod: string; text: string }> = [];
    for (const pod of pods) {
      const text = await this.core.readNamespacedPodLog(
        { namespace, name: podName(pod), tailLines: check.tailLines, timestamps: true },
        options,
      );
      for (const raw of text.split('\n')) {
        if (raw === '') continue;
        const line = parseLine(raw);
        // A line without a readable time is counted: better a false alarm than a missed failure.
        if (!(line.at < since) && pattern.test(line.text))
          errors.push({ pod: podName(pod), text: line.text });
      }
    }
    const scope = `${pods.length} pod${pods.length === 1 ? '' : 's'}, last ${check.tailLines} lines`;
    if (errors.length === 0) return { ok: true, detail: `logs: no authentication errors (${scope})` };
    const first = errors[0]!;
    return {
      ok: false,
      detail: `logs: ${errors.length} authentication error${errors.length === 1 ? '' : 's'} (${scope}), e.g. ${first.pod}: ${shown(first.text)}`,
    };
  }
}
