import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CreatePullThroughCacheRuleCommand,
  CreateRepositoryCreationTemplateCommand,
  DeletePullThroughCacheRuleCommand,
  DeleteRepositoryCreationTemplateCommand,
  DeleteSigningConfigurationCommand,
  DeregisterPullTimeUpdateExclusionCommand,
  DescribePullThroughCacheRulesCommand,
  DescribeRegistryCommand,
  DescribeRepositoryCreationTemplatesCommand,
  GetAccountSettingCommand,
  GetRegistryScanningConfigurationCommand,
  GetSigningConfigurationCommand,
  ListPullTimeUpdateExclusionsCommand,
  PutAccountSettingCommand,
  PutRegistryScanningConfigurationCommand,
  PutReplicationConfigurationCommand,
  PutSigningConfigurationCommand,
  RegisterPullTimeUpdateExclusionCommand,
  UpdatePullThroughCacheRuleCommand,
  UpdateRepositoryCreationTemplateCommand,
  ValidatePullThroughCacheRuleCommand,
  paginateDescribePullThroughCacheRules,
  paginateDescribeRepositoryCreationTemplates,
  type CreateRepositoryCreationTemplateCommandInput,
  type ECRClient,
  type ReplicationConfiguration,
} from '@aws-sdk/client-ecr';
import { GetRegistryCatalogDataCommand, PutRegistryCatalogDataCommand } from '@aws-sdk/client-ecr-public';
import { startTestBerth, type TestBerth } from './lib/berth.js';
import { ecrClients, sdkErrorName } from './lib/ecr-sdk.js';

const ROOT = { accessKeyId: 'AKIAREGSETTINGSROOT01', secretAccessKey: 'registry/settings/root/secret/key/for/tests' };
const ACCOUNT = '000000000000';
const OTHER_ACCOUNT = '111122223333';
const SECRET = (name: string): string => `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:ecr-pullthroughcache/${name}`;
const ROLE = `arn:aws:iam::${ACCOUNT}:role/ecr-templates`;

