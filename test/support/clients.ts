/**
 * Isolated state for the container clients. A ClientSandbox is a temp dir
 * holding everything skopeo, podman and buildah would otherwise read or
 * write globally: HOME, XDG dirs, TMPDIR, the auth file, registries.conf,
 * storage.conf (vfs driver, private graphroot/runroot), containers.conf
 * (cgroupfs, file events, file locks), the signature policy, and the
 * blob-info cache. Commands run with a minimal environment built from these,
 * so nothing leaks in from the caller (proxies, DOCKER_HOST, ...) or out to
 * the next test.
 *
 * The blob-info cache: containers/image keeps it, for root, in the fixed
 * /var/lib/containers/cache (skopeo has no flag to move it, and podman 4.3
 * writes there too). As root each command therefore runs in a private mount
 * namespace (`unshare --mount`) with the sandbox's cache dir bind-mounted
 * over that path. Commands of one sandbox share the cache, which is what
 * lets skopeo mount blobs across repositories; separate sandboxes share
 * nothing. Non-root, the cache lives under XDG_DATA_HOME, which is already
 * private.
 */
import { chmod, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { findExecutable, removeDir, tempDir } from './env.js';
import { run, type RunOptions, type RunResult } from './process.js';

const SYSTEM_BLOB_INFO_CACHE = '/var/lib/containers/cache';

const INSECURE_ACCEPT_ANYTHING = JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }, null, 2);

function toml(value: string): string {
  return JSON.stringify(value);
}

let unshareProbe: Promise<boolean> | undefined;

/**
 * Whether commands can run in a private mount namespace (root, and unshare
 * allowed here). If not, the blob-info cache cannot be redirected as root and
 * is shared with the machine; the tests still work, only less isolated.
 */
function canUnshareMounts(): Promise<boolean> {
  unshareProbe ??= (async () => {
    if (process.getuid?.() !== 0 || !findExecutable('unshare')) return false;
    const probe = await run('unshare', ['--mount', '--propagation', 'private', 'true'], { allowFailure: true, timeoutMs: 10_000 });
    if (probe.code !== 0) {
      process.emitWarning(`unshare --mount does not work here (${probe.stderr.trim()}); the blob-info cache is not isolated`);
      return false;
    }
    return true;
  })();
  return unshareProbe;
}

export type ClientOptions = Omit<RunOptions, 'env'> & { env?: Record<string, string> };

export class ClientSandbox {
  readonly authFile: string;
  readonly dockerConfig: string;
  readonly policy: string;
  readonly env: Record<string, string>;
  private readonly cacheDir: string;
  private readonly storageRoot: string;
  private storageRunRoot: string;
  /** A separate short-path dir for the runroot, when the sandbox path is too long for podman. */
  private extraDir: string | undefined;
  private readonly libpodTmp: string;
  private readonly networkDir: string;
  private wrapCache: boolean;
  private hostsFile: string | undefined;
  private disposed = false;

  private constructor(readonly root: string) {
    const p = (...parts: string[]): string => join(root, ...parts);
    this.authFile = p('auth.json');
    this.dockerConfig = p('docker-config');
    this.policy = p('home', '.config', 'containers', 'policy.json');
    this.cacheDir = p('blob-info-cache');
    this.storageRoot = p('storage', 'root');
    this.storageRunRoot = p('rr');
    this.libpodTmp = p('libpod-tmp');
    this.networkDir = p('networks');
    this.wrapCache = false; // decided in create(), once unshare is known to work here
    this.env = {
      PATH: process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      LANG: 'C.UTF-8',
      HOME: p('home'),
      XDG_RUNTIME_DIR: p('run'),
      XDG_CONFIG_HOME: p('home', '.config'),
      XDG_DATA_HOME: p('home', '.local', 'share'),
      XDG_CACHE_HOME: p('home', '.cache'),
      TMPDIR: p('tmp'),
      REGISTRY_AUTH_FILE: this.authFile,
      CONTAINERS_REGISTRIES_CONF: p('registries.conf'),
      CONTAINERS_STORAGE_CONF: p('storage.conf'),
      CONTAINERS_CONF: p('containers.conf'),
      DOCKER_CONFIG: this.dockerConfig,
      BUILDAH_ISOLATION: 'chroot',
      STORAGE_DRIVER: 'vfs',
    };
  }

  static async create(label: string): Promise<ClientSandbox> {
    const box = new ClientSandbox(await tempDir(`c-${label}`));
    try {
      box.wrapCache = await canUnshareMounts();
      // podman refuses a runroot path longer than 50 characters.
      if (box.storageRunRoot.length > 50) {
        box.extraDir = await mkdtemp('/tmp/be2e-');
        box.storageRunRoot = join(box.extraDir, 'rr');
      }
      await box.prepare();
    } catch (err) {
      await box.dispose();
      throw err;
    }
    return box;
  }

