import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { awsCliFor, isolatedAwsEnv, type AwsKey as Credentials } from '../lib/aws-cli.js';
import { ADMIN_PASSWORD } from '../lib/berth.js';
import { TestClient } from '../lib/client.js';
import { spawnBerth, type BerthProcess } from '../lib/process.js';
import { requireClients } from '../support/env.js';

const ROOT_KEY: Credentials = { AWS_ACCESS_KEY_ID: 'AKIAE2EGROUPSROOT001', AWS_SECRET_ACCESS_KEY: 'e2e/iam/groups/root/secret/for/berth/0000' };
const ACCOUNT = '000000000000';
const MANAGED = 'arn:aws:iam::aws:policy/';
const PUSH_ACTIONS = ['ecr:InitiateLayerUpload', 'ecr:UploadLayerPart', 'ecr:CompleteLayerUpload', 'ecr:PutImage', 'ecr:BatchCheckLayerAvailability'];

const policyDocument = (actions: string[], resource = `arn:aws:ecr:us-east-1:${ACCOUNT}:repository/team/*`): string =>
  JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: actions, Resource: resource }] });

/**
 * Groups and customer-managed policies through the real AWS CLI: what a user
 * may do on /v2/ follows its groups' policies and the policies' default
 * versions, and IAM's conflicts and limits answer as IAM does.
 */
