import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AccountAdmin, AdminError } from '../src/accounts/admin.js';
import { ServerKey } from '../src/accounts/server-key.js';
import { SETTINGS } from '../src/config.js';
import { AccountConflictError, type MetadataStore } from '../src/storage/metadata-store.js';
import { openStores } from '../src/storage/sql/open.js';
import { isolatedAwsEnv } from './lib/aws-cli.js';
import { ADMIN_PASSWORD } from './lib/berth.js';
import { dropSchema, freshSchemaUrl, pgUnreachable, reportPostgresUnavailable } from './lib/postgres.js';
import { REPO_ROOT, spawnBerth, type BerthProcess } from './lib/process.js';
import { requireClient } from './support/env.js';
import { run, type RunResult } from './support/process.js';

interface RootKey {
  AWS_ACCESS_KEY_ID: string;
  AWS_SECRET_ACCESS_KEY: string;
}

interface ListedAccount {
  accountId: string;
  publicAlias: string;
  createdAt: string;
  isDefault: boolean;
  rootKeys: { accessKeyId: string; status: string; createdAt: string | null; source: string }[];
}

const DEFAULT_ACCOUNT = '000000000000';
/** The server picks up key changes within a second (its generation check); this leaves room for the AWS CLI's own start. */
const KEY_CHANGE_MS = 2000;

/** This machine's BERTH_* settings would leak into the children: each test says what it sets. */
const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !SETTINGS.some((setting) => setting.env === name)));

/** `berth admin account …` from the sources, as an operator runs it. */
function admin(args: string[], env: Record<string, string>): Promise<RunResult> {
  return run(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'admin', 'account', ...args], {
    cwd: REPO_ROOT,
    env: { ...cleanEnv, ...env },
    allowFailure: true,
    timeoutMs: 60_000,
  });
}

/** The key a command printed once. */
function printedKey(output: string): RootKey {
  const id = /AWS_ACCESS_KEY_ID=(\S+)/.exec(output)?.[1];
  const secret = /AWS_SECRET_ACCESS_KEY=(\S+)/.exec(output)?.[1];
  assert.ok(id && secret, `no key printed in:\n${output}`);
  assert.match(id, /^AKIA[A-Z2-7]{16}$/);
  assert.equal(secret.length, 40);
  return { AWS_ACCESS_KEY_ID: id, AWS_SECRET_ACCESS_KEY: secret };
}

async function listAccounts(env: Record<string, string>): Promise<ListedAccount[]> {
  const result = await admin(['list', '--json'], env);
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout) as ListedAccount[];
}

function listed(accounts: ListedAccount[], accountId: string): ListedAccount {
  const account = accounts.find((a) => a.accountId === accountId);
  assert.ok(account, `account ${accountId} not listed`);
  return account;
}

/** Checks the AWS CLI's caller with `key` against a running server. */
class CallerCheck {
  constructor(
    private readonly awsEnv: NodeJS.ProcessEnv,
    private readonly server: () => BerthProcess,
  ) {}

  /** `aws <args>` signed with `key`. */
  aws(key: RootKey, args: string[]): Promise<RunResult> {
    return run('aws', [...args, '--output', 'json', '--endpoint-url', this.server().url], { env: { ...this.awsEnv, ...key }, allowFailure: true, timeoutMs: 60_000 });
  }

  /** The ARN `sts get-caller-identity` names, or the error it printed. */
  async callerOf(key: RootKey): Promise<{ arn: string | undefined; stderr: string }> {
    const result = await this.aws(key, ['sts', 'get-caller-identity']);
    return { arn: result.code === 0 ? (JSON.parse(result.stdout) as { Arn: string }).Arn : undefined, stderr: result.stderr };
  }

  async assertRoot(key: RootKey, accountId: string): Promise<void> {
    const { arn, stderr } = await this.callerOf(key);
    assert.equal(arn, `arn:aws:iam::${accountId}:root`, stderr);
  }

  async assertRefused(key: RootKey): Promise<void> {
    const { arn, stderr } = await this.callerOf(key);
    assert.equal(arn, undefined, `${key.AWS_ACCESS_KEY_ID} still authenticates`);
    assert.match(stderr, /InvalidClientTokenId/);
  }

