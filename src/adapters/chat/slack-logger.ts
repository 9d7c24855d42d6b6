import { LogLevel, type Logger as SlackLogger } from '@slack/web-api';
import type { Logger as PinoLogger } from 'pino';

const LEVELS: Record<string, LogLevel> = {
  trace: LogLevel.DEBUG,
  debug: LogLevel.DEBUG,
  info: LogLevel.INFO,
  warn: LogLevel.WARN,
  error: LogLevel.ERROR,
  fatal: LogLevel.ERROR,
};

function text(parts: unknown[]): string {
  return parts
    .map((p) => (typeof p === 'string' ? p : p instanceof Error ? p.message : JSON.stringify(p)))
    .join(' ');
}

/**
 * The Slack SDKs' logger interface on top of pino. The level stays pino's (set from config):
 * setLevel is ignored so Bolt's default INFO cannot override LOG_LEVEL.
 */
export function slackLogger(pino: PinoLogger, name = 'slack'): SlackLogger {
  let log = pino.child({ component: name });
  return {
    debug: (...m: unknown[]) => log.debug(text(m)),
    info: (...m: unknown[]) => log.info(text(m)),
    warn: (...m: unknown[]) => log.warn(text(m)),
    error: (...m: unknown[]) => log.error(text(m)),
    setLevel: () => undefined,
    getLevel: () => LEVELS[pino.level] ?? LogLevel.INFO,
    setName: (n: string) => {
      log = pino.child({ component: n });
    },
  };
}
