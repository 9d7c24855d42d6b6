import type { Consumer } from '../../domain/credential';
import type { HealthCheckOptions, HealthChecker, HealthResult } from '../../domain/ports';

/**
 * Every check a consumer declares, in order (the HTTP health check, then its logs, so the lines the
 * health request itself causes are read too): healthy only when each one is.
 */
export class ConsumerHealth implements HealthChecker {
  constructor(
    private readonly http: HealthChecker,
    private readonly logs: HealthChecker,
  ) {}

  async check(consumer: Consumer, opts: HealthCheckOptions = {}): Promise<HealthResult> {
    const http = await this.http.check(consumer, opts);
    if (!consumer.health?.logs) return http;
    const logs = await this.logs.check(consumer, opts);
    return {
      consumer: consumer.name,
      ok: http.ok && logs.ok,
      ...(http.status !== undefined ? { status: http.status } : {}),
      detail: `${http.detail}; ${logs.detail}`,
    };
  }
}
