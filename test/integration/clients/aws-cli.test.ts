import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createIamDouble, type IamDouble } from '../../../sandbox/iam';
import { requireClient, runClient, type ClientRun } from '../../helpers/clients';

const USER = 'integration-service-account';

/** The AWS CLI (botocore's own SigV4 signer and query parser), unchanged, against the IAM double. */
describe('the AWS CLI against the IAM double', () => {
  let iam: IamDouble;
  let home: string;

  beforeAll(() => requireClient('aws', 'install the AWS CLI (pip install awscli, or AWS CLI v2)'));
  beforeEach(async () => {
    iam = await createIamDouble();
    home = mkdtempSync(join(tmpdir(), 'aws-cli-'));
  });
  afterEach(async () => {
    await iam.close();
    rmSync(home, { recursive: true, force: true });
  });

  /** A clean environment: no profile, config or credentials of whoever runs the suite. */
  const env = (key = iam.admin.accessKeyId, secret = iam.admin.secretAccessKey): NodeJS.ProcessEnv => ({
    PATH: process.env.PATH,
    HOME: home,
    AWS_ACCESS_KEY_ID: key,
    AWS_SECRET_ACCESS_KEY: secret,
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_CONFIG_FILE: join(home, 'config'),
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
  });
  const aws = (args: string[], e = env()): Promise<ClientRun> =>
    runClient('aws', ['iam', ...args, '--endpoint-url', iam.url, '--output', 'json'], { env: e });
  const ok = async (args: string[]): Promise<Record<string, unknown>> => {
    const r = await aws(args);
    if (r.code !== 0) throw new Error(`aws iam ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return r.stdout.trim() ? (JSON.parse(r.stdout) as Record<string, unknown>) : {};
  };

  it('runs the rotation the runbook describes: create, list, deactivate, last used, delete', async () => {
    const seeded = iam.seedKey(USER, new Date('2024-06-03T08:00:00Z'));

    const created = (await ok(['create-access-key', '--user-name', USER])) as {
      AccessKey: { AccessKeyId: string; SecretAccessKey: string; Status: string; UserName: string };
    };
    expect(created.AccessKey).toMatchObject({ UserName: USER, Status: 'Active' });
    expect(created.AccessKey.AccessKeyId).toMatch(/^AKIA[A-Z2-7]{16}$/);
    expect(created.AccessKey.SecretAccessKey).toHaveLength(40);

    const listed = (await ok(['list-access-keys', '--user-name', USER])) as {
      AccessKeyMetadata: Array<{ AccessKeyId: string; Status: string; CreateDate: string }>;
    };
    expect(listed.AccessKeyMetadata.map((k) => k.AccessKeyId).sort()).toEqual(
      [seeded.accessKeyId, created.AccessKey.AccessKeyId].sort(),
    );
    expect(listed.AccessKeyMetadata.find((k) => k.AccessKeyId === seeded.accessKeyId)?.CreateDate).toMatch(
      /^2024-06-03T08:00:00/,
    );

    // A key never used: no LastUsedDate, Region and ServiceName N/A.
    expect(await ok(['get-access-key-last-used', '--access-key-id', seeded.accessKeyId])).toEqual({
      UserName: USER,
      AccessKeyLastUsed: { ServiceName: 'N/A', Region: 'N/A' },
    });
    // The new key signs a request itself (the CLI as its consumer): that use is what IAM reports.
    const asNew = env(created.AccessKey.AccessKeyId, created.AccessKey.SecretAccessKey);
    expect((await aws(['get-user'], asNew)).code).toBe(0);
    const used = (await ok([
      'get-access-key-last-used',
      '--access-key-id',
      created.AccessKey.AccessKeyId,
    ])) as {
      AccessKeyLastUsed: { LastUsedDate?: string; ServiceName: string; Region: string };
    };
    expect(used.AccessKeyLastUsed).toMatchObject({ ServiceName: 'iam', Region: 'us-east-1' });
    expect(used.AccessKeyLastUsed.LastUsedDate).toEqual(expect.any(String));

    await ok([
      'update-access-key',
      '--user-name',
      USER,
      '--access-key-id',
      seeded.accessKeyId,
      '--status',
      'Inactive',
    ]);
    expect(iam.keys(USER).find((k) => k.accessKeyId === seeded.accessKeyId)?.status).toBe('Inactive');
    // An inactive key is refused as AWS refuses it.
    const asOld = await aws(['get-user'], env(seeded.accessKeyId, seeded.secretAccessKey));
    expect(asOld.code).not.toBe(0);
    expect(asOld.stderr).toContain('(InvalidClientTokenId)');

    await ok(['delete-access-key', '--user-name', USER, '--access-key-id', seeded.accessKeyId]);
    expect(iam.keys(USER).map((k) => k.accessKeyId)).toEqual([created.AccessKey.AccessKeyId]);
  });

  it('answers the errors AWS answers: LimitExceeded, NoSuchEntity, InvalidClientTokenId, SignatureDoesNotMatch', async () => {
    iam.seedKey(USER);
    iam.seedKey(USER);
    const third = await aws(['create-access-key', '--user-name', USER]);
    expect(third.code).not.toBe(0);
    expect(third.stderr).toContain(
      'An error occurred (LimitExceeded) when calling the CreateAccessKey operation: Cannot exceed quota for AccessKeysPerUser: 2',
    );
    expect(iam.limitExceededCreates()).toBe(1);

    const gone = await aws([
      'delete-access-key',
      '--user-name',
      USER,
      '--access-key-id',
      'AKIAAAAAAAAAAAAAAAAA',
    ]);
    expect(gone.stderr).toContain('(NoSuchEntity)');
    const noUser = await aws(['list-access-keys', '--user-name', 'nobody']);
    expect(noUser.stderr).toContain('The user with name nobody cannot be found.');

    const unknown = await aws(['list-access-keys'], env('AKIAUNKNOWNKEY000000', 'x'.repeat(40)));
    expect(unknown.stderr).toContain('(InvalidClientTokenId)');
    const wrongSecret = await aws(['list-access-keys'], env(iam.admin.accessKeyId, 'y'.repeat(40)));
    expect(wrongSecret.stderr).toContain('(SignatureDoesNotMatch)');
    expect(iam.keys(USER)).toHaveLength(2);
  });

  it('denies GetUser to a user no policy allows it, after accepting the signature, as AWS does', async () => {
    const key = iam.seedKey(USER);
    iam.allowGetUser(USER, false);
    const denied = await aws(['get-user'], env(key.accessKeyId, key.secretAccessKey));
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toContain(
      `An error occurred (AccessDenied) when calling the GetUser operation: User: arn:aws:iam::`,
    );
    expect(denied.stderr).toContain(`:user/${USER} is not authorized to perform: iam:GetUser`);
    // A wrong secret is still refused before any policy is looked at.
    const wrong = await aws(['get-user'], env(key.accessKeyId, 'z'.repeat(40)));
    expect(wrong.stderr).toContain('(SignatureDoesNotMatch)');
    iam.allowGetUser(USER, true);
    expect((await aws(['get-user'], env(key.accessKeyId, key.secretAccessKey))).code).toBe(0);
  });
});
