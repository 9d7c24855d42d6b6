/**
 * A request Slack would never send (no acting user): answered 400, never handled. In a module of
 * its own so the error handler, which the workers use too, does not load Bolt with the guards.
 */
export class MalformedRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MalformedRequestError';
  }
}
