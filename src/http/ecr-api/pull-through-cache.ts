import { normalizedPrefix, type PullThroughCacheRule, type UpstreamRegistry } from '../../storage/registry-settings-store.js';
import { AwsError } from '../aws-common.js';
import type { EcrApiDeps, EcrHandlers } from './call.js';
import { invalidParameter, itemPage, roleArnAccount } from './registry-common.js';

/** Service quota "pull through cache rules" per registry. */
const MAX_RULES = 50;

/** How ECR authenticates to an upstream: a Secrets Manager secret, nothing, or (ECR to ECR) an IAM role. */
type UpstreamAuthentication = 'secret' | 'none' | 'role';

/** The upstream registries ECR supports, the registry URL each is reached at, and how ECR authenticates to it. */
const UPSTREAMS: Readonly<Record<UpstreamRegistry, { url: RegExp; authentication: UpstreamAuthentication }>> = {
  ecr: { url: /^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com$/, authentication: 'role' },
  'ecr-public': { url: /^public\.ecr\.aws$/, authentication: 'none' },
  quay: { url: /^quay\.io$/, authentication: 'none' },
  k8s: { url: /^registry\.k8s\.io$/, authentication: 'none' },
  'docker-hub': { url: /^registry-1\.docker\.io$/, authentication: 'secret' },
  'github-container-registry': { url: /^ghcr\.io$/, authentication: 'secret' },
  'azure-container-registry': { url: /^[a-z0-9]{5,50}\.azurecr\.io$/, authentication: 'secret' },
  'gitlab-container-registry': { url: /^registry\.gitlab\.com$/, authentication: 'secret' },
  chainguard: { url: /^cgr\.dev$/, authentication: 'secret' },
};

const DEFAULT_UPSTREAM_REPOSITORY_PREFIX = 'ROOT';

/**
 * Pull-through cache rules: stored and validated (upstream URL against the
 * upstream registry, the credentials each upstream needs); Berth does not
 * contact upstream registries, so no image is ever pulled through them and
 * ValidatePullThroughCacheRule says so.
 */
export function pullThroughCacheHandlers({ registrySettings: store, account, serverKey }: EcrApiDeps): EcrHandlers {
  const notFound = (prefix: string, registryId: string): AwsError =>
    new AwsError('PullThroughCacheRuleNotFoundException', `The pull through cache rule with prefix '${prefix}' does not exist in the registry with id '${registryId}'`, 400);
  const credentialMembers = (rule: PullThroughCacheRule) => ({
    ...(rule.credentialArn !== undefined ? { credentialArn: rule.credentialArn } : {}),
    ...(rule.customRoleArn !== undefined ? { customRoleArn: rule.customRoleArn } : {}),
  });
  /** The members every rule operation answers with. */
  const ruleMembers = (registryId: string, rule: PullThroughCacheRule) => ({
    ecrRepositoryPrefix: rule.ecrRepositoryPrefix,
    registryId,
    upstreamRegistryUrl: rule.upstreamRegistryUrl,
    upstreamRepositoryPrefix: rule.upstreamRepositoryPrefix,
    ...credentialMembers(rule),
  });
  const owner = (registryId: string) => ({ registryId, region: account.region });

  return {
    ecr: {
      CreatePullThroughCacheRule: async ({ registryId, input }) => {
        const upstreamRegistryUrl = input.upstreamRegistryUrl as string;
        const rule: PullThroughCacheRule = {
          ecrRepositoryPrefix: input.ecrRepositoryPrefix as string,
          upstreamRegistryUrl,
          upstreamRegistry: upstreamRegistryOf(upstreamRegistryUrl, input.upstreamRegistry as UpstreamRegistry | undefined),
          upstreamRepositoryPrefix: (input.upstreamRepositoryPrefix as string | undefined) ?? DEFAULT_UPSTREAM_REPOSITORY_PREFIX,
          ...givenCredentials(input),
        };
        validateAuthentication(rule, owner(registryId));
        const now = Date.now();
        const result = await store.createItem(registryId, 'pull-through-cache-rule', normalizedPrefix(rule.ecrRepositoryPrefix), rule, now, MAX_RULES);
        if (result === 'exists') {
          throw new AwsError('PullThroughCacheRuleAlreadyExistsException', `A pull through cache rule with prefix '${rule.ecrRepositoryPrefix}' already exists in the registry with id '${registryId}'`, 400);
        }
        if (result === 'limit-exceeded') {
          throw new AwsError('LimitExceededException', `The registry with id '${registryId}' already has the maximum of ${MAX_RULES} pull through cache rules`, 400);
        }
        return { ...ruleMembers(registryId, rule), upstreamRegistry: rule.upstreamRegistry, createdAt: new Date(now) };
      },
      DescribePullThroughCacheRules: async (call) => {
        const prefixes = call.input.ecrRepositoryPrefixes as string[] | undefined;
        const keys = prefixes && [...new Set(prefixes.map(normalizedPrefix))];
        const { items, nextToken } = await itemPage(store, call, serverKey.apiSigningKey, 'pull-through-cache-rule', keys);
        // Only on a first page can every named prefix be checked: later pages start after some of them.
        if (prefixes && call.input.nextToken === undefined && nextToken === undefined) {
          const found = new Set(items.map((item) => item.key));
          const missing = prefixes.find((prefix) => !found.has(normalizedPrefix(prefix)));
          if (missing !== undefined) throw notFound(missing, call.registryId);
        }
        return { pullThroughCacheRules: items.map(({ document: rule, createdAt, updatedAt }) => ({
            ...ruleMembers(call.registryId, rule),
            upstreamRegistry: rule.upstreamRegistry,
            createdAt: new Date(createdAt),
            updatedAt: new Date(updatedAt),
          })),
           ...(nextToken ? { nextToken } : {}) };
      },
      UpdatePullThroughCacheRule: async ({ registryId, input }) => {
        const prefix = input.ecrRepositoryPrefix as string;
        const updated = await store.updateItem(
          registryId,
          'pull-through-cache-rule',
          normalizedPrefix(prefix),
          (current) => {
            const rule: PullThroughCacheRule = { ...current, ...givenCredentials(input) };
            validateAuthentication(rule, owner(registryId));
            return rule;
          },
          Date.now(),
        );
        if (!updated) throw notFound(prefix, registryId);
        // UpdatePullThroughCacheRuleResponse has no upstreamRegistryUrl: the serializer leaves it out.
        return { ...ruleMembers(registryId, updated.document), updatedAt: new Date(updated.updatedAt) };
      },
      DeletePullThroughCacheRule: async ({ registryId, input }) => {
        const prefix = input.ecrRepositoryPrefix as string;
        const deleted = await store.deleteItem(registryId, 'pull-through-cache-rule', normalizedPrefix(prefix));
        if (!deleted) throw notFound(prefix, registryId);
        return { ...ruleMembers(registryId, deleted.document), createdAt: new Date(deleted.createdAt) };
      },
      ValidatePullThroughCacheRule: async ({ registryId, input }) => {
        const prefix = input.ecrRepositoryPrefix as string;
        const stored = await store.getItem(registryId, 'pull-through-cache-rule', normalizedPrefix(prefix));
        if (!stored) throw notFound(prefix, registryId);
        const rule = stored.document;
        return {
          ...ruleMembers(registryId, rule),
          isValid: false,
          failure: `Berth does not connect to upstream registries: ${rule.upstreamRegistryUrl} was not contacted and the rule's credentials were not checked`,
        };
      },
    },
  };
}