describe('IAM groups and customer-managed policies', () => {
  let scratch: string;
  let server: BerthProcess;
  let baseEnv: NodeJS.ProcessEnv;
  let gina: Credentials;
  let pushPolicyArn: string;

  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'berth-iam-groups-'));
    server = await spawnBerth({
      BERTH_DATA_DIR: join(scratch, 'data'),
      BERTH_ADMIN_PASSWORD: ADMIN_PASSWORD,
      BERTH_ROOT_ACCESS_KEY_ID: ROOT_KEY.AWS_ACCESS_KEY_ID,
      BERTH_ROOT_SECRET_ACCESS_KEY: ROOT_KEY.AWS_SECRET_ACCESS_KEY,
    });
    baseEnv = await isolatedAwsEnv(scratch);
    await new TestClient(server.url).pushImage('team/app', 'v1');
  });
  after(async () => {
    await server?.stop();
    await rm(scratch, { recursive: true, force: true });
  });

  const aws: ReturnType<typeof awsCliFor>['aws'] = (as, args, expectOk) => awsCliFor(server.url, baseEnv).aws(as, args, expectOk);
  const awsJson = async <T>(as: Credentials, args: string[]): Promise<T> => JSON.parse((await aws(as, args)).stdout) as T;
  const fails = async (as: Credentials, args: string[], code: RegExp) => {
    const result = await aws(as, args, false);
    assert.notEqual(result.code, 0, `aws ${args.join(' ')} should fail`);
    assert.match(result.stderr, code);
  };
  const loginAs = (as: Credentials): Promise<TestClient> => awsCliFor(server.url, baseEnv).loginAs(as);
  /** Pushes as `client`; the HTTP status of the first refused step, or 201 when the whole push went through. */
  const tryPush = async (client: TestClient, tag: string): Promise<number> => {
    try {
      await client.pushImage('team/app', tag);
      return 201;
    } catch (err) {
      return Number(/ (\d{3})/.exec(String(err))?.[1] ?? 0);
    }
  };

  test('a group with PullOnly: its member pulls, cannot push; get-group and list-groups-for-user show the membership', async (t) => {
    if (!requireClients(t, ['aws'])) return;
    const created = await awsJson<{ Group: { GroupName: string; GroupId: string; Arn: string; Path: string } }>(ROOT_KEY, ['iam', 'create-group', '--group-name', 'builders', '--path', '/ci/']);
    assert.equal(created.Group.Arn, `arn:aws:iam::${ACCOUNT}:group/ci/builders`);
    assert.match(created.Group.GroupId, /^AGPA[A-Z2-7]{17}$/);
    await aws(ROOT_KEY, ['iam', 'create-user', '--user-name', 'gina']);
    await aws(ROOT_KEY, ['iam', 'add-user-to-group', '--group-name', 'builders', '--user-name', 'gina']);
    await aws(ROOT_KEY, ['iam', 'attach-group-policy', '--group-name', 'builders', '--policy-arn', `${MANAGED}AmazonEC2ContainerRegistryPullOnly`]);
    const key = await awsJson<{ AccessKey: { AccessKeyId: string; SecretAccessKey: string } }>(ROOT_KEY, ['iam', 'create-access-key', '--user-name', 'gina']);
    gina = { AWS_ACCESS_KEY_ID: key.AccessKey.AccessKeyId, AWS_SECRET_ACCESS_KEY: key.AccessKey.SecretAccessKey };

    const group = await awsJson<{ Group: { GroupName: string }; Users: { UserName: string }[] }>(ROOT_KEY, ['iam', 'get-group', '--group-name', 'builders']);
    assert.deepEqual(group.Users.map((u) => u.UserName), ['gina']);
    const forUser = await awsJson<{ Groups: { GroupName: string }[] }>(ROOT_KEY, ['iam', 'list-groups-for-user', '--user-name', 'gina']);
    assert.deepEqual(forUser.Groups.map((g) => g.GroupName), ['builders']);
    const attached = await awsJson<{ AttachedPolicies: { PolicyName: string }[] }>(ROOT_KEY, ['iam', 'list-attached-group-policies', '--group-name', 'builders']);
    assert.deepEqual(attached.AttachedPolicies.map((p) => p.PolicyName), ['AmazonEC2ContainerRegistryPullOnly']);

    const client = await loginAs(gina);
    assert.equal((await client.request('/v2/team/app/manifests/v1')).status, 200);
    assert.equal(await tryPush(client, 'gina'), 403);
  });

  test('a group inline policy adds to the member\'s permissions and goes away with it', async (t) => {
    if (!requireClients(t, ['aws'])) return;
    await aws(ROOT_KEY, ['iam', 'put-group-policy', '--group-name', 'builders', '--policy-name', 'push', '--policy-document', policyDocument(PUSH_ACTIONS)]);
    const listed = await awsJson<{ PolicyNames: string[] }>(ROOT_KEY, ['iam', 'list-group-policies', '--group-name', 'builders']);
    assert.deepEqual(listed.PolicyNames, ['push']);
    const got = await awsJson<{ PolicyDocument: { Statement: { Action: string[] }[] } }>(ROOT_KEY, ['iam', 'get-group-policy', '--group-name', 'builders', '--policy-name', 'push']);
    assert.deepEqual(got.PolicyDocument.Statement[0]?.Action, PUSH_ACTIONS);
    const client = await loginAs(gina);
    assert.equal(await tryPush(client, 'group-inline'), 201);
    await aws(ROOT_KEY, ['iam', 'delete-group-policy', '--group-name', 'builders', '--policy-name', 'push']);
    assert.equal(await tryPush(client, 'group-inline-2'), 403);
  });

  test('a customer-managed policy: attach, versions, default version decides; AttachmentCount', async (t) => {
    if (!requireClients(t, ['aws'])) return;
    const created = await awsJson<{ Policy: { Arn: string; DefaultVersionId: string; AttachmentCount: number; PolicyId: string } }>(ROOT_KEY, [
      'iam', 'create-policy', '--policy-name', 'TeamPush', '--path', '/team/', '--description', 'push to team/*', '--policy-document', policyDocument(PUSH_ACTIONS),
    ]);
    pushPolicyArn = created.Policy.Arn;
    assert.equal(pushPolicyArn, `arn:aws:iam::${ACCOUNT}:policy/team/TeamPush`);
    assert.equal(created.Policy.DefaultVersionId, 'v1');
    assert.match(created.Policy.PolicyId, /^ANPA/);
    await aws(ROOT_KEY, ['iam', 'attach-group-policy', '--group-name', 'builders', '--policy-arn', pushPolicyArn]);
    const client = await loginAs(gina);
    assert.equal(await tryPush(client, 'managed-v1'), 201);
    assert.equal((await awsJson<{ Policy: { AttachmentCount: number } }>(ROOT_KEY, ['iam', 'get-policy', '--policy-arn', pushPolicyArn])).Policy.AttachmentCount, 1);

    // v2 (pull only) is created but not the default: nothing changes until it is made the default.
    const v2 = await awsJson<{ PolicyVersion: { VersionId: string; IsDefaultVersion: boolean } }>(ROOT_KEY, [
      'iam', 'create-policy-version', '--policy-arn', pushPolicyArn, '--policy-document', policyDocument(['ecr:BatchGetImage']),
    ]);
    assert.deepEqual(v2.PolicyVersion, { ...v2.PolicyVersion, VersionId: 'v2', IsDefaultVersion: false });
    assert.equal(await tryPush(client, 'managed-v1b'), 201);
    await aws(ROOT_KEY, ['iam', 'set-default-policy-version', '--policy-arn', pushPolicyArn, '--version-id', 'v2']);
    assert.equal(await tryPush(client, 'managed-v2'), 403);
    const version = await awsJson<{ PolicyVersion: { Document: { Statement: { Action: string[] }[] }; IsDefaultVersion: boolean } }>(ROOT_KEY, [
      'iam', 'get-policy-version', '--policy-arn', pushPolicyArn, '--version-id', 'v2',
    ]);
    assert.equal(version.PolicyVersion.IsDefaultVersion, true);
    assert.deepEqual(version.PolicyVersion.Document.Statement[0]?.Action, ['ecr:BatchGetImage']);
    const versions = await awsJson<{ Versions: { VersionId: string; IsDefaultVersion: boolean }[] }>(ROOT_KEY, ['iam', 'list-policy-versions', '--policy-arn', pushPolicyArn]);
    assert.deepEqual(versions.Versions.map((v) => [v.VersionId, v.IsDefaultVersion]), [['v2', true], ['v1', false]]);
    await aws(ROOT_KEY, ['iam', 'set-default-policy-version', '--policy-arn', pushPolicyArn, '--version-id', 'v1']);
    assert.equal(await tryPush(client, 'managed-v1c'), 201);
  });

  test('list-policies: the AWS-managed ECR policies under Scope AWS, ours under Local', async (t) => {
    if (!requireClients(t, ['aws'])) return;
    const awsScope = await awsJson<{ Policies: { PolicyName: string; Arn: string; AttachmentCount: number }[] }>(ROOT_KEY, ['iam', 'list-policies', '--scope', 'AWS']);
    assert.deepEqual(awsScope.Policies.map((p) => p.PolicyName).sort(), [
      'AmazonEC2ContainerRegistryFullAccess',
      'AmazonEC2ContainerRegistryPowerUser',
      'AmazonEC2ContainerRegistryPullOnly',
      'AmazonEC2ContainerRegistryReadOnly',
    ]);
    assert.equal(awsScope.Policies.find((p) => p.PolicyName === 'AmazonEC2ContainerRegistryPullOnly')?.AttachmentCount, 1);
    const local = await awsJson<{ Policies: { Arn: string; AttachmentCount: number }[] }>(ROOT_KEY, ['iam', 'list-policies', '--scope', 'Local']);
    assert.deepEqual(local.Policies.map((p) => [p.Arn, p.AttachmentCount]), [[pushPolicyArn, 1]]);
    const attachedOnly = await awsJson<{ Policies: { PolicyName: string }[] }>(ROOT_KEY, ['iam', 'list-policies', '--only-attached']);
    assert.deepEqual(attachedOnly.Policies.map((p) => p.PolicyName).sort(), ['AmazonEC2ContainerRegistryPullOnly', 'TeamPush']);
    const managed = await awsJson<{ PolicyVersion: { Document: { Statement: { Action: string[] }[] } } }>(ROOT_KEY, [
      'iam', 'get-policy-version', '--policy-arn', `${MANAGED}AmazonEC2ContainerRegistryPullOnly`, '--version-id', 'v1',
    ]);
    assert.ok(managed.PolicyVersion.Document.Statement[0]?.Action.includes('ecr:BatchGetImage'));
  });

  test('conflicts and limits answer as IAM does and change nothing', async (t) => {
    if (!requireClients(t, ['aws'])) return;
    await fails(ROOT_KEY, ['iam', 'delete-group', '--group-name', 'builders'], /DeleteConflict/);
    await fails(ROOT_KEY, ['iam', 'delete-policy', '--policy-arn', pushPolicyArn], /DeleteConflict/);
    type Entities = { PolicyGroups: { GroupName: string; GroupId: string }[]; PolicyUsers: unknown[]; PolicyRoles: unknown[] };
    const entities = await awsJson<Entities>(ROOT_KEY, ['iam', 'list-entities-for-policy', '--policy-arn', pushPolicyArn]);
    assert.deepEqual([entities.PolicyGroups.map((g) => g.GroupName), entities.PolicyUsers, entities.PolicyRoles], [['builders'], [], []]);
    assert.match(entities.PolicyGroups[0]?.GroupId ?? '', /^AGPA/);
    const usersOnly = await awsJson<Entities>(ROOT_KEY, ['iam', 'list-entities-for-policy', '--policy-arn', pushPolicyArn, '--entity-filter', 'User']);
    assert.deepEqual(usersOnly.PolicyGroups, []);
    await fails(ROOT_KEY, ['iam', 'delete-policy-version', '--policy-arn', pushPolicyArn, '--version-id', 'v1'], /DeleteConflict/);
    await aws(ROOT_KEY, ['iam', 'delete-access-key', '--user-name', 'gina', '--access-key-id', gina.AWS_ACCESS_KEY_ID]);
    // Out of keys and policies, gina is still in a group.
    await fails(ROOT_KEY, ['iam', 'delete-user', '--user-name', 'gina'], /DeleteConflict/);
    await fails(ROOT_KEY, ['iam', 'create-group', '--group-name', 'builders'], /EntityAlreadyExists/);
    await fails(ROOT_KEY, ['iam', 'create-policy', '--policy-name', 'TeamPush', '--policy-document', policyDocument(['ecr:ListImages'])], /EntityAlreadyExists/);
    await fails(ROOT_KEY, ['iam', 'add-user-to-group', '--group-name', 'nobody', '--user-name', 'gina'], /NoSuchEntity/);
    await fails(ROOT_KEY, ['iam', 'attach-group-policy', '--group-name', 'builders', '--policy-arn', `arn:aws:iam::${ACCOUNT}:policy/Missing`], /NoSuchEntity/);
    await fails(ROOT_KEY, ['iam', 'attach-group-policy', '--group-name', 'builders', '--policy-arn', `${MANAGED}AdministratorAccess`], /NoSuchEntity/);
    await fails(ROOT_KEY, ['iam', 'create-policy', '--policy-name', 'Bad', '--policy-document', policyDocument(['ecr:PushImage'])], /MalformedPolicyDocument/);
    const huge = JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'x'.repeat(6200), Effect: 'Allow', Action: 'ecr:ListImages', Resource: '*' }] });
    await fails(ROOT_KEY, ['iam', 'create-policy', '--policy-name', 'Huge', '--policy-document', huge], /LimitExceeded/);
    // Five versions at most: v1, v2 exist; v3..v5 fit; the sixth does not.
    for (let i = 3; i <= 5; i++) await aws(ROOT_KEY, ['iam', 'create-policy-version', '--policy-arn', pushPolicyArn, '--policy-document', policyDocument(['ecr:ListImages'])]);
    await fails(ROOT_KEY, ['iam', 'create-policy-version', '--policy-arn', pushPolicyArn, '--policy-document', policyDocument(['ecr:ListImages'])], /LimitExceeded/);

    const groups = await awsJson<{ Groups: { GroupName: string }[] }>(ROOT_KEY, ['iam', 'list-groups']);
    assert.deepEqual(groups.Groups.map((g) => g.GroupName), ['builders']);
    const local = await awsJson<{ Policies: { PolicyName: string; DefaultVersionId: string }[] }>(ROOT_KEY, ['iam', 'list-policies', '--scope', 'Local']);
    assert.deepEqual(local.Policies.map((p) => [p.PolicyName, p.DefaultVersionId]), [['TeamPush', 'v1']]);
  });

  test('cleaning up in IAM\'s order: remove from group, detach, delete versions, then delete', async (t) => {
    if (!requireClients(t, ['aws'])) return;
    await aws(ROOT_KEY, ['iam', 'remove-user-from-group', '--group-name', 'builders', '--user-name', 'gina']);
    await fails(ROOT_KEY, ['iam', 'remove-user-from-group', '--group-name', 'builders', '--user-name', 'gina'], /NoSuchEntity/);
    await aws(ROOT_KEY, ['iam', 'delete-user', '--user-name', 'gina']);
    await aws(ROOT_KEY, ['iam', 'detach-group-policy', '--group-name', 'builders', '--policy-arn', pushPolicyArn]);
    await aws(ROOT_KEY, ['iam', 'detach-group-policy', '--group-name', 'builders', '--policy-arn', `${MANAGED}AmazonEC2ContainerRegistryPullOnly`]);
    await aws(ROOT_KEY, ['iam', 'delete-group', '--group-name', 'builders']);
    for (const v of ['v2', 'v3', 'v4', 'v5']) await aws(ROOT_KEY, ['iam', 'delete-policy-version', '--policy-arn', pushPolicyArn, '--version-id', v]);
    await aws(ROOT_KEY, ['iam', 'delete-policy', '--policy-arn', pushPolicyArn]);
    await fails(ROOT_KEY, ['iam', 'get-policy', '--policy-arn', pushPolicyArn], /NoSuchEntity/);
    await fails(ROOT_KEY, ['iam', 'get-group', '--group-name', 'builders'], /NoSuchEntity/);
  });
});
