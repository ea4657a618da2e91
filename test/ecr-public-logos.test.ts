import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CreateRepositoryCommand } from '@aws-sdk/client-ecr';
import {
  CreateRepositoryCommand as CreatePublicRepositoryCommand,
  GetRepositoryCatalogDataCommand,
  PutRepositoryCatalogDataCommand,
  type ECRPUBLICClient,
} from '@aws-sdk/client-ecr-public';
import { startTestBerth, type TestBerth } from './lib/berth.js';
import { ecrClients } from './lib/ecr-sdk.js';

const ROOT = { accessKeyId: 'AKIAPUBLICLOGOSROOT01', secretAccessKey: 'public/logos/root/secret/key/for/the/tests' };
const ACCOUNT = '000000000000';
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('a png, as far as its signature goes')]);
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from('a jpeg, as far as its signature goes')]);

/** ECR Public's catalog data names the repository's logo by a `logoUrl`, which Berth serves to anyone. */
describe('ECR Public repository logos', () => {
  let berth: TestBerth;
  let clients: ReturnType<typeof ecrClients>;
  let ecrPublic: ECRPUBLICClient;

  before(async () => {
    berth = await startTestBerth({ rootAccessKeyId: ROOT.accessKeyId, rootSecretAccessKey: ROOT.secretAccessKey, publicAlias: 'logo-tests' });
    clients = ecrClients(berth.url, ROOT);
    ecrPublic = clients.ecrPublic;
  });
  after(async () => {
    clients?.ecr.destroy();
    clients?.ecrPublic.destroy();
    await berth?.stop();
  });

  const logoUrl = (name: string): string => `${berth.url}/public-repository-logos/${ACCOUNT}/${name}`;

  test('the logo given with CreateRepository or PutRepositoryCatalogData is served at its logoUrl, anonymously, as the image type it is', async () => {
    const created = await ecrPublic.send(new CreatePublicRepositoryCommand({ repositoryName: 'logos/app', catalogData: { description: 'app', logoImageBlob: PNG } }));
    assert.equal(created.catalogData?.logoUrl, logoUrl('logos/app'));

    const served = await fetch(logoUrl('logos/app'));
    assert.equal(served.status, 200);
    assert.equal(served.headers.get('content-type'), 'image/png');
    assert.equal(served.headers.get('x-content-type-options'), 'nosniff');
    assert.deepEqual(Buffer.from(await served.arrayBuffer()), PNG);
    const head = await fetch(logoUrl('logos/app'), { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), String(PNG.length));
    assert.equal(head.headers.get('etag'), served.headers.get('etag'));

    await ecrPublic.send(new PutRepositoryCatalogDataCommand({ repositoryName: 'logos/app', catalogData: { logoImageBlob: JPEG } }));
    assert.equal((await ecrPublic.send(new GetRepositoryCatalogDataCommand({ repositoryName: 'logos/app' }))).catalogData?.logoUrl, logoUrl('logos/app'));
    const replaced = await fetch(logoUrl('logos/app'));
    assert.equal(replaced.headers.get('content-type'), 'image/jpeg');
    assert.deepEqual(Buffer.from(await replaced.arrayBuffer()), JPEG);
    assert.notEqual(replaced.headers.get('etag'), served.headers.get('etag'));

    // Bytes that are no image format Berth knows are served as such, never as something a browser would render.
    await ecrPublic.send(new PutRepositoryCatalogDataCommand({ repositoryName: 'logos/app', catalogData: { logoImageBlob: Buffer.from('<svg onload="alert(1)"/>') } }));
    assert.equal((await fetch(logoUrl('logos/app'))).headers.get('content-type'), 'application/octet-stream');
  });

  test('no logo, no logoUrl: catalog data without one, a private repository, a repository that does not exist', async () => {
    await ecrPublic.send(new CreatePublicRepositoryCommand({ repositoryName: 'logos/plain', catalogData: { description: 'plain' } }));
    assert.equal((await ecrPublic.send(new GetRepositoryCatalogDataCommand({ repositoryName: 'logos/plain' }))).catalogData?.logoUrl, undefined);
    assert.equal((await fetch(logoUrl('logos/plain'))).status, 404);

    await ecrPublic.send(new CreatePublicRepositoryCommand({ repositoryName: 'logos/dropped', catalogData: { logoImageBlob: PNG } }));
    const dropped = await ecrPublic.send(new PutRepositoryCatalogDataCommand({ repositoryName: 'logos/dropped', catalogData: { description: 'the logo goes' } }));
    assert.equal(dropped.catalogData?.logoUrl, undefined, 'PutRepositoryCatalogData replaces all of the catalog data');
    assert.equal((await fetch(logoUrl('logos/dropped'))).status, 404);

    await clients.ecr.send(new CreateRepositoryCommand({ repositoryName: 'logos/private' }));
    for (const path of [`${ACCOUNT}/logos/private`, `${ACCOUNT}/logos/none`, 'not-an-account/logos/app', ACCOUNT, `${ACCOUNT}/Bad_Name`]) {
      assert.equal((await fetch(`${berth.url}/public-repository-logos/${path}`)).status, 404, path);
    }
  });
});
