import { parse as parseQuery } from 'node:querystring';
import {
  HTTPModuleFunctions,
  type AnyMiddlewareArgs,
  type Middleware,
  type ReceiverProcessEventErrorHandlerArgs,
} from '@slack/bolt';
import { MalformedRequestError } from './malformed-request';

export { MalformedRequestError };

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/**
 * Why a parsed body cannot be handled, or undefined when it can. Every slash command carries
 * `user_id` and every interaction `user.id`: authorization decides on that id, so a body without
 * it is refused before any listener sees it.
 */
export function missingActor(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const b = body as Record<string, unknown>;
  if (typeof b.command === 'string') return str(b.user_id) ? undefined : 'a slash command without user_id';
  if (typeof b.type === 'string' && 'actions' in b) {
    const user = b.user as { id?: unknown } | undefined;
    return str(user?.id) ? undefined : `a ${b.type} payload without user.id`;
  }
  return undefined;
}

/** Bolt global middleware: refuses (before any ack) a body whose acting user is missing. */
export const requireActor: Middleware<AnyMiddlewareArgs> = async ({ body, next }) => {
  const problem = missingActor(body);
  if (problem) throw new MalformedRequestError(`refused ${problem}`);
  await next();
};

/** The body as Bolt parsed it: form fields, with an interaction's `payload` JSON decoded. */
function parsedBody(request: unknown): unknown {
  const raw = (request as { rawBody?: unknown }).rawBody;
  if (!Buffer.isBuffer(raw)) return undefined;
  try {
    const form = parseQuery(raw.toString('utf8'));
    return typeof form.payload === 'string' ? JSON.parse(form.payload) : form;
  } catch {
    return undefined;
  }
}

/**
 * HTTPReceiver `processEventErrorHandler`. Bolt reads `body.user.id` while it builds the event
 * source, before any middleware runs, so a click without `user` throws a TypeError there and the
 * default handler answers 500. A malformed request is the sender's fault: answer 400 instead.
 * Anything else keeps Bolt's default (500).
 */
export async function answerMalformedWith400(args: ReceiverProcessEventErrorHandlerArgs): Promise<boolean> {
  const { error, response, request, logger } = args;
  const problem = error instanceof MalformedRequestError ? error.message : missingActor(parsedBody(request));
  if (!problem || response.headersSent) return HTTPModuleFunctions.defaultProcessEventErrorHandler(args);
  logger.warn(`answered 400: ${problem}`);
  response.writeHead(400);
  response.end();
  // true: the request is answered, so Bolt's 3-second "not acknowledged" timer must not fire.
  return true;
}