  /** Asks until the key is refused; the asking that saw it refused must have started within KEY_CHANGE_MS of `since`. */
  async assertRefusedSoon(key: RootKey, since: number): Promise<void> {
    for (;;) {
      const askedAt = Date.now();
      const { arn, stderr } = await this.callerOf(key);
      if (arn === undefined) {
        assert.match(stderr, /InvalidClientTokenId/);
        return;
      }
      assert.ok(askedAt - since <= KEY_CHANGE_MS, `${key.AWS_ACCESS_KEY_ID} still authenticated ${askedAt - since} ms after the change`);
    }
  }

  /** Asks until the key authenticates as the account's root, within KEY_CHANGE_MS of `since`. */
  async assertRootSoon(key: RootKey, accountId: string, since: number): Promise<void> {
    for (;;) {
      const askedAt = Date.now();
      const { arn, stderr } = await this.callerOf(key);
      if (arn !== undefined) {
        assert.equal(arn, `arn:aws:iam::${accountId}:root`);
        return;
      }
      assert.ok(askedAt - since <= KEY_CHANGE_MS, `${key.AWS_ACCESS_KEY_ID} still refused ${askedAt - since} ms after the change: ${stderr}`);
    }
  }
}

describe('berth admin account: create, list and rotate-keys on a data directory a server uses', () => {
  let scratch: string;
  let env: Record<string, string>;
  let server: BerthProcess | undefined;
  let callers: CallerCheck;
  let teamKey: RootKey;
  let randomAccount: { accountId: string; key: RootKey };
  let defaultKey: RootKey;

  const startServer = async (): Promise<BerthProcess> => (server = await spawnBerth({ ...env, BERTH_ADMIN_PASSWORD: ADMIN_PASSWORD }));

  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'berth-admin-'));
    env = { BERTH_DATA_DIR: join(scratch, 'data') };
    callers = new CallerCheck(await isolatedAwsEnv(scratch), () => {
      assert.ok(server, 'no server running');
      return server;
    });
  });
  after(async () => {
    await server?.stop();
    await rm(scratch, { recursive: true, force: true });
  });

  test('create works on a fresh data directory: given id and alias, or a random id that is also the alias; the key is printed once', async () => {
    const team = await admin(['create', '--id', '111122223333', '--alias', 'team-a'], env);
    assert.equal(team.code, 0, team.stderr);
    assert.match(team.stdout, /Created account 111122223333 \(public alias team-a\)/);
    teamKey = printedKey(team.stdout);

    const random = await admin(['create'], env);
    assert.equal(random.code, 0, random.stderr);
    const accountId = /Created account (\d{12}) \(public alias (\d{12})\)/.exec(random.stdout);
    assert.ok(accountId?.[1] && accountId[1] === accountId[2], random.stdout);
    randomAccount = { accountId: accountId[1], key: printedKey(random.stdout) };

    const accounts = await listAccounts(env);
    assert.deepEqual(accounts.map((a) => a.accountId).sort(), [DEFAULT_ACCOUNT, '111122223333', randomAccount.accountId].sort());
    assert.deepEqual(listed(accounts, DEFAULT_ACCOUNT).rootKeys, [], 'the default key is generated by the first serve');
    assert.equal(listed(accounts, DEFAULT_ACCOUNT).isDefault, true);
    const listedTeam = listed(accounts, '111122223333');
    assert.equal(listedTeam.publicAlias, 'team-a');
    assert.deepEqual(
      listedTeam.rootKeys.map((k) => [k.accessKeyId, k.status, k.source]),
      [[teamKey.AWS_ACCESS_KEY_ID, 'Active', 'database']],
    );
    for (const file of ['berth.db', 'berth.db-wal']) {
      const bytes = await readFile(join(scratch, 'data', file)).catch(() => Buffer.alloc(0));
      assert.equal(bytes.includes(teamKey.AWS_SECRET_ACCESS_KEY), false, `${file}: the secret is stored sealed, not as is`);
    }
  });

  test('bad input exits 1 with a message and changes nothing', async () => {
    const before = await listAccounts(env);
    const otherDefault = { ...env, BERTH_ACCOUNT_ID: '999999999999' };
    const otherDataDir = { BERTH_DATA_DIR: join(scratch, 'other-data'), BERTH_DATABASE_URL: `sqlite:${join(scratch, 'data', 'berth.db')}` };
    // [arguments, the message expected, the environment when it is not the servers' one]
    const refusals: [string[], RegExp, Record<string, string>?][] = [
      [['create', '--id', '111122223333', '--alias', 'other-alias'], /account 111122223333 exists/],
      [['create', '--id', '555566667777', '--alias', 'team-a'], /public alias 'team-a' is taken by account 111122223333/],
      [['create', '--id', '12345'], /an account id is 12 digits, got '12345'/],
      [['create', '--id', '1234567890123'], /12 digits/],
      [['create', '--id', 'abcdefghijkl'], /12 digits/],
      [['create', '--id', '555566667777', '--alias', 'Team_A'], /public alias is 2–50 lower-case letters/],
      [['create', '--id', '555566667777', '--alias', 'x'], /public alias is 2–50/],
      [['rotate-keys', '--account', '999999999999'], /there is no account 999999999999/],
      [['rotate-keys', '--account', '12'], /12 digits/],
      [['list'], /the database has accounts but not the default account 999999999999/, otherDefault],
      [['create', '--id', '555566667777'], /the database has accounts but not the default account 999999999999/, otherDefault],
      [['create', '--id', '555566667777'], /did not seal the keys in this database/, otherDataDir],
    ];
    for (const [args, message, commandEnv] of refusals) {
      const result = await admin(args, commandEnv ?? env);
      assert.equal(result.code, 1, `${args.join(' ')}: ${result.stdout}${result.stderr}`);
      assert.match(result.stderr, message);
      assert.doesNotMatch(result.stderr, /\n\s+at /, 'a message, not a stack trace');
      assert.doesNotMatch(result.stdout, /AWS_SECRET_ACCESS_KEY/);
    }
    assert.deepEqual(await listAccounts(env), before);
  });

  test('a failed account insert (id or alias taken meanwhile) leaves no key behind', async () => {
    const dataDir = join(scratch, 'direct');
    const stores = await openStores(`sqlite:${join(dataDir, 'berth.db')}`);
    try {
      await stores.metadata.migrate();
      const racing = new Proxy<MetadataStore>(stores.metadata, {
        get(target, property) {
          if (property === 'createAccount') return () => Promise.reject(new AccountConflictError('taken by a concurrent create'));
          const value: unknown = Reflect.get(target, property);
          return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
        },
      });
      const accounts = new AccountAdmin(racing, stores.identities, await ServerKey.load(dataDir), { accountId: DEFAULT_ACCOUNT, dataDir, configuredRootKeyId: undefined });
      await assert.rejects(accounts.createAccount({ accountId: '444455556666' }), AdminError);
      assert.deepEqual(await stores.identities.listAccessKeys('444455556666', undefined), []);
      assert.equal(await stores.metadata.getAccount('444455556666'), undefined);
    } finally {
      await stores.close();
    }
  });

  test("with a server on the data directory, each new account's root key authenticates as that account's root", async (t) => {
    if (!requireClient(t, 'aws')) return;
    const started = await startServer();
    defaultKey = printedKey(started.output());
    await callers.assertRoot(teamKey, '111122223333');
    await callers.assertRoot(randomAccount.key, randomAccount.accountId);
    await callers.assertRoot(defaultKey, DEFAULT_ACCOUNT);

    const accounts = await listAccounts(env);
    assert.deepEqual(
      listed(accounts, DEFAULT_ACCOUNT).rootKeys.map((k) => [k.accessKeyId, k.status, k.source]),
      [[defaultKey.AWS_ACCESS_KEY_ID, 'Active', 'data-dir']],
    );
    const table = await admin(['list'], env);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^ACCOUNT\s+PUBLIC ALIAS\s+CREATED\s+ROOT KEYS$/m);
    assert.match(table.stdout, new RegExp(`^111122223333\\s+team-a\\s+\\S+Z\\s+${teamKey.AWS_ACCESS_KEY_ID} Active$`, 'm'));
    assert.match(table.stdout, new RegExp(`^${DEFAULT_ACCOUNT}\\s+${DEFAULT_ACCOUNT}\\s+\\S+Z\\s+${defaultKey.AWS_ACCESS_KEY_ID} Active \\(data-dir\\)$`, 'm'));
  });

  test('rotate-keys while the server runs: the new key works, the old one is refused within 2 s', async (t) => {
    if (!requireClient(t, 'aws')) return;
    const rotated = await admin(['rotate-keys', '--account', '111122223333'], env);
    const rotatedAt = Date.now();
    assert.equal(rotated.code, 0, rotated.stderr);
    assert.match(rotated.stdout, new RegExp(`Deleted the previous root key ${teamKey.AWS_ACCESS_KEY_ID}`));
    const newKey = printedKey(rotated.stdout);
    await callers.assertRefusedSoon(teamKey, rotatedAt);
    await callers.assertRoot(newKey, '111122223333');
    assert.deepEqual(listed(await listAccounts(env), '111122223333').rootKeys.map((k) => k.accessKeyId), [newKey.AWS_ACCESS_KEY_ID]);
    teamKey = newKey;
  });

  test('rotate-keys --keep-old deactivates the previous key (the new key can reactivate it); at two keys --keep-old is refused; a plain rotation then removes both', async (t) => {
    if (!requireClient(t, 'aws')) return;
    const kept = await admin(['rotate-keys', '--account', '111122223333', '--keep-old'], env);
    const rotatedAt = Date.now();
    assert.equal(kept.code, 0, kept.stderr);
    assert.match(kept.stdout, new RegExp(`Deactivated the previous root key ${teamKey.AWS_ACCESS_KEY_ID}`));
    const second = printedKey(kept.stdout);
    await callers.assertRefusedSoon(teamKey, rotatedAt);
    await callers.assertRoot(second, '111122223333');
    const twoKeys = listed(await listAccounts(env), '111122223333').rootKeys.map((k) => [k.accessKeyId, k.status]);
    assert.deepEqual(twoKeys, [
      [teamKey.AWS_ACCESS_KEY_ID, 'Inactive'],
      [second.AWS_ACCESS_KEY_ID, 'Active'],
    ]);

    const overLimit = await admin(['rotate-keys', '--account', '111122223333', '--keep-old'], env);
    assert.equal(overLimit.code, 1, overLimit.stdout);
    assert.match(overLimit.stderr, /has 2 root keys, the most it may have/);
    assert.deepEqual(listed(await listAccounts(env), '111122223333').rootKeys.map((k) => [k.accessKeyId, k.status]), twoKeys);

    const reactivated = await callers.aws(second, ['iam', 'update-access-key', '--access-key-id', teamKey.AWS_ACCESS_KEY_ID, '--status', 'Active']);
    const reactivatedAt = Date.now();
    assert.equal(reactivated.code, 0, reactivated.stderr);
    await callers.assertRootSoon(teamKey, '111122223333', reactivatedAt);

    // Both keys active: the oldest makes room for the new one, the other goes after it.
    const replaced = await admin(['rotate-keys', '--account', '111122223333'], env);
    const replacedAt = Date.now();
    assert.equal(replaced.code, 0, replaced.stderr);
    const third = printedKey(replaced.stdout);
    await callers.assertRefusedSoon(second, replacedAt);
    await callers.assertRefused(teamKey);
    await callers.assertRoot(third, '111122223333');
    assert.deepEqual(listed(await listAccounts(env), '111122223333').rootKeys.map((k) => [k.accessKeyId, k.status]), [[third.AWS_ACCESS_KEY_ID, 'Active']]);
    await callers.assertRoot(randomAccount.key, randomAccount.accountId);
    teamKey = third;
  });

  test("the default account's key file is replaced: running servers keep the old key until they restart, then only the new one works", async (t) => {
    if (!requireClient(t, 'aws')) return;
    const keyFile = join(scratch, 'data', 'root-access-key.json');
    const configured = await admin(['rotate-keys', '--account', DEFAULT_ACCOUNT], {
      ...env,
      BERTH_ROOT_ACCESS_KEY_ID: 'AKIACONFIGUREDKEY000',
      BERTH_ROOT_SECRET_ACCESS_KEY: 'configured-secret',
    });
    assert.equal(configured.code, 1, configured.stdout);
    assert.match(configured.stderr, /comes from the configuration; to rotate it, change BERTH_ROOT_ACCESS_KEY_ID/);
    const fileBefore = await readFile(keyFile, 'utf8');

    const keepOld = await admin(['rotate-keys', '--account', DEFAULT_ACCOUNT, '--keep-old'], env);
    assert.equal(keepOld.code, 1, keepOld.stdout);
    assert.match(keepOld.stderr, /--keep-old does not apply/);
    assert.equal(await readFile(keyFile, 'utf8'), fileBefore);

    const rotated = await admin(['rotate-keys', '--account', DEFAULT_ACCOUNT], env);
    assert.equal(rotated.code, 0, rotated.stderr);
    assert.match(rotated.stdout, /they use the new key after a restart/);
    const newKey = printedKey(rotated.stdout);
    assert.notEqual(await readFile(keyFile, 'utf8'), fileBefore);
    await callers.assertRoot(defaultKey, DEFAULT_ACCOUNT);

    await server?.stop();
    const restarted = await startServer();
    assert.doesNotMatch(restarted.output(), /AWS_SECRET_ACCESS_KEY/, 'the restarted server found the key and generated none');
    await callers.assertRoot(newKey, DEFAULT_ACCOUNT);
    await callers.assertRefused(defaultKey);
    await callers.assertRoot(teamKey, '111122223333');
  });
});