/** The `credentialArn` and `customRoleArn` a request gives. */
function givenCredentials(input: Readonly<Record<string, unknown>>): Pick<PullThroughCacheRule, 'credentialArn' | 'customRoleArn'> {
  return {
    ...(typeof input.credentialArn === 'string' ? { credentialArn: input.credentialArn } : {}),
    ...(typeof input.customRoleArn === 'string' ? { customRoleArn: input.customRoleArn } : {}),
  };
}

/** The upstream registry a rule names, checked against its URL; without `upstreamRegistry`, the one the URL belongs to. */
function upstreamRegistryOf(url: string, named: UpstreamRegistry | undefined): UpstreamRegistry {
  if (named !== undefined) {
    if (!UPSTREAMS[named].url.test(url)) throw invalidParameter('upstreamRegistryUrl', `The upstream registry URL '${url}' is not a URL of the upstream registry '${named}'`);
    return named;
  }
  const upstream = (Object.keys(UPSTREAMS) as UpstreamRegistry[]).find((candidate) => UPSTREAMS[candidate].url.test(url));
  if (!upstream) throw new AwsError('UnsupportedUpstreamRegistryException', `The upstream registry URL '${url}' is not a supported upstream registry`, 400);
  return upstream;
}

/**
 * Docker Hub, GitHub, Azure, GitLab and Chainguard need a Secrets Manager
 * secret (named `ecr-pullthroughcache/…`, in the registry's account and
 * Region); ECR Public, Kubernetes and Quay take no credentials; an ECR
 * upstream in another account needs an IAM role of the registry's account.
 */
function validateAuthentication(rule: PullThroughCacheRule, registry: { registryId: string; region: string }): void {
  const { authentication } = UPSTREAMS[rule.upstreamRegistry];
  if (authentication === 'secret') {
    if (rule.credentialArn === undefined) throw invalidParameter('credentialArn', `A credentialArn is required for the upstream registry '${rule.upstreamRegistry}'`);
    const [, , , region, accountId] = rule.credentialArn.split(':');
    if (region !== registry.region || accountId !== registry.registryId) {
      throw invalidParameter('credentialArn', `The secret must be in the registry's account '${registry.registryId}' and Region '${registry.region}'`);
    }
  } else if (rule.credentialArn !== undefined) {
    throw invalidParameter('credentialArn', `The upstream registry '${rule.upstreamRegistry}' does not take a credentialArn`);
  }
  if (authentication === 'role') {
    if (rule.customRoleArn !== undefined && roleArnAccount(rule.customRoleArn) !== registry.registryId) {
      throw invalidParameter('customRoleArn', `The role must be an IAM role in the registry's account '${registry.registryId}'`);
    }
    const upstreamAccount = rule.upstreamRegistryUrl.slice(0, 12);
    if (rule.customRoleArn === undefined && upstreamAccount !== registry.registryId) {
      throw invalidParameter('customRoleArn', `A customRoleArn is required for an upstream registry in another account ('${upstreamAccount}')`);
    }
  } else if (rule.customRoleArn !== undefined) {
    throw invalidParameter('customRoleArn', `The upstream registry '${rule.upstreamRegistry}' does not take a customRoleArn`);
  }
}
