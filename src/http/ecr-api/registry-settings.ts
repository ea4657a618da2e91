import type { AwsService } from '../../aws/operations.js';
import type {
  AccountSettingName,
  RegistryScanningConfiguration,
  ReplicationConfiguration,
  SigningConfiguration,
} from '../../storage/registry-settings-store.js';
import { AwsError } from '../aws-common.js';
import type { EcrApiDeps, EcrHandler, EcrHandlers } from './call.js';
import { creationTemplateHandlers } from './creation-templates.js';
import { pullThroughCacheHandlers } from './pull-through-cache.js';
import { invalidParameter, itemPage } from './registry-common.js';

/**
 * ECR's account settings: the values the model's documentation lists for
 * each name, and the value an account has until it puts another. Berth
 * stores them; none changes Berth's behaviour yet (docs/ecr-registry-settings.md).
 */
const ACCOUNT_SETTINGS: Readonly<Record<AccountSettingName, { values: readonly string[]; default: string }>> = {
  BASIC_SCAN_TYPE_VERSION: { values: ['AWS_NATIVE'], default: 'AWS_NATIVE' },
  REGISTRY_POLICY_SCOPE: { values: ['V2'], default: 'V2' },
  BLOB_MOUNTING: { values: ['ENABLED', 'DISABLED'], default: 'DISABLED' },
};

/** Service quota "unique replication destinations" (the model allows 100 per rule). */
const MAX_REPLICATION_DESTINATIONS = 25;
/** `PullTimeUpdateExclusionList` holds at most 100. */
const MAX_PULL_TIME_UPDATE_EXCLUSIONS = 100;

const DEFAULT_SCANNING: RegistryScanningConfiguration = { scanType: 'BASIC', rules: [] };

/**
 * The registry-level operations of ECR (account settings, scanning,
 * replication and signing configuration, pull-time update exclusions, and
 * with the groups below pull-through cache rules and repository creation
 * templates) and ECR Public's registry catalog data. Each acts on the
 * caller's own registry: the dispatcher has authorized the action on `*` in
 * the account `registryId` names, which only that account's principals pass.
 */