describe('berth admin account against PostgreSQL', () => {
  if (pgUnreachable !== undefined) {
    reportPostgresUnavailable('berth admin account against PostgreSQL');
    return;
  }
  const { schema, url } = freshSchemaUrl('berth_admin');
  let scratch: string;
  let env: Record<string, string>;
  let server: BerthProcess | undefined;
  let callers: CallerCheck;

  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'berth-admin-pg-'));
    env = { BERTH_DATA_DIR: join(scratch, 'data'), BERTH_DATABASE_URL: url };
    callers = new CallerCheck(await isolatedAwsEnv(scratch), () => {
      assert.ok(server, 'no server running');
      return server;
    });
  });
  after(async () => {
    await server?.stop();
    await rm(scratch, { recursive: true, force: true });
    await dropSchema(schema);
  });

  test('create (--database-url) before the first serve, list, and rotate-keys while a server runs on the same database', async (t) => {
    if (!requireClient(t, 'aws')) return;
    const created = await admin(['create', '--id', '222233334444', '--alias', 'pg-team', '--database-url', url], { BERTH_DATA_DIR: env.BERTH_DATA_DIR as string });
    assert.equal(created.code, 0, created.stderr);
    const key = printedKey(created.stdout);
    const taken = await admin(['create', '--id', '222233334444'], env);
    assert.equal(taken.code, 1, taken.stdout);
    assert.match(taken.stderr, /account 222233334444 exists/);

    server = await spawnBerth({ ...env, BERTH_ADMIN_PASSWORD: ADMIN_PASSWORD });
    await callers.assertRoot(key, '222233334444');
    await callers.assertRoot(printedKey(server.output()), DEFAULT_ACCOUNT);
    const accounts = await listAccounts(env);
    assert.deepEqual(accounts.map((a) => [a.accountId, a.publicAlias]), [
      [DEFAULT_ACCOUNT, DEFAULT_ACCOUNT],
      ['222233334444', 'pg-team'],
    ]);

    const rotated = await admin(['rotate-keys', '--account', '222233334444'], env);
    const rotatedAt = Date.now();
    assert.equal(rotated.code, 0, rotated.stderr);
    const newKey = printedKey(rotated.stdout);
    await callers.assertRefusedSoon(key, rotatedAt);
    await callers.assertRoot(newKey, '222233334444');
  });
});
