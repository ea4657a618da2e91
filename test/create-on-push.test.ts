import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CreateRepositoryCreationTemplateCommand } from '@aws-sdk/client-ecr';
import { startTestBerth, type TestBerth } from './lib/berth.js';
import { TestClient } from './lib/client.js';
import { ecrClients } from './lib/ecr-sdk.js';

const ROOT = { accessKeyId: 'AKIACREATEONPUSH0001', secretAccessKey: 'create/on/push/root/secret/for/tests/0000' };

/** With createRepositoryOnPush off, a push creates a repository only through a CREATE_ON_PUSH template, as in ECR. */
describe('repository creation on push', () => {
  let berth: TestBerth;
  let admin: TestClient;

  before(async () => {
    berth = await startTestBerth({ rootAccessKeyId: ROOT.accessKeyId, rootSecretAccessKey: ROOT.secretAccessKey, createRepositoryOnPush: 'false' });
    admin = new TestClient(berth.url, 'test-password');
  });
  after(async () => {
    await berth?.stop();
  });

  test('without a template a push to a missing repository is NAME_UNKNOWN, and nothing is created', async () => {
    const upload = await admin.request('/v2/nowhere/app/blobs/uploads/', { method: 'POST' });
    assert.equal(upload.status, 404);
    assert.equal(((await upload.json()) as { errors: { code: string }[] }).errors[0]?.code, 'NAME_UNKNOWN');
    assert.equal((await admin.request('/v2/nowhere/app/tags/list')).status, 404);
  });

  test('a CREATE_ON_PUSH template creates the repository with its settings: here, immutable tags', async () => {
    const { ecr } = ecrClients(berth.url, ROOT);
    try {
      await ecr.send(new CreateRepositoryCreationTemplateCommand({ prefix: 'auto', appliedFor: ['CREATE_ON_PUSH'], imageTagMutability: 'IMMUTABLE' }));
    } finally {
      ecr.destroy();
    }
    await admin.pushImage('auto/app', 'v1');
    // The template's IMMUTABLE setting holds on /v2/: the tag cannot move to another image.
    await assert.rejects(admin.pushImage('auto/app', 'v1'), /TAG_INVALID|400/);
    const other = await admin.pushImage('auto/app', 'v2');
    assert.match(other, /^sha256:/);
    // Outside the template's prefix nothing is created.
    assert.equal((await admin.request('/v2/manual/app/blobs/uploads/', { method: 'POST' })).status, 404);
  });
});
