import type { IncomingMessage, ServerResponse } from 'node:http';
import { Faults } from '../faults';
import { listen, readBody } from '../http';
import { runAction, type ActionEnv } from './iam-actions';
import { IamState, newAccessKeyId, newSecret, type IamKey, type IamKeySummary } from './iam-state';
import { isAuthFailure, verifySigV4 } from './sigv4';
import { sendError } from './xml';

export interface IamDouble {
  url: string;
  /** TCP connections clients have opened to it (a keep-alive client opens few). */
  connections(): number;
  /** HTTP requests it has received. */
  requestCount(): number;
  /** The admin's long-term key: what the rotator (and the AWS CLI) sign with. */
  admin: { accessKeyId: string; secretAccessKey: string; userName: string };
  faults: Faults;
  /** Creates the user if needed and gives it a key (the catalog's seed). */
  seedKey(userName: string, createdAt?: Date): { accessKeyId: string; secretAccessKey: string };
  seedUser(userName: string): void;
  /** Gives the user a policy allowing iam:GetUser on itself, or takes it away (AccessDenied, as AWS). */
  allowGetUser(userName: string, allowed: boolean): void;
  /** What `aws iam update-access-key --status` does, without a request (tests, the demo). */
  setStatus(accessKeyId: string, status: 'Active' | 'Inactive'): void;
  keys(userName?: string): IamKeySummary[];
  /** A consumer calling AWS with this key pair: recorded as a use when accepted. */
  use(accessKeyId: string, secretAccessKey: string, at?: Date): boolean;
  /** Whether AWS would accept the pair now; records nothing. */
  accepts(accessKeyId: string, secretAccessKey: string): boolean;
  /** Every secret access key issued or seeded (for leak checks). */
  issuedSecrets(): string[];
  /** Settable: a new key is refused (InvalidClientTokenId) for this long after its creation. */
  newKeyDelayMs: number;
  /** Settable: GetAccessKeyLastUsed reports a use only this long after it happened. */
  lastUsedLagMs: number;
  /** CreateAccessKey calls answered LimitExceeded: a rotator must never cause one. */
  limitExceededCreates(): number;
  /** Actions answered so far, in order (authenticated calls only). */
  actions(): string[];
  close(): Promise<void>;
}

const ADMIN_USER = 'rotator-admin';

/**
 * AWS IAM's Query API (POST form `Action=…&Version=2010-05-08`, XML answers) for access keys,
 * user tags and GetUser, behind real SigV4 verification: the admin key, and users' own keys once
 * they are consistent and while they are active. Works with the AWS SDK and the AWS CLI.
 */
export async function createIamDouble(opts: { port?: number; regions?: string[] } = {}): Promise<IamDouble> {
  const state = new IamState();
  const faults = new Faults();
  const regions = opts.regions ?? ['us-east-1'];
  const admin = { accessKeyId: newAccessKeyId(), secretAccessKey: newSecret(), userName: ADMIN_USER };
  state.user(ADMIN_USER);
  state.secrets.push(admin.secretAccessKey);
  let limitExceeded = 0;
  const actions: string[] = [];

  const double: IamDouble = {
    url: '',
    connections: () => 0,
    requestCount: () => 0,
    admin,
    faults,
    seedKey(userName, createdAt) {
      state.user(userName, createdAt?.getTime());
      const k = state.addKey(userName, createdAt ? { createdMs: createdAt.getTime() } : {});
      return { accessKeyId: k.accessKeyId, secretAccessKey: k.secretAccessKey };
    },
    seedUser: (userName) => void state.user(userName),
    allowGetUser(userName, allowed) {
      state.user(userName).mayGetUser = allowed;
    },
    setStatus(accessKeyId, status) {
      const key = state.keys.get(accessKeyId);
      if (!key) throw new Error(`no access key ${accessKeyId}`);
      key.status = status;
    },
    keys: (userName) =>
      [...state.keys.values()]
        .filter((k) => userName === undefined || k.userName === userName)
        .map((k) => state.summary(k, Date.now(), double.lastUsedLagMs)),
    use(accessKeyId, secret, at = new Date()) {
      const key = usable(accessKeyId, at.getTime());
      if (!key || key.secretAccessKey !== secret) return false;
      state.recordUse(key, at.getTime(), 'us-east-1', 's3');
      return true;
    },
    accepts: (accessKeyId, secret) => usable(accessKeyId, Date.now())?.secretAccessKey === secret,
    issuedSecrets: () => [...state.secrets],
    newKeyDelayMs: 0,
    lastUsedLagMs: 0,
    limitExceededCreates: () => limitExceeded,
    actions: () => [...actions],
    close: async () => undefined,
  };

  /** A user key AWS would authenticate now: it exists, is active, and has propagated. */
  function usable(accessKeyId: string, nowMs: number): IamKey | undefined {
    const key = state.keys.get(accessKeyId);
    if (!key || key.status !== 'Active' || nowMs - key.createdMs < double.newKeyDelayMs) return undefined;
    return key;
  }

  const env: ActionEnv = {
    state,
    lastUsedLagMs: () => double.lastUsedLagMs,
    onLimitExceeded: () => void (limitExceeded += 1),
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (await faults.apply(req, res)) return;
    const body = await readBody(req);
    if (await faults.control(req, res, body)) return;
    const url = new URL(req.url ?? '/', 'http://iam.local');
    const isForm = (req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
    const params = new URLSearchParams(req.method === 'POST' && isForm ? body : url.search);
    const nowMs = Date.now();
    const auth = verifySigV4(
      { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body },
      (id) => (id === admin.accessKeyId ? admin.secretAccessKey : usable(id, nowMs)?.secretAccessKey),
      { service: 'iam', regions, nowMs },
    );
    if (isAuthFailure(auth)) return sendError(res, auth.status, auth.code, auth.message);
    const action = params.get('Action');
    if (!action) return sendError(res, 400, 'MissingAction', 'Missing Action');
    if (params.get('Version') !== '2010-05-08')
      return sendError(
        res,
        400,
        'InvalidAction',
        `Could not find operation ${action} for version ${params.get('Version') ?? 'NO_VERSION_SPECIFIED'}`,
      );
    const isAdmin = auth.accessKeyId === admin.accessKeyId;
    const key = isAdmin ? undefined : state.keys.get(auth.accessKeyId)!;
    if (key) state.recordUse(key, nowMs, auth.region, 'iam');
    actions.push(action);
    runAction(
      env,
      {
        action,
        params,
        caller: { userName: key?.userName ?? ADMIN_USER, admin: isAdmin },
        region: auth.region,
        nowMs,
      },
      res,
    );
  }

  const server = await listen(handle, opts.port ?? 0);
  double.url = server.url;
  double.close = () => server.close();
  double.connections = () => server.connections();
  double.requestCount = () => server.requestCount();
  return double;
}
