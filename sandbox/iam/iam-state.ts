import { randomBytes } from 'node:crypto';

export const ACCOUNT_ID = '123456789012';
/** IAM's quota: two access keys per user, inactive ones included. */
export const KEYS_PER_USER = 2;

export type IamKeyStatus = 'Active' | 'Inactive';

export interface IamKey {
  accessKeyId: string;
  secretAccessKey: string;
  userName: string;
  status: IamKeyStatus;
  createdMs: number;
  /** Successful authentications with the key, newest last (bounded). */
  uses: Array<{ atMs: number; region: string; service: string }>;
}

export interface IamUser {
  userName: string;
  userId: string;
  createdMs: number;
  tags: Map<string, string>;
  /** Whether a policy lets the user call iam:GetUser on itself; a least-privilege user has none. */
  mayGetUser: boolean;
}

/** What tests and the demo may see of a key: never its secret. */
export interface IamKeySummary {
  accessKeyId: string;
  userName: string;
  status: IamKeyStatus;
  createDate: string;
  lastUsedDate?: string;
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const randomFrom = (alphabet: string, n: number): string =>
  [...randomBytes(n)].map((b) => alphabet[b % alphabet.length]).join('');

/** AKIA + 16 upper-case letters and digits, as IAM issues long-term keys. */
export const newAccessKeyId = (): string => `AKIA${randomFrom(ALNUM, 16)}`;
/** 40 characters of the base64 alphabet, like IAM's secret access keys. */
export const newSecret = (): string => randomBytes(30).toString('base64');

/** In-memory IAM: users with tags, their access keys and each key's use. */
export class IamState {
  readonly users = new Map<string, IamUser>();
  readonly keys = new Map<string, IamKey>();
  /** Every secret ever issued or seeded, for leak checks. */
  readonly secrets: string[] = [];

  user(userName: string, createdMs = Date.now()): IamUser {
    let u = this.users.get(userName);
    if (!u) {
      u = { userName, userId: `AIDA${randomFrom(ALNUM, 17)}`, createdMs, tags: new Map(), mayGetUser: true };
      this.users.set(userName, u);
    }
    return u;
  }

  keysOf(userName: string): IamKey[] {
    return [...this.keys.values()].filter((k) => k.userName === userName);
  }

  addKey(userName: string, opts: { createdMs?: number; accessKeyId?: string; secret?: string } = {}): IamKey {
    const key: IamKey = {
      accessKeyId: opts.accessKeyId ?? newAccessKeyId(),
      secretAccessKey: opts.secret ?? newSecret(),
      userName,
      status: 'Active',
      createdMs: opts.createdMs ?? Date.now(),
      uses: [],
    };
    this.keys.set(key.accessKeyId, key);
    this.secrets.push(key.secretAccessKey);
    return key;
  }

  recordUse(key: IamKey, atMs: number, region: string, service: string): void {
    key.uses.push({ atMs, region, service });
    if (key.uses.length > 100) key.uses.shift();
  }

  /** The newest use IAM reports: uses show up only `lagMs` after they happened, as in AWS. */
  lastUse(key: IamKey, nowMs: number, lagMs: number): IamKey['uses'][number] | undefined {
    return [...key.uses].reverse().find((u) => u.atMs <= nowMs - lagMs);
  }

  summary(key: IamKey, nowMs: number, lagMs: number): IamKeySummary {
    const last = this.lastUse(key, nowMs, lagMs);
    return {
      accessKeyId: key.accessKeyId,
      userName: key.userName,
      status: key.status,
      createDate: new Date(key.createdMs).toISOString(),
      ...(last ? { lastUsedDate: new Date(last.atMs).toISOString() } : {}),
    };
  }

  arn(userName: string): string {
    return `arn:aws:iam::${ACCOUNT_ID}:user/${userName}`;
  }
}
