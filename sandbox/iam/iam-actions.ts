import type { ServerResponse } from 'node:http';
import { ACCOUNT_ID, KEYS_PER_USER, type IamKey, type IamState } from './iam-state';
import { isoSeconds, sendError, sendResult, type XmlValue } from './xml';

/** One authenticated call: its parameters, who signed it and where. */
export interface ActionCall {
  action: string;
  params: URLSearchParams;
  caller: { userName: string; admin: boolean };
  region: string;
  nowMs: number;
}

export interface ActionEnv {
  state: IamState;
  /** GetAccessKeyLastUsed lags: uses younger than this are not reported yet. */
  lastUsedLagMs(): number;
  /** Counted when CreateAccessKey meets the two-keys quota. */
  onLimitExceeded(): void;
}

/** A request error AWS answers as `<ErrorResponse>`. */
export class IamFault extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const USER_NAME = /^[\w+=,.@-]{1,128}$/;
const KEY_ID = /^\w{16,128}$/;
const TAG_TEXT = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

function required(call: ActionCall, name: string, pattern: RegExp): string {
  const v = call.params.get(name);
  const field = name.charAt(0).toLowerCase() + name.slice(1);
  if (v === null) {
    throw new IamFault(
      400,
      'ValidationError',
      `1 validation error detected: Value null at '${field}' failed to satisfy constraint: Member must not be null`,
    );
  }
  if (!pattern.test(v)) {
    throw new IamFault(
      400,
      'ValidationError',
      `1 validation error detected: Value '${v}' at '${field}' failed to satisfy constraint: Member must satisfy regular expression pattern: ${pattern.source}`,
    );
  }
  return v;
}

/** UserName when given (it must exist), else the caller's own user, as IAM infers it. */
function userOf(env: ActionEnv, call: ActionCall): string {
  const given = call.params.get('UserName');
  if (given === null) return call.caller.userName;
  return namedUser(env, call).userName;
}

/** The user the call names (required), or NoSuchEntity. */
function namedUser(env: ActionEnv, call: ActionCall) {
  const name = required(call, 'UserName', USER_NAME);
  const user = env.state.users.get(name);
  if (!user) throw new IamFault(404, 'NoSuchEntity', `The user with name ${name} cannot be found.`);
  return user;
}

function keyOf(env: ActionEnv, call: ActionCall, userName?: string): IamKey {
  const id = required(call, 'AccessKeyId', KEY_ID);
  const key = env.state.keys.get(id);
  if (!key || (userName !== undefined && key.userName !== userName))
    throw new IamFault(404, 'NoSuchEntity', `The Access Key with id ${id} cannot be found.`);
  return key;
}

const keyMetadata = (k: IamKey): XmlValue => ({
  UserName: k.userName,
  AccessKeyId: k.accessKeyId,
  Status: k.status,
  CreateDate: isoSeconds(k.createdMs),
});

/** Tags.member.N.Key / Tags.member.N.Value, as the query protocol flattens a list of structures. */
function tagsOf(params: URLSearchParams): Array<[string, string]> {
  const tags: Array<[string, string]> = [];
  for (let i = 1; params.has(`Tags.member.${i}.Key`); i++) {
    const k = params.get(`Tags.member.${i}.Key`)!;
    const v = params.get(`Tags.member.${i}.Value`) ?? '';
    if (k.length > 128 || v.length > 256 || !TAG_TEXT.test(k) || !TAG_TEXT.test(v))
      throw new IamFault(
        400,
        'ValidationError',
        `1 validation error detected: Value at 'tags.${i}' failed to satisfy constraint`,
      );
    tags.push([k, v]);
  }
  return tags;
}

type Handler = (env: ActionEnv, call: ActionCall, res: ServerResponse) => void;

