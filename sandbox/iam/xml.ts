import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';

/** IAM's awsQuery XML namespace (API version 2010-05-08). */
export const IAM_NS = 'https://iam.amazonaws.com/doc/2010-05-08/';

/** A nested element tree: a string is text, an array is `<member>` items, undefined is left out. */
export type XmlValue = string | XmlValue[] | { [name: string]: XmlValue | undefined };

const escapeXml = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function render(value: XmlValue): string {
  if (typeof value === 'string') return escapeXml(value);
  if (Array.isArray(value)) return value.map((v) => `<member>${render(v)}</member>`).join('');
  return Object.entries(value)
    .filter((e): e is [string, XmlValue] => e[1] !== undefined)
    .map(([k, v]) => `<${k}>${render(v)}</${k}>`)
    .join('');
}

/** Timestamps as IAM writes them: ISO 8601, UTC, whole seconds. */
export const isoSeconds = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

function send(res: ServerResponse, status: number, xml: string, requestId: string): void {
  res.writeHead(status, {
    'content-type': 'text/xml',
    'content-length': Buffer.byteLength(xml),
    'x-amzn-requestid': requestId,
  });
  res.end(xml);
}

/**
 * `<{Action}Response><{Action}Result>…</{Action}Result><ResponseMetadata><RequestId/>…`, as AWS
 * documents every IAM action's answer; actions without a result (UpdateAccessKey, DeleteAccessKey,
 * TagUser) carry only the ResponseMetadata.
 */
export function sendResult(res: ServerResponse, action: string, result?: XmlValue): void {
  const requestId = randomUUID();
  const body = result === undefined ? '' : `<${action}Result>${render(result)}</${action}Result>`;
  const xml =
    `<${action}Response xmlns="${IAM_NS}">${body}` +
    `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`;
  send(res, 200, xml, requestId);
}

/** `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>`. */
export function sendError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  type: 'Sender' | 'Receiver' = status >= 500 ? 'Receiver' : 'Sender',
): void {
  const requestId = randomUUID();
  const xml =
    `<ErrorResponse xmlns="${IAM_NS}"><Error><Type>${type}</Type><Code>${escapeXml(code)}</Code>` +
    `<Message>${escapeXml(message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
  send(res, status, xml, requestId);
}
