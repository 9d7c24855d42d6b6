import {
  CreateAccessKeyCommand,
  DeleteAccessKeyCommand,
  GetAccessKeyLastUsedCommand,
  GetUserCommand,
  IAMClient,
  ListAccessKeysCommand,
  ListUserTagsCommand,
  TagUserCommand,
  UntagUserCommand,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { AwsIamIssuerSpec } from '../../domain/credential';
import { RotatorError } from '../../domain/errors';
import type { IssuedKeyInfo, Issuer, KeyStatus } from '../../domain/ports';
import { Secret } from '../../domain/secret';
import { awsFailure, isAccessDenied, isDefiniteRejection, isNoSuchEntity, isRejectedKey } from './aws-errors';

export interface AwsIamIssuerOptions {
  spec: AwsIamIssuerSpec;
  /** Where IAM answers (the double, or a VPC endpoint); AWS's global endpoint when absent. */
  endpoint?: string;
  timeoutMs?: number;
  /** SDK attempts for reads and idempotent writes; CreateAccessKey is never retried blindly. */
  maxAttempts?: number;
}

/**
 * One keep-alive pool for every IAM client of the process: the SDK would give each client (two per
 * credential) its own, so each credential's calls opened connections (and TLS sessions) of their own.
 */
let sharedAgents: { httpAgent: HttpAgent; httpsAgent: HttpsAgent } | undefined;
const agents = () =>
  (sharedAgents ??= {
    httpAgent: new HttpAgent({ keepAlive: true, maxSockets: 50 }),
    httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets: 50 }),
  });

/** IAM's quota of access keys per user, inactive ones included. */
export const IAM_KEYS_PER_USER = 2;

/**
 * Issuer for one IAM user's access keys through @aws-sdk/client-iam. A key is labelled by a user
 * tag whose key is the access key id (what the console's "description tag" does), so the orphan
 * sweep recognises the keys runs created. Never asks for a third key: the user's keys are counted
 * before every CreateAccessKey, and an unanswered create is read back, never repeated.
 */
export class AwsIamIssuer implements Issuer {
  readonly keyLimit = IAM_KEYS_PER_USER;
  private readonly admin: IAMClient;
  private readonly once: IAMClient;
  private readonly user: string;

  constructor(private readonly opts: AwsIamIssuerOptions) {
    this.user = opts.spec.userName;
    this.admin = this.client(opts.spec.accessKeyId, opts.spec.secretAccessKey, opts.maxAttempts ?? 3);
    this.once = this.client(opts.spec.accessKeyId, opts.spec.secretAccessKey, 1);
  }

  private client(accessKeyId: string, secret: Secret, maxAttempts: number): IAMClient {
    const timeout = this.opts.timeoutMs ?? 5000;
    return new IAMClient({
      region: this.opts.spec.region,
      ...(this.opts.endpoint ? { endpoint: this.opts.endpoint } : {}),
      credentials: { accessKeyId, secretAccessKey: secret.reveal() },
      maxAttempts,
      requestHandler: { requestTimeout: timeout, connectionTimeout: timeout, ...agents() },
    });
  }

  /** CreateAccessKey, then the label as a user tag; a key that cannot be labelled is deleted again. */
  async create(label: string): Promise<{ keyId: string; value: Secret }> {
    const before = await this.listKeys();
    if (before.length >= IAM_KEYS_PER_USER) {
      throw new RotatorError(
        'key_limit',
        `IAM user ${this.user} already has ${before.length} access keys (${before.map((k) => k.id).join(', ')}): no new key was requested`,
        { context: { hint: 'cannot_revoke_old' } },
      );
    }
    let created: { id: string; secret: Secret };
    try {
      const out = await this.once.send(new CreateAccessKeyCommand({ UserName: this.user }));
      const k = out.AccessKey;
      if (!k?.AccessKeyId || !k.SecretAccessKey)
        throw this.error('issuer_rejected', 'CreateAccessKey answered without a key');
      created = { id: k.AccessKeyId, secret: new Secret(k.SecretAccessKey) };
    } catch (e) {
      if (e instanceof RotatorError || isDefiniteRejection(e)) throw this.wrap(e, 'CreateAccessKey');
      // The answer was lost: a key may exist whose secret nobody has. Read back, delete it, retry later.
      const lost = (await this.listKeys()).filter((k) => !before.some((b) => b.id === k.id));
      for (const k of lost) await this.revoke(k.id);
      const note = lost.length ? `; key ${lost.map((k) => k.id).join(', ')} it made was deleted` : '';
      throw this.error('issuer_unavailable', `CreateAccessKey went unanswered${note}`, true);
    }
    try {
      await this.admin.send(
        new TagUserCommand({ UserName: this.user, Tags: [{ Key: created.id, Value: label }] }),
      );
    } catch (e) {
      await this.revoke(created.id);
      throw this.wrap(e, `TagUser (key ${created.id} deleted again)`);
    }
    return { keyId: created.id, value: created.secret };
  }