  private async prepare(): Promise<void> {
    const e = this.env;
    const dirs = [
      e.HOME,
      e.XDG_CONFIG_HOME,
      join(e.XDG_CONFIG_HOME ?? '', 'containers'),
      e.XDG_DATA_HOME,
      e.XDG_CACHE_HOME,
      e.TMPDIR,
      this.dockerConfig,
      this.cacheDir,
      this.storageRoot,
      this.storageRunRoot,
      this.libpodTmp,
      this.networkDir,
    ];
    for (const dir of dirs) if (dir) await mkdir(dir, { recursive: true });
    await mkdir(this.env.XDG_RUNTIME_DIR ?? '', { recursive: true, mode: 0o700 });
    await chmod(this.env.XDG_RUNTIME_DIR ?? '', 0o700);
    if (this.wrapCache) await mkdir(SYSTEM_BLOB_INFO_CACHE, { recursive: true });
    // The auth file must exist: podman refuses a REGISTRY_AUTH_FILE that does not.
    await writeFile(this.authFile, '{"auths":{}}\n', { mode: 0o600 });
    await writeFile(this.policy, INSECURE_ACCEPT_ANYTHING);
    // No search registries: every reference in the tests is fully qualified.
    await writeFile(this.env.CONTAINERS_REGISTRIES_CONF ?? '', 'unqualified-search-registries = []\n');
    await writeFile(
      this.env.CONTAINERS_STORAGE_CONF ?? '',
      `[storage]\ndriver = "vfs"\ngraphroot = ${toml(this.storageRoot)}\nrunroot = ${toml(this.storageRunRoot)}\n`,
    );
    await writeFile(
      this.env.CONTAINERS_CONF ?? '',
      [
        '[engine]',
        'cgroup_manager = "cgroupfs"',
        'events_logger = "file"',
        `events_logfile_path = ${toml(join(this.root, 'events.log'))}`,
        // File locks in tmp_dir instead of the machine-wide /dev/shm/libpod_lock.
        'lock_type = "file"',
        `tmp_dir = ${toml(this.libpodTmp)}`,
        '[network]',
        `network_config_dir = ${toml(this.networkDir)}`,
        '',
      ].join('\n'),
    );
  }

  /** Runs a containers/image based tool with the sandbox's env and blob-info cache. */
  private exec(cmd: string, args: readonly string[], options: ClientOptions = {}): Promise<RunResult> {
    if (this.disposed) throw new Error('ClientSandbox used after dispose()');
    const { env: extraEnv, ...rest } = options;
    const env = { ...this.env, ...extraEnv };
    if (!this.wrapCache) {
      if (this.hostsFile) throw new Error('host names need a private mount namespace, which this machine does not allow');
      return run(cmd, args, { ...rest, env });
    }
    // sh only sequences mounts and exec; every value arrives as a positional parameter.
    const mounts: string[] = [this.cacheDir, SYSTEM_BLOB_INFO_CACHE];
    if (this.hostsFile) mounts.push(this.hostsFile, '/etc/hosts');
    const script = `${mounts.length === 4 ? 'mount --bind "$1" "$2" && mount --bind "$3" "$4" && shift 4' : 'mount --bind "$1" "$2" && shift 2'} && exec "$@"`;
    return run('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', ...mounts, cmd, ...args], {
      ...rest,
      env,
    });
  }

  /**
   * Makes `names` resolve to 127.0.0.1 for the tools this sandbox runs (an
   * /etc/hosts of its own in their private mount namespace), as wildcard
   * DNS would. Only where unshare works (see `wrapCache`).
   */
  async resolveToLoopback(names: readonly string[]): Promise<boolean> {
    if (!this.wrapCache) return false;
    const hostsFile = join(this.root, 'hosts');
    await writeFile(hostsFile, `${await readFile('/etc/hosts', 'utf8')}\n127.0.0.1 ${names.join(' ')}\n`);
    this.hostsFile = hostsFile;
    return true;
  }

  skopeo(args: readonly string[], options?: ClientOptions): Promise<RunResult> {
    return this.exec('skopeo', ['--policy', this.policy, ...args], options);
  }

  /** Global flags that pin podman and buildah to the sandbox even if a config were ignored. */
  private storageFlags(): string[] {
    return ['--root', this.storageRoot, '--runroot', this.storageRunRoot, '--storage-driver', 'vfs'];
  }

  podman(args: readonly string[], options?: ClientOptions): Promise<RunResult> {
    return this.exec(
      'podman',
      [
        ...this.storageFlags(),
        '--tmpdir',
        this.libpodTmp,
        '--cgroup-manager',
        'cgroupfs',
        '--events-backend',
        'file',
        '--network-config-dir',
        this.networkDir,
        ...args,
      ],
      options,
    );
  }

  buildah(args: readonly string[], options?: ClientOptions): Promise<RunResult> {
    return this.exec('buildah', [...this.storageFlags(), ...args], options);
  }

  /** Any other command (docker CLI, tar, ...) with the sandbox's environment. */
  command(cmd: string, args: readonly string[], options: ClientOptions = {}): Promise<RunResult> {
    const { env: extraEnv, ...rest } = options;
    return run(cmd, args, { ...rest, env: { ...this.env, ...extraEnv } });
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await removeDir(this.root);
    if (this.extraDir) await removeDir(this.extraDir);
  }
}
