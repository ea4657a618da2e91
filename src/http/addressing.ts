import type { FastifyRequest } from 'fastify';
import { RegistryError } from '../errors.js';
import { isAccountId, qualifiedName, requireRepositoryName, type RegistryRef } from '../names.js';
import type { Account, MetadataStore } from '../storage/metadata-store.js';

/** What never changes about an account: its id and its public registry's alias. */
export type AccountName = Pick<Account, 'accountId' | 'publicAlias'>;

/** A repository as a `/v2/` request names it. */
export interface RepositoryAddress {
  registry: RegistryRef;
  /** The repository name inside its registry. */
  name: string;
  /** `<registry key>/<name>`, how the core knows it (src/names.ts). */
  qualified: string;
}

/**
 * The `host[:port]` of the registry listener as a request to the AWS APIs
 * sees it: what the URLs the APIs return (proxyEndpoint, repository and
 * registry URIs, logo and layer download URLs) are built on. On a single
 * listener, the request's own Host. With a separate API listener
 * (`registryPort` given), the request's hostname with the registry
 * listener's port; the scheme stays the request's, since both listeners
 * share the TLS settings. A registry domain then replaces the hostname in
 * repository URIs (Addressing.repositoryUri) and keeps this port.
 */
export function registryHost(request: FastifyRequest, registryPort: number | undefined): string {
  if (registryPort === undefined) return request.headers.host ?? request.hostname;
  return `${request.hostname}:${registryPort}`;
}

/** The path component that starts a public registry's repositories on a shared host. */
const PUBLIC_PATH = 'public';
/** Unknown ids and aliases are remembered this long, so junk paths cannot cost a query each. */
const NEGATIVE_TTL_MS = 1000;

/**
 * How repository paths on `/v2/` map to accounts' registries (docs/accounts.md):
 *
 * - `<host>/<account id>/<repository>`: that account's private registry;
 * - `<host>/public/<alias>/<repository>`: the public registry with that alias;
 * - `<host>/<repository>`: the default account's private registry;
 * - `<account id>.<registry domain>/<repository>`, when a wildcard domain is
 *   configured: that account's private registry, as ECR's
 *   `<account>.dkr.ecr.<region>.amazonaws.com/<repository>`.
 *
 * Accounts are never deleted and aliases never change, so what is found is
 * cached for the life of the process.
 */
export class Addressing {
  private readonly byId = new Map<string, AccountName>();
  private readonly byAlias = new Map<string, AccountName>();
  private readonly unknown = new Map<string, number>();

  constructor(
    private readonly metadata: MetadataStore,
    readonly defaultAccountId: string,
    private readonly registryDomain: string | undefined,
  ) {}

  /**
   * The repository a request addresses, given its Host header and the name
   * part of its path. Throws NAME_INVALID for a bad name, NAME_UNKNOWN for
   * an account or alias that does not exist.
   */
  async resolve(host: string | undefined, path: string): Promise<RepositoryAddress> {
    const hostAccount = this.accountOfHost(host);
    if (hostAccount !== undefined) {
      await this.requireAccount(hostAccount);
      return this.address({ accountId: hostAccount, kind: 'private' }, path);
    }
    const slash = path.indexOf('/');
    const first = slash < 0 ? path : path.slice(0, slash);
    if (slash > 0 && isAccountId(first)) {
      await this.requireAccount(first);
      return this.address({ accountId: first, kind: 'private' }, path.slice(slash + 1));
    }
    if (first === PUBLIC_PATH) {
      const rest = path.slice(slash + 1);
      const aliasEnd = rest.indexOf('/');
      if (slash > 0 && aliasEnd > 0) {
        const account = await this.accountByAlias(rest.slice(0, aliasEnd));
        if (!account) throw new RegistryError('NAME_UNKNOWN', `no public registry has the alias ${rest.slice(0, aliasEnd).slice(0, 60)}`);
        return this.address({ accountId: account.accountId, kind: 'public' }, rest.slice(aliasEnd + 1));
      }
    }
    return this.address({ accountId: this.defaultAccountId, kind: 'private' }, path);
  }