  /** The user's keys, labelled from the user's tags. */
  async list(): Promise<IssuedKeyInfo[]> {
    const [keys, tags] = await Promise.all([this.listKeys(), this.tags()]);
    return keys.map((k) => ({
      keyId: k.id,
      label: tags.get(k.id) ?? '',
      status: k.status,
      createdAt: k.createdAt,
    }));
  }

  async status(keyId: string): Promise<KeyStatus> {
    return (await this.listKeys()).find((k) => k.id === keyId)?.status ?? 'absent';
  }

  /** DeleteAccessKey (a key already gone is fine), then its label. */
  async revoke(keyId: string): Promise<void> {
    try {
      await this.admin.send(new DeleteAccessKeyCommand({ UserName: this.user, AccessKeyId: keyId }));
    } catch (e) {
      if (!isNoSuchEntity(e)) throw this.wrap(e, `DeleteAccessKey ${keyId}`);
    }
    await this.admin
      .send(new UntagUserCommand({ UserName: this.user, TagKeys: [keyId] }))
      .catch((e: unknown) => {
        if (!isNoSuchEntity(e)) throw this.wrap(e, `UntagUser ${keyId}`);
      });
  }

  /** UpdateAccessKey Status=Inactive: AWS refuses the key, and it can be switched back on. */
  deactivate(keyId: string): Promise<void> {
    return this.setStatus(keyId, 'Inactive');
  }

  reactivate(keyId: string): Promise<void> {
    return this.setStatus(keyId, 'Active');
  }

  /** GetAccessKeyLastUsed's LastUsedDate (hours behind the truth in AWS). */
  async lastUsed(keyId: string): Promise<Date | undefined> {
    try {
      const out = await this.admin.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: keyId }));
      return out.AccessKeyLastUsed?.LastUsedDate;
    } catch (e) {
      throw this.wrap(e, `GetAccessKeyLastUsed ${keyId}`);
    }
  }

  /**
   * Signs GetUser with the key pair itself: accepted, or refused as AWS refuses an invalid key. A
   * least-privilege key may not call GetUser: its AccessDenied still proves the signature valid.
   */
  async accepts(value: Secret, keyId?: string): Promise<boolean> {
    if (!keyId) throw this.error('internal', 'an access key cannot be tested without its access key id');
    const probe = this.client(keyId, value, 1);
    try {
      await probe.send(new GetUserCommand({}));
      return true;
    } catch (e) {
      if (isAccessDenied(e)) return true;
      if (isRejectedKey(e)) return false;
      throw this.wrap(e, `GetUser as ${keyId}`);
    } finally {
      probe.destroy();
    }
  }

  private async setStatus(keyId: string, status: 'Active' | 'Inactive'): Promise<void> {
    try {
      await this.admin.send(
        new UpdateAccessKeyCommand({ UserName: this.user, AccessKeyId: keyId, Status: status }),
      );
    } catch (e) {
      throw this.wrap(e, `UpdateAccessKey ${keyId} Status=${status}`);
    }
  }

  private async listKeys(): Promise<Array<{ id: string; status: KeyStatus; createdAt: string }>> {
    try {
      const out = await this.admin.send(new ListAccessKeysCommand({ UserName: this.user }));
      return (out.AccessKeyMetadata ?? [])
        .filter((k) => k.AccessKeyId)
        .map((k) => ({
          id: k.AccessKeyId!,
          status: k.Status === 'Active' ? 'active' : 'inactive',
          createdAt: k.CreateDate?.toISOString() ?? '',
        }));
    } catch (e) {
      throw this.wrap(e, 'ListAccessKeys');
    }
  }

  private async tags(): Promise<Map<string, string>> {
    try {
      const out = await this.admin.send(new ListUserTagsCommand({ UserName: this.user }));
      return new Map((out.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
    } catch (e) {
      throw this.wrap(e, 'ListUserTags');
    }
  }

  private wrap(e: unknown, what: string): RotatorError {
    if (e instanceof RotatorError) return e;
    const f = awsFailure(e);
    return this.error(f.code, `${what} for user ${this.user}: ${f.what}`, f.transient, f.status);
  }

  /** Every error names the issuer and the user; never a secret (the SDK's messages are not kept). */
  private error(code: RotatorError['code'], text: string, transient = false, status?: number): RotatorError {
    return new RotatorError(code, `${this.opts.spec.name} ${text}`, {
      transient,
      context: { issuer: this.opts.spec.name, user: this.user, ...(status ? { status } : {}) },
    });
  }
}
