import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ServerKey } from '../src/accounts/server-key.js';
import { RegistryTokens } from '../src/auth/registry-token.js';

const claims = { sub: 'arn:aws:iam::000000000000:root', akid: 'AKIAEXAMPLEEXAMPLE00', acct: '000000000000', typ: 'Account' as const, uid: '000000000000', svc: 'ecr' as const, exp: 2_000_000_000 };

describe('registry tokens', () => {
  const tokens = new RegistryTokens(randomBytes(32));

  test('a minted token verifies to its claims and contains no colon', () => {
    const token = tokens.mint(claims);
    assert.ok(!token.includes(':'));
    assert.deepEqual(tokens.verify(token, claims.exp - 1), claims);
  });

  test('an expired token is refused', () => {
    assert.equal(tokens.verify(tokens.mint(claims), claims.exp), undefined);
  });

  test('a token signed with another key, or altered, is refused', () => {
    const other = new RegistryTokens(randomBytes(32)).mint(claims);
    assert.equal(tokens.verify(other, 0), undefined);
    const token = tokens.mint(claims);
    const [payload, mac] = token.split('.') as [string, string];
    const forged = Buffer.from(JSON.stringify({ ...claims, sub: 'arn:aws:iam::111111111111:root' })).toString('base64url');
    assert.equal(tokens.verify(`${forged}.${mac}`, 0), undefined);
    assert.equal(tokens.verify(`${payload}.${mac.slice(0, -2)}`, 0), undefined);
    for (const junk of ['', '.', 'abc', `${payload}.`, '.abc']) assert.equal(tokens.verify(junk, 0), undefined, junk);
  });
});

describe('registry tokens for role sessions', () => {
  const tokens = new RegistryTokens(randomBytes(32));
  const principal = {
    arn: 'arn:aws:sts::000000000000:assumed-role/puller/ci',
    accountId: '000000000000',
    type: 'AssumedRole' as const,
    userId: 'AROAEXAMPLEEXAMPLE000:ci',
    roleArn: 'arn:aws:iam::000000000000:role/ci/puller',
  };

  test('carry the session principal and its role ARN, and expire with the session when it ends first', () => {
    const sessionEnds = Date.now() + 900_000;
    const { token, expiresAt } = tokens.mintFor({ principal, accessKeyId: 'ASIAEXAMPLEEXAMPLE00', expiresAt: sessionEnds }, 'ASIAEXAMPLEEXAMPLE00', 'ecr');
    assert.equal(expiresAt, Math.floor(sessionEnds / 1000));
    const verified = tokens.verify(token, expiresAt - 1);
    assert.deepEqual(verified, { sub: principal.arn, akid: 'ASIAEXAMPLEEXAMPLE00', acct: '000000000000', typ: 'AssumedRole', uid: principal.userId, svc: 'ecr', rarn: principal.roleArn, exp: expiresAt });
    assert.equal(tokens.verify(token, expiresAt), undefined);
  });

  test('last 12 hours when the session outlives them', () => {
    const { expiresAt } = tokens.mintFor({ principal, accessKeyId: 'ASIAEXAMPLEEXAMPLE00', expiresAt: Date.now() + 36 * 3600_000 }, 'ASIAEXAMPLEEXAMPLE00', 'ecr');
    assert.ok(Math.abs(expiresAt - (Math.floor(Date.now() / 1000) + 12 * 3600)) <= 1);
  });

  test('an assumed-role token without its role ARN is refused', () => {
    const forgedShape = tokens.mint({ sub: principal.arn, akid: 'ASIAEXAMPLEEXAMPLE00', acct: '000000000000', typ: 'AssumedRole', uid: principal.userId, svc: 'ecr', exp: 2_000_000_000 });
    assert.equal(tokens.verify(forgedShape, 0), undefined);
  });
});

describe('server key', () => {
  test('a server-key file that is not 32 bytes is refused, never used', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-key-'));
    try {
      await writeFile(join(dir, 'server-key'), '');
      await assert.rejects(ServerKey.load(dir), /not a 32-byte key/);
      await writeFile(join(dir, 'server-key'), randomBytes(16));
      await assert.rejects(ServerKey.load(dir), /not a 32-byte key/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('processes starting at once agree on one key', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-key-'));
    try {
      const keys = await Promise.all(Array.from({ length: 8 }, () => ServerKey.load(dir)));
      const sealed = keys[0]?.encrypt('same') as string;
      for (const key of keys) assert.equal(key.decrypt(sealed), 'same');
      assert.deepEqual((await readdir(dir)).sort(), ['server-key']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('is created once with mode 0600, and seals secrets only it can open', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-key-'));
    try {
      const first = await ServerKey.load(dir);
      const again = await ServerKey.load(dir);
      assert.equal((await stat(join(dir, 'server-key'))).mode & 0o777, 0o600);
      const sealed = first.encrypt('wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY');
      assert.ok(!sealed.includes('wJalrXUtnFEMI'));
      assert.equal(again.decrypt(sealed), 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY');
      assert.ok(!first.signingKey.equals(await readFile(join(dir, 'server-key'))), 'signing key is derived, not the stored key');
      const otherDir = await mkdtemp(join(tmpdir(), 'berth-key-'));
      try {
        await assert.rejects(async () => (await ServerKey.load(otherDir)).decrypt(sealed));
      } finally {
        await rm(otherDir, { recursive: true, force: true });
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