  /** The name a repository goes by on `/v2/` of `host` (catalog entries, Location headers). */
  pathOf(host: string | undefined, registry: RegistryRef, name: string, publicAlias?: string): string {
    if (registry.kind === 'public') return `${PUBLIC_PATH}/${publicAlias ?? registry.accountId}/${name}`;
    if (this.accountOfHost(host) === registry.accountId) return name;
    if (registry.accountId === this.defaultAccountId && !this.shadowed(name)) return name;
    return `${registry.accountId}/${name}`;
  }

  /**
   * The repository URI the APIs return, usable as-is in `docker pull`:
   * `<account>.<domain>/<name>` with a registry domain, else
   * `<host>/<account>/<name>` (or `<host>/public/<alias>/<name>`).
   */
  repositoryUri(host: string, registry: RegistryRef, name: string, publicAlias?: string): string {
    if (registry.kind === 'private' && this.registryDomain !== undefined) {
      const port = /:\d+$/.exec(host)?.[0] ?? '';
      return `${registry.accountId}.${this.registryDomain}${port}/${name}`;
    }
    if (registry.kind === 'public') return `${host}/${PUBLIC_PATH}/${publicAlias ?? registry.accountId}/${name}`;
    return `${host}/${registry.accountId}/${name}`;
  }

  /** The account of a registry by its public alias (cached). */
  async accountByAlias(alias: string): Promise<AccountName | undefined> {
    const known = this.byAlias.get(alias);
    if (known) return known;
    if (this.recentlyUnknown(`alias:${alias}`)) return undefined;
    const account = await this.metadata.getAccountByAlias(alias);
    this.remember(`alias:${alias}`, account);
    return account;
  }

  /** An account by id (cached). */
  async account(accountId: string): Promise<AccountName | undefined> {
    const known = this.byId.get(accountId);
    if (known) return known;
    if (this.recentlyUnknown(`id:${accountId}`)) return undefined;
    const account = await this.metadata.getAccount(accountId);
    this.remember(`id:${accountId}`, account);
    return account;
  }

  private async requireAccount(accountId: string): Promise<void> {
    if (!(await this.account(accountId))) throw new RegistryError('NAME_UNKNOWN', `no registry for account ${accountId}`);
  }

  /** A default-account name that the short form would send elsewhere (`public/…`, `<12 digits>/…`). */
  private shadowed(name: string): boolean {
    const slash = name.indexOf('/');
    if (slash < 0) return false;
    const first = name.slice(0, slash);
    return first === PUBLIC_PATH || isAccountId(first);
  }

  private accountOfHost(host: string | undefined): string | undefined {
    if (this.registryDomain === undefined || host === undefined) return undefined;
    const hostname = host.replace(/:\d+$/, '').toLowerCase();
    const suffix = `.${this.registryDomain}`;
    if (!hostname.endsWith(suffix)) return undefined;
    const label = hostname.slice(0, -suffix.length);
    return isAccountId(label) ? label : undefined;
  }

  private address(registry: RegistryRef, name: string): RepositoryAddress {
    requireRepositoryName(name);
    return { registry, name, qualified: qualifiedName(registry, name) };
  }

  private recentlyUnknown(key: string): boolean {
    const at = this.unknown.get(key);
    return at !== undefined && Date.now() - at < NEGATIVE_TTL_MS;
  }

  private remember(key: string, account: Account | undefined): void {
    if (!account) {
      if (this.unknown.size >= 10_000) this.unknown.clear();
      this.unknown.set(key, Date.now());
      return;
    }
    const name = { accountId: account.accountId, publicAlias: account.publicAlias };
    this.byId.set(name.accountId, name);
    this.byAlias.set(name.publicAlias, name);
  }
}