/** Every registry-level ECR operation and ECR Public's registry catalog data, through the AWS SDK for JavaScript. */
describe('ECR registry settings through the AWS SDK', () => {
  let berth: TestBerth;
  let clients: ReturnType<typeof ecrClients>;
  let ecr: ECRClient;

  before(async () => {
    berth = await startTestBerth({ rootAccessKeyId: ROOT.accessKeyId, rootSecretAccessKey: ROOT.secretAccessKey });
    clients = ecrClients(berth.url, ROOT);
    ecr = clients.ecr;
  });
  after(async () => {
    clients?.ecr.destroy();
    clients?.ecrPublic.destroy();
    await berth?.stop();
  });

  test('DescribeRegistry and PutReplicationConfiguration: empty by default, stored whole, refused without a trace when invalid', async () => {
    assert.deepEqual((await ecr.send(new DescribeRegistryCommand({}))).replicationConfiguration, { rules: [] });
    const configuration: ReplicationConfiguration = {
      rules: [
        { destinations: [{ region: 'eu-west-1', registryId: ACCOUNT }, { region: 'us-east-1', registryId: OTHER_ACCOUNT }], repositoryFilters: [{ filter: 'prod-', filterType: 'PREFIX_MATCH' }] },
        { destinations: [{ region: 'ap-southeast-2', registryId: ACCOUNT }] },
      ],
    };
    assert.deepEqual((await ecr.send(new PutReplicationConfigurationCommand({ replicationConfiguration: configuration }))).replicationConfiguration, configuration);
    const described = await ecr.send(new DescribeRegistryCommand({}));
    assert.equal(described.registryId, ACCOUNT);
    assert.deepEqual(described.replicationConfiguration, configuration);

    const refused: [ReplicationConfiguration, RegExp][] = [
      [{ rules: [{ destinations: [{ region: 'us-east-1', registryId: ACCOUNT }] }] }, /cannot be the source registry/],
      [{ rules: [{ destinations: [{ region: 'eu-west-1', registryId: ACCOUNT }, { region: 'eu-west-1', registryId: ACCOUNT }] }] }, /unique within a rule/],
      [{ rules: [{ destinations: [] }] }, /destinations' failed to satisfy constraint/],
      [{ rules: [{ destinations: Array.from({ length: 26 }, (_, index) => ({ region: 'eu-west-1', registryId: String(100000000000 + index) })) }] }, /limit is 25/],
      [{ rules: [{ destinations: [{ region: 'eu-west-1', registryId: ACCOUNT }], repositoryFilters: [{ filter: 'prod', filterType: 'WILDCARD' as 'PREFIX_MATCH' }] }] }, /enum value set: \[PREFIX_MATCH\]/],
      [{ rules: Array.from({ length: 11 }, () => ({ destinations: [{ region: 'eu-west-1', registryId: ACCOUNT }] })) }, /length less than or equal to 10/],
    ];
    for (const [replicationConfiguration, message] of refused) {
      await assert.rejects(ecr.send(new PutReplicationConfigurationCommand({ replicationConfiguration })), (err: Error) => err.name === 'InvalidParameterException' && message.test(err.message));
    }
    assert.deepEqual((await ecr.send(new DescribeRegistryCommand({}))).replicationConfiguration, configuration);
    await ecr.send(new PutReplicationConfigurationCommand({ replicationConfiguration: { rules: [] } }));
    assert.deepEqual((await ecr.send(new DescribeRegistryCommand({}))).replicationConfiguration, { rules: [] });
  });

  test('GetAccountSetting / PutAccountSetting: defaults, the documented values, unknown names and values refused', async () => {
    const get = async (name: string) => (await ecr.send(new GetAccountSettingCommand({ name }))).value;
    assert.equal(await get('BASIC_SCAN_TYPE_VERSION'), 'AWS_NATIVE');
    assert.equal(await get('REGISTRY_POLICY_SCOPE'), 'V2');
    assert.equal(await get('BLOB_MOUNTING'), 'DISABLED');
    assert.deepEqual(await ecr.send(new PutAccountSettingCommand({ name: 'BLOB_MOUNTING', value: 'ENABLED' })).then(({ name, value }) => ({ name, value })), { name: 'BLOB_MOUNTING', value: 'ENABLED' });
    assert.equal(await get('BLOB_MOUNTING'), 'ENABLED');
    assert.equal(await sdkErrorName(ecr.send(new PutAccountSettingCommand({ name: 'BLOB_MOUNTING', value: 'ON' }))), 'InvalidParameterException');
    assert.equal(await sdkErrorName(ecr.send(new PutAccountSettingCommand({ name: 'REGISTRY_POLICY_SCOPE', value: 'V1' }))), 'InvalidParameterException');
    assert.equal(await sdkErrorName(ecr.send(new PutAccountSettingCommand({ name: 'NO_SUCH_SETTING', value: 'X' }))), 'InvalidParameterException');
    assert.equal(await sdkErrorName(ecr.send(new GetAccountSettingCommand({ name: 'NO_SUCH_SETTING' }))), 'InvalidParameterException');
    assert.equal(await get('BLOB_MOUNTING'), 'ENABLED');
  });

  test('registry scanning configuration: BASIC with no rules by default, stored as put, continuous scanning only with ENHANCED', async () => {
    const initial = await ecr.send(new GetRegistryScanningConfigurationCommand({}));
    assert.equal(initial.registryId, ACCOUNT);
    assert.deepEqual(initial.scanningConfiguration, { scanType: 'BASIC', rules: [] });
    const rules = [
      { scanFrequency: 'CONTINUOUS_SCAN' as const, repositoryFilters: [{ filter: 'prod/*', filterType: 'WILDCARD' as const }] },
      { scanFrequency: 'SCAN_ON_PUSH' as const, repositoryFilters: [{ filter: '*', filterType: 'WILDCARD' as const }] },
    ];
    const put = await ecr.send(new PutRegistryScanningConfigurationCommand({ scanType: 'ENHANCED', rules }));
    assert.deepEqual(put.registryScanningConfiguration, { scanType: 'ENHANCED', rules });
    assert.equal(await sdkErrorName(ecr.send(new PutRegistryScanningConfigurationCommand({ scanType: 'BASIC', rules: [rules[0] as (typeof rules)[0]] }))), 'InvalidParameterException');
    assert.equal(
      await sdkErrorName(ecr.send(new PutRegistryScanningConfigurationCommand({ scanType: 'BASIC', rules: [{ scanFrequency: 'SCAN_ON_PUSH', repositoryFilters: [{ filter: 'Bad Filter', filterType: 'WILDCARD' }] }] }))),
      'InvalidParameterException',
    );
    assert.deepEqual((await ecr.send(new GetRegistryScanningConfigurationCommand({}))).scanningConfiguration, { scanType: 'ENHANCED', rules });
    await ecr.send(new PutRegistryScanningConfigurationCommand({}));
    assert.deepEqual((await ecr.send(new GetRegistryScanningConfigurationCommand({}))).scanningConfiguration, { scanType: 'BASIC', rules: [] });
  });

  test('pull-through cache rules: create, describe, update, validate (honestly unreachable), delete, and their exceptions', async () => {
    const created = await ecr.send(new CreatePullThroughCacheRuleCommand({ ecrRepositoryPrefix: 'ecr-public', upstreamRegistryUrl: 'public.ecr.aws' }));
    assert.equal(created.upstreamRegistry, 'ecr-public');
    assert.equal(created.upstreamRepositoryPrefix, 'ROOT');
    assert.equal(created.registryId, ACCOUNT);
    assert.ok(created.createdAt instanceof Date && Math.abs(created.createdAt.getTime() - Date.now()) < 60_000);

    const hub = { ecrRepositoryPrefix: 'hub', upstreamRegistryUrl: 'registry-1.docker.io', upstreamRegistry: 'docker-hub' as const };
    assert.equal(await sdkErrorName(ecr.send(new CreatePullThroughCacheRuleCommand(hub))), 'InvalidParameterException');
    assert.equal(await sdkErrorName(ecr.send(new CreatePullThroughCacheRuleCommand({ ...hub, credentialArn: `arn:aws:secretsmanager:us-east-1:${OTHER_ACCOUNT}:secret:ecr-pullthroughcache/hub` }))), 'InvalidParameterException');
    assert.equal(await sdkErrorName(ecr.send(new CreatePullThroughCacheRuleCommand({ ...hub, upstreamRegistryUrl: 'ghcr.io', credentialArn: SECRET('hub') }))), 'InvalidParameterException');
    assert.equal(await sdkErrorName(ecr.send(new CreatePullThroughCacheRuleCommand({ ecrRepositoryPrefix: 'q', upstreamRegistryUrl: 'quay.io' }))), 'InvalidParameterException');
    assert.equal(await sdkErrorName(ecr.send(new CreatePullThroughCacheRuleCommand({ ecrRepositoryPrefix: 'quay', upstreamRegistryUrl: 'quay.io', credentialArn: SECRET('quay') }))), 'InvalidParameterException');
    assert.equal(await sdkErrorName(ecr.send(new CreatePullThroughCacheRuleCommand({ ecrRepositoryPrefix: 'mine', upstreamRegistryUrl: 'registry.example.com' }))), 'UnsupportedUpstreamRegistryException');
    assert.equal(
      await sdkErrorName(ecr.send(new CreatePullThroughCacheRuleCommand({ ecrRepositoryPrefix: 'peer', upstreamRegistryUrl: `${OTHER_ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com`, upstreamRegistry: 'ecr' }))),
      'InvalidParameterException',
    );
    assert.equal(await sdkErrorName(ecr.send(new DescribePullThroughCacheRulesCommand({ ecrRepositoryPrefixes: ['hub'] }))), 'PullThroughCacheRuleNotFoundException');

    const withSecret = await ecr.send(new CreatePullThroughCacheRuleCommand({ ...hub, credentialArn: SECRET('hub') }));
    assert.equal(withSecret.credentialArn, SECRET('hub'));
    const peer = await ecr.send(
      new CreatePullThroughCacheRuleCommand({ ecrRepositoryPrefix: 'peer', upstreamRegistryUrl: `${OTHER_ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com`, upstreamRegistry: 'ecr', customRoleArn: ROLE, upstreamRepositoryPrefix: 'team' }),
    );
    assert.equal(peer.upstreamRepositoryPrefix, 'team');
    assert.equal(await sdkErrorName(ecr.send(new CreatePullThroughCacheRuleCommand({ ecrRepositoryPrefix: 'hub/', upstreamRegistryUrl: 'public.ecr.aws' }))), 'PullThroughCacheRuleAlreadyExistsException');

    const { pullThroughCacheRules } = await ecr.send(new DescribePullThroughCacheRulesCommand({ ecrRepositoryPrefixes: ['hub', 'ecr-public/'] }));
    assert.deepEqual(pullThroughCacheRules?.map((rule) => rule.ecrRepositoryPrefix), ['ecr-public', 'hub']);
    assert.ok(pullThroughCacheRules?.[1]?.updatedAt instanceof Date);
    assert.equal(await sdkErrorName(ecr.send(new DescribePullThroughCacheRulesCommand({ ecrRepositoryPrefixes: ['hub', 'nothing'] }))), 'PullThroughCacheRuleNotFoundException');

    const updated = await ecr.send(new UpdatePullThroughCacheRuleCommand({ ecrRepositoryPrefix: 'hub', credentialArn: SECRET('hub-2') }));
    assert.equal(updated.credentialArn, SECRET('hub-2'));
    assert.ok(updated.updatedAt instanceof Date);
    assert.equal(await sdkErrorName(ecr.send(new UpdatePullThroughCacheRuleCommand({ ecrRepositoryPrefix: 'hub', customRoleArn: ROLE }))), 'InvalidParameterException');
    assert.equal(await sdkErrorName(ecr.send(new UpdatePullThroughCacheRuleCommand({ ecrRepositoryPrefix: 'nothing', credentialArn: SECRET('x') }))), 'PullThroughCacheRuleNotFoundException');
    const [stillHub] = (await ecr.send(new DescribePullThroughCacheRulesCommand({ ecrRepositoryPrefixes: ['hub'] }))).pullThroughCacheRules ?? [];
    assert.equal(stillHub?.credentialArn, SECRET('hub-2'));
    assert.equal(stillHub?.customRoleArn, undefined);

    const validated = await ecr.send(new ValidatePullThroughCacheRuleCommand({ ecrRepositoryPrefix: 'hub' }));
    assert.equal(validated.isValid, false);
    assert.match(validated.failure ?? '', /does not connect to upstream registries/);
    assert.equal(validated.upstreamRegistryUrl, 'registry-1.docker.io');
    assert.equal(await sdkErrorName(ecr.send(new ValidatePullThroughCacheRuleCommand({ ecrRepositoryPrefix: 'nothing' }))), 'PullThroughCacheRuleNotFoundException');

    const deleted = await ecr.send(new DeletePullThroughCacheRuleCommand({ ecrRepositoryPrefix: 'hub' }));
    assert.equal(deleted.credentialArn, SECRET('hub-2'));
    assert.equal(await sdkErrorName(ecr.send(new DeletePullThroughCacheRuleCommand({ ecrRepositoryPrefix: 'hub' }))), 'PullThroughCacheRuleNotFoundException');
    for (const ecrRepositoryPrefix of ['ecr-public', 'peer']) await ecr.send(new DeletePullThroughCacheRuleCommand({ ecrRepositoryPrefix }));
  });

  test('pull-through cache rules: pages through the SDK paginator, and at most 50 per registry', async () => {
    const prefixes = Array.from({ length: 50 }, (_, index) => `cache-${String(index).padStart(2, '0')}`);
    for (const ecrRepositoryPrefix of prefixes) await ecr.send(new CreatePullThroughCacheRuleCommand({ ecrRepositoryPrefix, upstreamRegistryUrl: 'registry.k8s.io' }));
    assert.equal(await sdkErrorName(ecr.send(new CreatePullThroughCacheRuleCommand({ ecrRepositoryPrefix: 'one-more', upstreamRegistryUrl: 'registry.k8s.io' }))), 'LimitExceededException');

    const pages: string[][] = [];
    for await (const page of paginateDescribePullThroughCacheRules({ client: ecr, pageSize: 20 }, {})) pages.push((page.pullThroughCacheRules ?? []).map((rule) => rule.ecrRepositoryPrefix ?? ''));
    assert.deepEqual(pages.map((page) => page.length), [20, 20, 10]);
    assert.deepEqual(pages.flat(), prefixes);
    const first = await ecr.send(new DescribePullThroughCacheRulesCommand({ maxResults: 20 }));
    assert.equal(await sdkErrorName(ecr.send(new DescribeRepositoryCreationTemplatesCommand({ nextToken: first.nextToken }))), 'InvalidParameterException');

    for (const ecrRepositoryPrefix of prefixes) await ecr.send(new DeletePullThroughCacheRuleCommand({ ecrRepositoryPrefix }));
  });

  test('repository creation templates: every member stored and returned, validated like the operations they stand for', async () => {
    assert.deepEqual((await ecr.send(new DescribeRepositoryCreationTemplatesCommand({}))).repositoryCreationTemplates, []);
    const lifecyclePolicy = JSON.stringify({ rules: [{ rulePriority: 1, selection: { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 14 }, action: { type: 'expire' } }] });
    const repositoryPolicy = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${OTHER_ACCOUNT}:root` }, Action: 'ecr:BatchGetImage' }] });
    const full = {
      prefix: 'prod',
      description: 'production images',
      appliedFor: ['CREATE_ON_PUSH' as const, 'REPLICATION' as const],
      encryptionConfiguration: { encryptionType: 'KMS' as const, kmsKey: `arn:aws:kms:us-east-1:${ACCOUNT}:key/0b1c2d3e-aaaa-bbbb-cccc-0123456789ab` },
      resourceTags: [{ Key: 'team', Value: 'platform' }],
      imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION' as const,
      imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD' as const, filter: 'latest' }],
      repositoryPolicy,
      lifecyclePolicy,
      customRoleArn: ROLE,
    };
    const created = await ecr.send(new CreateRepositoryCreationTemplateCommand(full));
    assert.equal(created.registryId, ACCOUNT);
    const { createdAt, updatedAt, ...template } = created.repositoryCreationTemplate ?? {};
    assert.deepEqual(template, full);
    assert.ok(createdAt instanceof Date && updatedAt instanceof Date);

    const root = await ecr.send(new CreateRepositoryCreationTemplateCommand({ prefix: 'ROOT', appliedFor: ['PULL_THROUGH_CACHE'] }));
    assert.equal(root.repositoryCreationTemplate?.imageTagMutability, 'MUTABLE');
    assert.deepEqual(root.repositoryCreationTemplate?.encryptionConfiguration, { encryptionType: 'AES256' });
    assert.equal(await sdkErrorName(ecr.send(new CreateRepositoryCreationTemplateCommand({ prefix: 'prod/', appliedFor: ['REPLICATION'] }))), 'TemplateAlreadyExistsException');

    const refused: [CreateRepositoryCreationTemplateCommandInput, string][] = [
      [{ prefix: 'bad', appliedFor: ['CREATE_ON_PUSH'], lifecyclePolicy: '{"rules": []}' }, 'lifecyclePolicy'],
      [{ prefix: 'bad', appliedFor: ['CREATE_ON_PUSH'], repositoryPolicy: '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ecr:*"}]}' }, 'repositoryPolicy'],
      [{ prefix: 'bad', appliedFor: ['CREATE_ON_PUSH'], imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION' }, 'imageTagMutabilityExclusionFilters'],
      [{ prefix: 'bad', appliedFor: ['CREATE_ON_PUSH'], imageTagMutability: 'IMMUTABLE', imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'dev-*' }] }, 'imageTagMutabilityExclusionFilters'],
      [{ prefix: 'bad', appliedFor: ['CREATE_ON_PUSH'], customRoleArn: `arn:aws:iam::${OTHER_ACCOUNT}:role/theirs` }, 'customRoleArn'],
      [{ prefix: 'bad', appliedFor: ['CREATE_ON_PUSH'], resourceTags: [{ Key: 'aws:owner', Value: 'x' }] }, 'resourceTags.1.member.Key'],
      [{ prefix: 'bad', appliedFor: ['CREATE_ON_PUSH'], resourceTags: [{ Key: 'a', Value: '1' }, { Key: 'a', Value: '2' }] }, 'resourceTags.2.member.Key'],
      [{ prefix: 'bad', appliedFor: ['CREATE_ON_PUSH'], encryptionConfiguration: { encryptionType: 'AES256', kmsKey: full.encryptionConfiguration.kmsKey } }, 'encryptionConfiguration.kmsKey'],
      [{ prefix: 'bad', appliedFor: [] }, 'appliedFor'],
      [{ prefix: 'Bad Prefix', appliedFor: ['CREATE_ON_PUSH'] }, 'prefix'],
    ];
    for (const [input, member] of refused) {
      await assert.rejects(ecr.send(new CreateRepositoryCreationTemplateCommand(input)), (err: Error) => err.name === 'InvalidParameterException' && err.message.includes(`Invalid parameter at '${member}'`));
    }
    assert.deepEqual((await ecr.send(new DescribeRepositoryCreationTemplatesCommand({}))).repositoryCreationTemplates?.map((t) => t.prefix), ['ROOT', 'prod']);

    const described = await ecr.send(new DescribeRepositoryCreationTemplatesCommand({ prefixes: ['prod/', 'missing'] }));
    assert.equal(described.registryId, ACCOUNT);
    assert.deepEqual(described.repositoryCreationTemplates?.map((t) => t.prefix), ['prod']);

    // Update changes the members it is given; a new mutability without filters drops the old filters.
    const updated = await ecr.send(new UpdateRepositoryCreationTemplateCommand({ prefix: 'prod', imageTagMutability: 'MUTABLE', description: '' }));
    assert.equal(updated.repositoryCreationTemplate?.imageTagMutability, 'MUTABLE');
    assert.equal(updated.repositoryCreationTemplate?.imageTagMutabilityExclusionFilters, undefined);
    assert.equal(updated.repositoryCreationTemplate?.description, undefined);
    assert.equal(updated.repositoryCreationTemplate?.lifecyclePolicy, lifecyclePolicy);
    assert.ok((updated.repositoryCreationTemplate?.updatedAt?.getTime() ?? 0) >= (createdAt?.getTime() ?? Infinity));
    assert.equal(await sdkErrorName(ecr.send(new UpdateRepositoryCreationTemplateCommand({ prefix: 'prod', imageTagMutabilityExclusionFilters: [{ filterType: 'WILDCARD', filter: 'x' }] }))), 'InvalidParameterException');
    assert.equal(await sdkErrorName(ecr.send(new UpdateRepositoryCreationTemplateCommand({ prefix: 'prod', lifecyclePolicy: 'not json' }))), 'InvalidParameterException');
    assert.equal(await sdkErrorName(ecr.send(new UpdateRepositoryCreationTemplateCommand({ prefix: 'staging', appliedFor: ['REPLICATION'] }))), 'TemplateNotFoundException');
    const [unchanged] = (await ecr.send(new DescribeRepositoryCreationTemplatesCommand({ prefixes: ['prod'] }))).repositoryCreationTemplates ?? [];
    assert.equal(unchanged?.imageTagMutabilityExclusionFilters, undefined);
    assert.equal(unchanged?.lifecyclePolicy, lifecyclePolicy);

    const deleted = await ecr.send(new DeleteRepositoryCreationTemplateCommand({ prefix: 'prod' }));
    assert.equal(deleted.repositoryCreationTemplate?.prefix, 'prod');
    assert.equal(await sdkErrorName(ecr.send(new DeleteRepositoryCreationTemplateCommand({ prefix: 'prod' }))), 'TemplateNotFoundException');
    await ecr.send(new DeleteRepositoryCreationTemplateCommand({ prefix: 'ROOT' }));
  });

  test('repository creation templates: pages through the SDK paginator', async () => {
    const prefixes = Array.from({ length: 25 }, (_, index) => `team-${String(index).padStart(2, '0')}`);
    for (const prefix of prefixes) await ecr.send(new CreateRepositoryCreationTemplateCommand({ prefix, appliedFor: ['CREATE_ON_PUSH'] }));
    const pages: string[][] = [];
    for await (const page of paginateDescribeRepositoryCreationTemplates({ client: ecr, pageSize: 10 }, {})) pages.push((page.repositoryCreationTemplates ?? []).map((t) => t.prefix ?? ''));
    assert.deepEqual(pages.map((page) => page.length), [10, 10, 5]);
    assert.deepEqual(pages.flat(), prefixes);
    for (const prefix of prefixes) await ecr.send(new DeleteRepositoryCreationTemplateCommand({ prefix }));
  });

  test('signing configuration: not found until put, returned as put, deleted once', async () => {
    assert.equal(await sdkErrorName(ecr.send(new GetSigningConfigurationCommand({}))), 'SigningConfigurationNotFoundException');
    assert.equal(await sdkErrorName(ecr.send(new DeleteSigningConfigurationCommand({}))), 'SigningConfigurationNotFoundException');
    const signingConfiguration = {
      rules: [{ signingProfileArn: `arn:aws:signer:us-east-1:${ACCOUNT}:/signing-profiles/release_profile`, repositoryFilters: [{ filter: 'prod/*', filterType: 'WILDCARD_MATCH' as const }] }],
    };
    assert.deepEqual((await ecr.send(new PutSigningConfigurationCommand({ signingConfiguration }))).signingConfiguration, signingConfiguration);
    assert.equal(await sdkErrorName(ecr.send(new PutSigningConfigurationCommand({ signingConfiguration: { rules: [{ signingProfileArn: 'arn:aws:signer:us-east-1:1:/signing-profiles/x' }] } }))), 'InvalidParameterException');
    const got = await ecr.send(new GetSigningConfigurationCommand({}));
    assert.equal(got.registryId, ACCOUNT);
    assert.deepEqual(got.signingConfiguration, signingConfiguration);
    assert.deepEqual((await ecr.send(new DeleteSigningConfigurationCommand({}))).signingConfiguration, signingConfiguration);
    assert.equal(await sdkErrorName(ecr.send(new GetSigningConfigurationCommand({}))), 'SigningConfigurationNotFoundException');
  });

  test('pull-time update exclusions: register once, list across pages, deregister once, at most 100', async () => {
    const arns = Array.from({ length: 100 }, (_, index) => `arn:aws:iam::${ACCOUNT}:role/puller-${String(index).padStart(3, '0')}`);
    const registered = await ecr.send(new RegisterPullTimeUpdateExclusionCommand({ principalArn: arns[0] }));
    assert.equal(registered.principalArn, arns[0]);
    assert.ok(registered.createdAt instanceof Date);
    assert.equal(await sdkErrorName(ecr.send(new RegisterPullTimeUpdateExclusionCommand({ principalArn: arns[0] }))), 'ExclusionAlreadyExistsException');
    assert.equal(await sdkErrorName(ecr.send(new RegisterPullTimeUpdateExclusionCommand({ principalArn: 'arn:aws:iam::000000000000:group/devs' }))), 'InvalidParameterException');
    for (const principalArn of arns.slice(1)) await ecr.send(new RegisterPullTimeUpdateExclusionCommand({ principalArn }));
    assert.equal(await sdkErrorName(ecr.send(new RegisterPullTimeUpdateExclusionCommand({ principalArn: `arn:aws:iam::${ACCOUNT}:user/one-more` }))), 'LimitExceededException');

    const listed: string[] = [];
    let nextToken: string | undefined;
    let pages = 0;
    do {
      const page = await ecr.send(new ListPullTimeUpdateExclusionsCommand({ maxResults: 40, ...(nextToken ? { nextToken } : {}) }));
      listed.push(...(page.pullTimeUpdateExclusions ?? []));
      nextToken = page.nextToken;
      pages++;
    } while (nextToken);
    assert.equal(pages, 3);
    assert.deepEqual(listed, arns);
    assert.equal((await ecr.send(new ListPullTimeUpdateExclusionsCommand({}))).nextToken, undefined);

    assert.equal((await ecr.send(new DeregisterPullTimeUpdateExclusionCommand({ principalArn: arns[0] }))).principalArn, arns[0]);
    assert.equal(await sdkErrorName(ecr.send(new DeregisterPullTimeUpdateExclusionCommand({ principalArn: arns[0] }))), 'ExclusionNotFoundException');
    for (const principalArn of arns.slice(1)) await ecr.send(new DeregisterPullTimeUpdateExclusionCommand({ principalArn }));
    assert.deepEqual((await ecr.send(new ListPullTimeUpdateExclusionsCommand({}))).pullTimeUpdateExclusions, []);
  });

  test("another account's registry is refused before anything is read or written", async () => {
    assert.equal(await sdkErrorName(ecr.send(new DescribePullThroughCacheRulesCommand({ registryId: OTHER_ACCOUNT }))), 'AccessDeniedException');
    assert.equal(await sdkErrorName(ecr.send(new CreatePullThroughCacheRuleCommand({ registryId: OTHER_ACCOUNT, ecrRepositoryPrefix: 'k8s', upstreamRegistryUrl: 'registry.k8s.io' }))), 'AccessDeniedException');
    assert.deepEqual((await ecr.send(new DescribePullThroughCacheRulesCommand({}))).pullThroughCacheRules, []);
  });

  test('ECR Public registry catalog data: empty until put, display name stored, length checked', async () => {
    const { ecrPublic } = clients;
    assert.deepEqual((await ecrPublic.send(new GetRegistryCatalogDataCommand({}))).registryCatalogData, {});
    assert.deepEqual((await ecrPublic.send(new PutRegistryCatalogDataCommand({ displayName: 'Platform team' }))).registryCatalogData, { displayName: 'Platform team' });
    assert.deepEqual((await ecrPublic.send(new GetRegistryCatalogDataCommand({}))).registryCatalogData, { displayName: 'Platform team' });
    assert.equal(await sdkErrorName(ecrPublic.send(new PutRegistryCatalogDataCommand({ displayName: 'x'.repeat(101) }))), 'InvalidParameterException');
    assert.deepEqual((await ecrPublic.send(new GetRegistryCatalogDataCommand({}))).registryCatalogData, { displayName: 'Platform team' });
  });
});
