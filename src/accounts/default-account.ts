import { ConfigError, type BerthConfig } from '../config.js';
import { registryPrefix } from '../names.js';
import type { MetadataStore } from '../storage/metadata-store.js';

/**
 * The default account exists from the first start; repositories from before
 * accounts existed join its private registry. A public alias that another
 * account holds is a setting to change, reported as one (ConfigError).
 */
export async function ensureDefaultAccount(metadata: MetadataStore, config: BerthConfig): Promise<void> {
  const refuseAliasOfAnotherAccount = async (): Promise<void> => {
    const holder = await metadata.getAccountByAlias(config.publicAlias);
    if (holder && holder.accountId !== config.accountId) {
      throw new ConfigError(
        `public-alias '${config.publicAlias}' (BERTH_PUBLIC_ALIAS) of the default account ${config.accountId} is taken by account ${holder.accountId}; choose another`,
      );
    }
  };
  await refuseAliasOfAnotherAccount();
  try {
    await metadata.ensureAccount({ accountId: config.accountId, publicAlias: config.publicAlias, registryPolicy: null, createdAt: Date.now() });
  } catch (err) {
    // Another account took the alias since the check above.
    await refuseAliasOfAnotherAccount();
    throw err;
  }
  await metadata.adoptLegacyRepositories(registryPrefix({ accountId: config.accountId, kind: 'private' }));
}
