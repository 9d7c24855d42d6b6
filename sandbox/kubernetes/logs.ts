import type { IncomingMessage, ServerResponse } from 'node:http';
import { isObject, type JsonObject } from './patch';
import type { LogLine, PodRuntime } from './pods';
import { badRequest, sendStatus } from './status';

/** Go's RFC3339Nano as the kubelet prefixes lines with ?timestamps=true. */
const stamp = (d: Date) => d.toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z');

/**
 * GET pods/{name}/log: the container's lines as text/plain, with the kubelet's options: container,
 * tailLines, sinceSeconds / sinceTime, timestamps, limitBytes, and follow (streams until the pod goes).
 */
export function serveLog(
  pod: JsonObject,
  rt: PodRuntime,
  query: URLSearchParams,
  http: { req: IncomingMessage; res: ServerResponse },
): void {
  const spec = isObject(pod.spec) ? pod.spec : {};
  const containers = (Array.isArray(spec.containers) ? spec.containers : [])
    .filter(isObject)
    .map((c) => String(c.name));
  const podName = isObject(pod.metadata) ? String(pod.metadata.name) : '';
  const container = query.get('container');
  if (container && !containers.includes(container)) {
    return sendStatus(http.res, badRequest(`container ${container} is not valid for pod ${podName}`));
  }
  if (!container && containers.length > 1) {
    return sendStatus(
      http.res,
      badRequest(
        `a container name must be specified for pod ${podName}, choose one of: [${containers.join(' ')}]`,
      ),
    );
  }
  const status = isObject(pod.status) ? pod.status : {};
  if (status.phase === 'Pending') {
    return sendStatus(
      http.res,
      badRequest(
        `container "${containers[0] ?? ''}" in pod "${podName}" is waiting to start: CreateContainerConfigError`,
      ),
    );
  }
  const sinceSeconds = Number(query.get('sinceSeconds') ?? '0');
  const sinceTime = Date.parse(query.get('sinceTime') ?? '');
  const since =
    sinceSeconds > 0 ? Date.now() - sinceSeconds * 1000 : Number.isNaN(sinceTime) ? -Infinity : sinceTime;
  const timestamps = query.get('timestamps') === 'true';
  const format = (l: LogLine) => `${timestamps ? `${stamp(l.at)} ` : ''}${l.line}\n`;
  let lines = rt.log.filter((l) => l.at.getTime() >= since);
  const tail = Number(query.get('tailLines') ?? '-1');
  if (Number.isInteger(tail) && tail >= 0) lines = tail === 0 ? [] : lines.slice(-tail);
  let text = lines.map(format).join('');
  const limit = Number(query.get('limitBytes') ?? '0');
  if (limit > 0) text = Buffer.from(text).subarray(0, limit).toString('utf8');
  const { req, res } = http;
  res.writeHead(200, { 'content-type': 'text/plain' });
  if (query.get('follow') !== 'true') {
    res.end(text);
    return;
  }
  res.write(text);
  const follower = (l: LogLine | undefined) => (l ? res.write(format(l)) : res.end());
  rt.followers.add(follower);
  req.on('close', () => rt.followers.delete(follower));
}
