import { tryParsePolicy, type Policy } from '../iam/policy/index.js';
import { splitQualifiedName } from '../names.js';
import type { MetadataStore } from '../storage/metadata-store.js';

/** How long a process trusts its cache before asking whether any policy changed. */
const GENERATION_CHECK_MS = 1000;
const MAX_CACHED_REPOSITORIES = 50_000;

/**
 * The resource policies that apply to a repository, for the policy
 * evaluator: its repository policy and, in a private registry, the account's
 * registry policy. Cached per process, so the hot paths (manifest and blob
 * GET) do not read them per request; the cache is dropped when the
 * authorization generation moves (checked at most once a second) and at once
 * after this process changes a policy.
 */
export class RepositoryPolicies {
  private repositories = new Map<string, Promise<Policy[]>>();
  private registries = new Map<string, Promise<Policy | undefined>>();
  private generation = -1;
  private checkedAt = 0;

  constructor(private readonly metadata: MetadataStore) {}

  invalidate(): void {
    this.repositories = new Map();
    this.registries = new Map();
    this.checkedAt = 0;
  }

  /** The policies of a repository by its qualified name (it need not exist yet: then only the registry's). */
  async forRepository(qualified: string): Promise<Policy[]> {
    await this.fresh();
    const cache = this.repositories;
    let policies = cache.get(qualified);
    if (!policies) {
      policies = this.load(qualified);
      if (cache.size >= MAX_CACHED_REPOSITORIES) cache.clear();
      cache.set(qualified, policies);
      policies.catch(() => cache.delete(qualified));
    }
    return policies;
  }

  private async fresh(): Promise<void> {
    const now = Date.now();
    if (now - this.checkedAt < GENERATION_CHECK_MS) return;
    this.checkedAt = now;
    const generation = await this.metadata.authorizationGeneration();
    if (generation !== this.generation) {
      this.generation = generation;
      this.repositories = new Map();
      this.registries = new Map();
    }
  }

  private async load(qualified: string): Promise<Policy[]> {
    const parts = splitQualifiedName(qualified);
    const [repository, registryPolicy] = await Promise.all([
      this.metadata.getRepository(qualified),
      parts?.registry.kind === 'private' ? this.registryPolicy(parts.registry.accountId) : undefined,
    ]);
    const policies: Policy[] = [];
    const repositoryPolicy = repository?.policy ? parseStored(repository.policy, `repository ${parts?.name ?? qualified}`) : undefined;
    if (repositoryPolicy) policies.push(repositoryPolicy);
    if (registryPolicy) policies.push(registryPolicy);
    return policies;
  }

  private registryPolicy(accountId: string): Promise<Policy | undefined> {
    const cache = this.registries;
    let policy = cache.get(accountId);
    if (!policy) {
      policy = this.metadata.getAccount(accountId).then((account) => (account?.registryPolicy ? parseStored(account.registryPolicy, `registry ${accountId}`) : undefined));
      cache.set(accountId, policy);
      policy.catch(() => cache.delete(accountId));
    }
    return policy;
  }
}

/**
 * Stored documents were validated when set. One that no longer parses must
 * not silently grant or lift anything: it becomes a policy that denies
 * everything (fails closed).
 */
function parseStored(document: string, name: string): Policy {
  const parsed = tryParsePolicy(document, { kind: 'resource', name, validateActions: false });
  return parsed.ok ? parsed.policy : DENY_ALL;
}

const DENY_ALL = (() => {
  const parsed = tryParsePolicy('{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"*"}]}', { kind: 'resource', name: 'unreadable-policy' });
  if (!parsed.ok) throw new Error('the deny-all policy does not parse');
  return parsed.policy;
})();
