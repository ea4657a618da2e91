import { randomBytes } from 'node:crypto';
import { OCI_MANIFEST, sha256 } from '../support/images.js';
import { ADMIN_PASSWORD } from './berth.js';

export { OCI_MANIFEST, sha256 };

/** A minimal registry client over fetch, for tests that drive a server in another process. */
export class TestClient {
  readonly authorization: string;

  constructor(
    readonly baseUrl: string,
    password = ADMIN_PASSWORD,
  ) {
    this.authorization = `Basic ${Buffer.from(`admin:${password}`).toString('base64')}`;
  }

  request(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (!headers.has('authorization')) headers.set('authorization', this.authorization);
    return fetch(`${this.baseUrl}${path}`, {
      ...init,
      headers,
      ...(init.body ? { duplex: 'half' } : {}),
    } as RequestInit);
  }

  async pushBlob(repo: string, data: Uint8Array | string): Promise<{ digest: string; size: number }> {
    const digest = sha256(data);
    const response = await this.request(`/v2/${repo}/blobs/uploads/?digest=${digest}`, { method: 'POST', body: data });
    if (response.status !== 201) throw new Error(`blob push ${response.status}: ${await response.text()}`);
    return { digest, size: typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength };
  }

  /** Pushes a small image (config + one random layer) under `tag`; returns the manifest digest. */
  async pushImage(repo: string, tag: string, layerBytes = 1024): Promise<string> {
    const config = await this.pushBlob(repo, JSON.stringify({ architecture: 'amd64', os: 'linux', created: new Date().toISOString() }));
    const layer = await this.pushBlob(repo, randomBytes(layerBytes));
    const body = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...layer }],
    });
    const response = await this.request(`/v2/${repo}/manifests/${tag}`, { method: 'PUT', headers: { 'content-type': OCI_MANIFEST }, body });
    if (response.status !== 201) throw new Error(`manifest push ${response.status}: ${await response.text()}`);
    return sha256(body);
  }

  async json<T>(path: string): Promise<T> {
    const response = await this.request(path);
    if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  }
}
