import pino, { type DestinationStream, type Logger } from 'pino';

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
    destination,
  );
}
