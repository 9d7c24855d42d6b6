import pino, { type DestinationStream, type Logger } from 'pino';

/** A busy process writes its log at most this often (a quiet one at once). */
const LOG_WRITE_INTERVAL_MS = 100;

/**
 * Standard output, written at most every LOG_WRITE_INTERVAL_MS: the lines logged meanwhile (a busy
 * worker's hundred runs log many) go out in one write instead of one write each, which cost the
 * worker more CPU than making them. A line logged after a quiet spell goes out at the end of its
 * event-loop turn. pino's destination writes what is left when the process exits, signals
 * included (main exits on them).
 */
export function batchedStdout(): DestinationStream & { flush(): void } {
  // minLength: SonicBoom holds lines until this much is buffered; the timer writes them.
  const out = pino.destination({ dest: 1, sync: false, minLength: 8_192 });
  let pending: NodeJS.Immediate | NodeJS.Timeout | undefined;
  let lastWrite = 0;
  const flush = () => {
    pending = undefined;
    lastWrite = Date.now();
    out.flush();
  };
  return {
    write(line: string) {
      out.write(line);
      if (pending) return;
      const wait = lastWrite + LOG_WRITE_INTERVAL_MS - Date.now();
      pending = wait > 0 ? setTimeout(flush, wait) : setImmediate(flush);
      // Never what keeps a process alive: its exit writes the rest.
      pending.unref();
    },
    flush: () => out.flush(),
  };
}

/**
 * The process logger. Values should never reach it (they are `Secret`s, which print as
 * "[redacted]"); the redaction list is the second line of defence for fields that carry them
 * in the services' own vocabulary.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'credential-rotator' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: [
          '*.api_key',
          '*.previous_key',
          '*.current_secret',
          '*.previous_secret',
          '*.SecretAccessKey',
          '*.password',
          '*.token',
          '*.authorization',
          '*.headers.authorization',
          '*.headers["x-vault-token"]',
        ],
        censor: '[redacted]',
      },
    },
    destination ?? batchedStdout(),
  );
}