const ADMIN_ACTIONS: Record<string, Handler> = {
  CreateAccessKey(env, call, res) {
    const userName = userOf(env, call);
    if (env.state.keysOf(userName).length >= KEYS_PER_USER) {
      env.onLimitExceeded();
      throw new IamFault(409, 'LimitExceeded', `Cannot exceed quota for AccessKeysPerUser: ${KEYS_PER_USER}`);
    }
    const k = env.state.addKey(userName, { createdMs: call.nowMs });
    sendResult(res, 'CreateAccessKey', {
      AccessKey: {
        UserName: k.userName,
        AccessKeyId: k.accessKeyId,
        Status: k.status,
        SecretAccessKey: k.secretAccessKey,
        CreateDate: isoSeconds(k.createdMs),
      },
    });
  },
  ListAccessKeys(env, call, res) {
    const userName = userOf(env, call);
    sendResult(res, 'ListAccessKeys', {
      UserName: userName,
      AccessKeyMetadata: env.state.keysOf(userName).map(keyMetadata),
      IsTruncated: 'false',
    });
  },
  UpdateAccessKey(env, call, res) {
    const key = keyOf(env, call, userOf(env, call));
    const status = required(call, 'Status', /^(Active|Inactive)$/) as IamKey['status'];
    key.status = status;
    sendResult(res, 'UpdateAccessKey');
  },
  DeleteAccessKey(env, call, res) {
    const key = keyOf(env, call, userOf(env, call));
    env.state.keys.delete(key.accessKeyId);
    sendResult(res, 'DeleteAccessKey');
  },
  GetAccessKeyLastUsed(env, call, res) {
    const key = keyOf(env, call);
    const last = env.state.lastUse(key, call.nowMs, env.lastUsedLagMs());
    sendResult(res, 'GetAccessKeyLastUsed', {
      UserName: key.userName,
      AccessKeyLastUsed: last
        ? { LastUsedDate: isoSeconds(last.atMs), ServiceName: last.service, Region: last.region }
        : { ServiceName: 'N/A', Region: 'N/A' },
    });
  },
  TagUser(env, call, res) {
    const user = namedUser(env, call);
    const tags = tagsOf(call.params);
    const keys = new Set([...user.tags.keys(), ...tags.map(([k]) => k)]);
    if (keys.size > 50) throw new IamFault(409, 'LimitExceeded', 'Cannot exceed quota for TagsPerUser: 50');
    for (const [k, v] of tags) user.tags.set(k, v);
    sendResult(res, 'TagUser');
  },
  UntagUser(env, call, res) {
    const user = namedUser(env, call);
    for (let i = 1; call.params.has(`TagKeys.member.${i}`); i++)
      user.tags.delete(call.params.get(`TagKeys.member.${i}`)!);
    sendResult(res, 'UntagUser');
  },
  ListUserTags(env, call, res) {
    const user = namedUser(env, call);
    sendResult(res, 'ListUserTags', {
      Tags: [...user.tags].map(([Key, Value]) => ({ Key, Value })),
      IsTruncated: 'false',
    });
  },
};

/**
 * GetUser: a key may ask who it belongs to (how the rotator proves a key is accepted) when a policy
 * allows it; a least-privilege user gets AccessDenied, which AWS answers only to a valid signature.
 */
function getUser(env: ActionEnv, call: ActionCall, res: ServerResponse): void {
  const userName = userOf(env, call);
  const u = env.state.user(userName);
  sendResult(res, 'GetUser', {
    User: {
      Path: '/',
      UserName: u.userName,
      UserId: u.userId,
      Arn: env.state.arn(u.userName),
      CreateDate: isoSeconds(u.createdMs),
    },
  });
}

/** Runs one action, or answers its error as AWS would. */
export function runAction(env: ActionEnv, call: ActionCall, res: ServerResponse): void {
  try {
    if (call.action === 'GetUser') {
      if (
        !call.caller.admin &&
        call.params.has('UserName') &&
        call.params.get('UserName') !== call.caller.userName
      )
        throw denied(call, 'GetUser');
      if (!call.caller.admin && !env.state.user(call.caller.userName).mayGetUser)
        throw denied(call, 'GetUser');
      return getUser(env, call, res);
    }
    const handler = ADMIN_ACTIONS[call.action];
    if (!handler)
      throw new IamFault(
        400,
        'InvalidAction',
        `Could not find operation ${call.action} for version 2010-05-08`,
      );
    if (!call.caller.admin) throw denied(call, call.action);
    handler(env, call, res);
  } catch (e) {
    if (e instanceof IamFault) return sendError(res, e.status, e.code, e.message);
    throw e;
  }
}

function denied(call: ActionCall, action: string): IamFault {
  const who = `arn:aws:iam::${ACCOUNT_ID}:user/${call.caller.userName}`;
  return new IamFault(
    403,
    'AccessDenied',
    `User: ${who} is not authorized to perform: iam:${action} on resource: ${who}`,
  );
}
