import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import {
  templatePrefixesFor,
  type CreateItemResult,
  type CreationTemplateScenario,
  type ItemPage,
  type RegistryItemDocuments,
  type RegistryItemKind,
  type RegistrySettingDocuments,
  type RegistrySettingName,
  type RegistrySettingsStore,
  type RepositoryCreationTemplate,
  type StoredItem,
  type StoredSetting,
} from '../registry-settings-store.js';
import type { Database, RegistryItemsTable, SqlDialectName } from './database.js';

const PULL_TIME_UPDATE_EXCLUSION = 'pull-time-update-exclusion' satisfies RegistryItemKind;
/** How long a process trusts its cached exclusions before asking whether another process changed them. */
const GENERATION_CHECK_MS = 1000;

/** int8 arrives as a string from `pg`, as a number from SQLite. */
function num(value: number | string): number {
  return typeof value === 'number' ? value : Number(value);
}

function toItem<Document>(row: Selectable<RegistryItemsTable>): StoredItem<Document> {
  // The documents were validated by the API before they were written; the store reads back what it wrote.
  return { key: row.item_key, document: JSON.parse(row.document) as Document, createdAt: num(row.created_at), updatedAt: num(row.updated_at) };
}

/**
 * RegistrySettingsStore over Kysely, on the metadata database (migration
 * 0006). Like the identity store it does not own its Kysely instance: whoever
 * opened the database closes it (`openStores`).
 *
 * Writes that check before they write (item limits, read-modify-write
 * updates) run in one transaction: SQLite transactions hold the write lock
 * from `BEGIN IMMEDIATE`; in PostgreSQL a transaction-scoped advisory lock
 * per account and kind serializes creates, and `FOR UPDATE` the updated row.
 *
 * Pull-time update exclusions are read on the pull path, so they are cached
 * per account. Registering or deregistering one drops this process's cache
 * at once and, in the same transaction, moves the authorization generation
 * (`iam_generation`, which the IAM and policy caches watch too); other
 * processes compare that generation at most once a second and reload.
 */
export class SqlRegistrySettingsStore implements RegistrySettingsStore {
  readonly #db: Kysely<Database>;
  readonly #dialect: SqlDialectName;
  #exclusions = new Map<string, Promise<ReadonlySet<string>>>();
  #exclusionsGeneration = -1;
  #exclusionsCheckedAt = 0;

  constructor(db: Kysely<Database>, options: { dialect: SqlDialectName }) {
    this.#db = db;
    this.#dialect = options.dialect;
  }

  async getSetting<Name extends RegistrySettingName>(accountId: string, name: Name): Promise<StoredSetting<RegistrySettingDocuments[Name]> | undefined> {
    const row = await this.#db.selectFrom('registry_settings').select(['document', 'updated_at']).where('account_id', '=', accountId).where('name', '=', name).executeTakeFirst();
    return row && { document: JSON.parse(row.document) as RegistrySettingDocuments[Name], updatedAt: num(row.updated_at) };
  }

  async putSetting<Name extends RegistrySettingName>(accountId: string, name: Name, document: RegistrySettingDocuments[Name], now: number): Promise<void> {
    const text = JSON.stringify(document);
    await this.#db
      .insertInto('registry_settings')
      .values({ account_id: accountId, name, document: text, updated_at: now })
      .onConflict((oc) => oc.columns(['account_id', 'name']).doUpdateSet({ document: text, updated_at: now }))
      .execute();
  }

  async deleteSetting<Name extends RegistrySettingName>(accountId: string, name: Name): Promise<StoredSetting<RegistrySettingDocuments[Name]> | undefined> {
    const row = await this.#db
      .deleteFrom('registry_settings')
      .where('account_id', '=', accountId)
      .where('name', '=', name)
      .returning(['document', 'updated_at'])
      .executeTakeFirst();
    return row && { document: JSON.parse(row.document) as RegistrySettingDocuments[Name], updatedAt: num(row.updated_at) };
  }

  async getItem<Kind extends RegistryItemKind>(accountId: string, kind: Kind, key: string): Promise<StoredItem<RegistryItemDocuments[Kind]> | undefined> {
    const row = await this.#db.selectFrom('registry_items').selectAll().where('account_id', '=', accountId).where('kind', '=', kind).where('item_key', '=', key).executeTakeFirst();
    return row && toItem<RegistryItemDocuments[Kind]>(row);
  }

  async listItems<Kind extends RegistryItemKind>(accountId: string, kind: Kind, page: ItemPage): Promise<StoredItem<RegistryItemDocuments[Kind]>[]> {
    if (page.keys?.length === 0) return [];
    let query = this.#db.selectFrom('registry_items').selectAll().where('account_id', '=', accountId).where('kind', '=', kind);
    if (page.after !== undefined) query = query.where('item_key', '>', page.after);
    if (page.keys !== undefined) query = query.where('item_key', 'in', [...page.keys]);
    const rows = await query.orderBy('item_key').limit(page.limit).execute();
    return rows.map((row) => toItem<RegistryItemDocuments[Kind]>(row));
  }

