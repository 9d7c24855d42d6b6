import pino, { type DestinationStream, type Logger } from 'pino';

/**
 * Standard output, written once per turn of the event loop: the lines logged meanwhile (a busy
 * worker's hundred runs log many per turn) go out in one write instead of one write each. Nothing
 * waits longer than the turn it was logged in; pino's destination writes what is left when the
 * process exits, signals included (main exits on them).
 */
export function batchedStdout(): DestinationStream & { flush(): void } {
  // minLength: SonicBoom holds lines until this much is buffered; the turn's end writes them.
  const out = pino.destination({ dest: 1, sync: false, minLength: 8_192 });
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    out.flush();
  };
  return {
    write(line: string) {
      out.write(line);
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
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