export function registrySettingsHandlers(deps: EcrApiDeps): EcrHandlers {
  const { registrySettings: store, account, serverKey } = deps;

  const accountSettingName = (name: string): AccountSettingName => {
    if (!Object.hasOwn(ACCOUNT_SETTINGS, name)) throw invalidParameter('name', `Member must satisfy enum value set: [${Object.keys(ACCOUNT_SETTINGS).join(', ')}]`);
    return name as AccountSettingName;
  };

  const ownHandlers: EcrHandlers = {
    ecr: {
      DescribeRegistry: async ({ registryId }) => {
        const replication = await store.getSetting(registryId, 'replication');
        return { registryId, replicationConfiguration: replication?.document ?? { rules: [] } };
      },
      GetAccountSetting: async ({ registryId, input }) => {
        const name = accountSettingName(input.name as string);
        const stored = await store.getSetting(registryId, `account-setting/${name}`);
        return { name, value: stored?.document.value ?? ACCOUNT_SETTINGS[name].default };
      },
      PutAccountSetting: async ({ registryId, input }) => {
        const name = accountSettingName(input.name as string);
        const value = input.value as string;
        const { values } = ACCOUNT_SETTINGS[name];
        if (!values.includes(value)) throw invalidParameter('value', `Member must satisfy enum value set for ${name}: [${values.join(', ')}]`);
        await store.putSetting(registryId, `account-setting/${name}`, { value }, Date.now());
        return { name, value };
      },
      GetRegistryScanningConfiguration: async ({ registryId }) => {
        const stored = await store.getSetting(registryId, 'scanning');
        return { registryId, scanningConfiguration: stored?.document ?? DEFAULT_SCANNING };
      },
      PutRegistryScanningConfiguration: async ({ registryId, input }) => {
        const configuration: RegistryScanningConfiguration = {
          scanType: (input.scanType as RegistryScanningConfiguration['scanType'] | undefined) ?? 'BASIC',
          rules: (input.rules as RegistryScanningConfiguration['rules'] | undefined) ?? [],
        };
        validateScanning(configuration);
        await store.putSetting(registryId, 'scanning', configuration, Date.now());
        return { registryScanningConfiguration: configuration };
      },
      PutReplicationConfiguration: async ({ registryId, input }) => {
        const configuration = input.replicationConfiguration as ReplicationConfiguration;
        validateReplication(configuration, { region: account.region, registryId });
        await store.putSetting(registryId, 'replication', configuration, Date.now());
        return { replicationConfiguration: configuration };
      },
      GetSigningConfiguration: async ({ registryId }) => {
        const stored = await store.getSetting(registryId, 'signing');
        if (!stored) throw signingConfigurationNotFound(registryId);
        return { registryId, signingConfiguration: stored.document };
      },
      PutSigningConfiguration: async ({ registryId, input }) => {
        const configuration = input.signingConfiguration as SigningConfiguration;
        await store.putSetting(registryId, 'signing', configuration, Date.now());
        return { signingConfiguration: configuration };
      },
      DeleteSigningConfiguration: async ({ registryId }) => {
        const deleted = await store.deleteSetting(registryId, 'signing');
        if (!deleted) throw signingConfigurationNotFound(registryId);
        return { registryId, signingConfiguration: deleted.document };
      },
      RegisterPullTimeUpdateExclusion: async ({ registryId, input }) => {
        const principalArn = input.principalArn as string;
        const now = Date.now();
        const result = await store.createItem(registryId, 'pull-time-update-exclusion', principalArn, {}, now, MAX_PULL_TIME_UPDATE_EXCLUSIONS);
        if (result === 'exists') {
          throw new AwsError('ExclusionAlreadyExistsException', `The principal '${principalArn}' is already excluded from pull time updates in the registry with id '${registryId}'`, 400);
        }
        if (result === 'limit-exceeded') {
          throw new AwsError('LimitExceededException', `The registry with id '${registryId}' already has the maximum of ${MAX_PULL_TIME_UPDATE_EXCLUSIONS} pull time update exclusions`, 400);
        }
        return { principalArn, createdAt: new Date(now) };
      },
      DeregisterPullTimeUpdateExclusion: async ({ registryId, input }) => {
        const principalArn = input.principalArn as string;
        const deleted = await store.deleteItem(registryId, 'pull-time-update-exclusion', principalArn);
        if (!deleted) {
          throw new AwsError('ExclusionNotFoundException', `The principal '${principalArn}' is not excluded from pull time updates in the registry with id '${registryId}'`, 400);
        }
        return { principalArn };
      },
      ListPullTimeUpdateExclusions: async (call) => {
        const { items, nextToken } = await itemPage(store, call, serverKey.apiSigningKey, 'pull-time-update-exclusion');
        return { pullTimeUpdateExclusions: items.map((item) => item.key), ...(nextToken ? { nextToken } : {}) };
      },
    },
    'ecr-public': {
      GetRegistryCatalogData: async ({ registryId }) => {
        const stored = await store.getSetting(registryId, 'public-catalog');
        return { registryCatalogData: stored?.document ?? {} };
      },
      PutRegistryCatalogData: async ({ registryId, input }) => {
        const catalogData = typeof input.displayName === 'string' ? { displayName: input.displayName } : {};
        await store.putSetting(registryId, 'public-catalog', catalogData, Date.now());
        return { registryCatalogData: catalogData };
      },
    },
  };

  const merged: Record<AwsService, Record<string, EcrHandler>> = { ecr: {}, 'ecr-public': {} };
  for (const group of [ownHandlers, pullThroughCacheHandlers(deps), creationTemplateHandlers(deps)]) {
    for (const service of Object.keys(merged) as AwsService[]) Object.assign(merged[service], group[service]);
  }
  return merged;
}

function signingConfigurationNotFound(registryId: string): AwsError {
  return new AwsError('SigningConfigurationNotFoundException', `Signing configuration does not exist in the registry with id '${registryId}'`, 400);
}

/** Basic scanning supports scan-on-push rules only; continuous scanning is an enhanced-scanning (Inspector) frequency. */
function validateScanning(configuration: RegistryScanningConfiguration): void {
  configuration.rules.forEach((rule, index) => {
    if (configuration.scanType === 'BASIC' && rule.scanFrequency === 'CONTINUOUS_SCAN') {
      throw invalidParameter(`rules.${index + 1}.member.scanFrequency`, 'CONTINUOUS_SCAN is supported only with the ENHANCED scan type');
    }
  });
}

function validateReplication(configuration: ReplicationConfiguration, source: { region: string; registryId: string }): void {
  const unique = new Set<string>();
  configuration.rules.forEach((rule, ruleIndex) => {
    const rulePath = `replicationConfiguration.rules.${ruleIndex + 1}.member`;
    if (rule.destinations.length === 0) throw invalidParameter(`${rulePath}.destinations`, 'Member must have length greater than or equal to 1');
    const inRule = new Set<string>();
    rule.destinations.forEach((destination, index) => {
      const path = `${rulePath}.destinations.${index + 1}.member`;
      const key = `${destination.region}/${destination.registryId}`;
      if (destination.region === source.region && destination.registryId === source.registryId) {
        throw invalidParameter(path, 'Replication destination cannot be the source registry');
      }
      if (inRule.has(key)) throw invalidParameter(path, 'Replication destinations must be unique within a rule');
      inRule.add(key);
      unique.add(key);
    });
  });
  if (unique.size > MAX_REPLICATION_DESTINATIONS) {
    throw invalidParameter('replicationConfiguration.rules', `The replication configuration names ${unique.size} unique destinations; the limit is ${MAX_REPLICATION_DESTINATIONS}`);
  }
}