  async createItem<Kind extends RegistryItemKind>(
    accountId: string,
    kind: Kind,
    key: string,
    document: RegistryItemDocuments[Kind],
    now: number,
    maxItems?: number,
  ): Promise<CreateItemResult> {
    const result = await this.#db.transaction().execute(async (trx): Promise<CreateItemResult> => {
      if (this.#dialect === 'postgres') await sql`select pg_advisory_xact_lock(hashtext(${`registry_items/${accountId}/${kind}`}))`.execute(trx);
      const existing = await trx.selectFrom('registry_items').select('item_key').where('account_id', '=', accountId).where('kind', '=', kind).where('item_key', '=', key).executeTakeFirst();
      if (existing) return 'exists';
      if (maxItems !== undefined) {
        const { count } = await trx
          .selectFrom('registry_items')
          .select((eb) => eb.fn.countAll<number | string>().as('count'))
          .where('account_id', '=', accountId)
          .where('kind', '=', kind)
          .executeTakeFirstOrThrow();
        if (num(count) >= maxItems) return 'limit-exceeded';
      }
      await trx
        .insertInto('registry_items')
        .values({ account_id: accountId, kind, item_key: key, document: JSON.stringify(document), created_at: now, updated_at: now })
        .execute();
      if (kind === PULL_TIME_UPDATE_EXCLUSION) await bumpAuthorizationGeneration(trx);
      return 'created';
    });
    if (result === 'created' && kind === PULL_TIME_UPDATE_EXCLUSION) this.#dropCachedExclusions();
    return result;
  }

  async updateItem<Kind extends RegistryItemKind>(
    accountId: string,
    kind: Kind,
    key: string,
    update: (current: RegistryItemDocuments[Kind]) => RegistryItemDocuments[Kind],
    now: number,
  ): Promise<StoredItem<RegistryItemDocuments[Kind]> | undefined> {
    return this.#db.transaction().execute(async (trx) => {
      let query = trx.selectFrom('registry_items').selectAll().where('account_id', '=', accountId).where('kind', '=', kind).where('item_key', '=', key);
      if (this.#dialect === 'postgres') query = query.forUpdate();
      const row = await query.executeTakeFirst();
      if (!row) return undefined;
      const current = toItem<RegistryItemDocuments[Kind]>(row);
      const document = update(current.document);
      await trx
        .updateTable('registry_items')
        .set({ document: JSON.stringify(document), updated_at: now })
        .where('account_id', '=', accountId)
        .where('kind', '=', kind)
        .where('item_key', '=', key)
        .execute();
      return { ...current, document, updatedAt: now };
    });
  }

  async deleteItem<Kind extends RegistryItemKind>(accountId: string, kind: Kind, key: string): Promise<StoredItem<RegistryItemDocuments[Kind]> | undefined> {
    const row = await this.#db.transaction().execute(async (trx) => {
      const deleted = await trx
        .deleteFrom('registry_items')
        .where('account_id', '=', accountId)
        .where('kind', '=', kind)
        .where('item_key', '=', key)
        .returningAll()
        .executeTakeFirst();
      if (deleted && kind === PULL_TIME_UPDATE_EXCLUSION) await bumpAuthorizationGeneration(trx);
      return deleted;
    });
    if (row && kind === PULL_TIME_UPDATE_EXCLUSION) this.#dropCachedExclusions();
    return row && toItem<RegistryItemDocuments[Kind]>(row);
  }

  async pullTimeUpdateExclusions(accountId: string): Promise<ReadonlySet<string>> {
    await this.#checkExclusionsGeneration();
    const cache = this.#exclusions;
    let exclusions = cache.get(accountId);
    if (!exclusions) {
      exclusions = this.#loadExclusions(accountId);
      cache.set(accountId, exclusions);
      exclusions.catch(() => cache.delete(accountId));
    }
    return exclusions;
  }

  async #loadExclusions(accountId: string): Promise<ReadonlySet<string>> {
    const rows = await this.#db.selectFrom('registry_items').select('item_key').where('account_id', '=', accountId).where('kind', '=', PULL_TIME_UPDATE_EXCLUSION).execute();
    return new Set(rows.map((row) => row.item_key));
  }

  /** Drops the cache when another process has moved the generation since the last look (at most one look a second). */
  async #checkExclusionsGeneration(): Promise<void> {
    const now = Date.now();
    if (now - this.#exclusionsCheckedAt < GENERATION_CHECK_MS) return;
    this.#exclusionsCheckedAt = now;
    const row = await this.#db.selectFrom('iam_generation').select('value').where('id', '=', 1).executeTakeFirst();
    if (row === undefined) throw new Error('iam_generation has no row: run the metadata store migrations');
    const generation = num(row.value);
    if (generation !== this.#exclusionsGeneration) {
      this.#exclusionsGeneration = generation;
      this.#exclusions = new Map();
    }
  }

  /** A new map rather than clear(): a load still under way lands in the old one and is forgotten with it. */
  #dropCachedExclusions(): void {
    this.#exclusions = new Map();
  }

  async matchingCreationTemplate(accountId: string, repositoryName: string, scenario: CreationTemplateScenario): Promise<StoredItem<RepositoryCreationTemplate> | undefined> {
    const candidates = templatePrefixesFor(repositoryName);
    const templates = await this.listItems(accountId, 'repository-creation-template', { keys: candidates, limit: candidates.length });
    const byPrefix = new Map(templates.map((template) => [template.key, template]));
    for (const prefix of candidates) {
      const template = byPrefix.get(prefix);
      if (template?.document.appliedFor.includes(scenario)) return template;
    }
    return undefined;
  }
}

async function bumpAuthorizationGeneration(trx: Transaction<Database>): Promise<void> {
  await trx
    .updateTable('iam_generation')
    .set({ value: sql<number>`value + 1` })
    .where('id', '=', 1)
    .execute();
}
