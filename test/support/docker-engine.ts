/**
 * A private Docker engine for the tests: dockerd with every path in a temp
 * dir (data root, exec root, pid file, socket, daemon.json), the vfs storage
 * driver and no networking setup (no iptables, no bridge), so it starts as
 * root inside a container or VM without touching the host's Docker. dockerd
 * starts and supervises its own containerd under the exec root (unless a
 * system containerd is already running, which it then uses).
 *
 * Docker treats registries on 127.0.0.0/8 as insecure (plain HTTP) by
 * default, so no daemon option is needed for the loopback registries.
 */
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { findExecutable, removeDir, tempDir } from './env.js';
import { onProcessExit, pidAlive, run, ServerProcess, waitFor, type RunOptions, type RunResult } from './process.js';

const START_TIMEOUT_MS = 60_000;

function ping(socketPath: string): Promise<boolean | undefined> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/_ping', method: 'GET', timeout: 2_000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200 ? true : undefined);
    });
    req.on('error', () => resolve(undefined));
    req.on('timeout', () => {
      req.destroy();
      resolve(undefined);
    });
    req.end();
  });
}

/** Why a Docker engine cannot be started here (missing binaries), or undefined. */
export function dockerUnavailable(): string | undefined {
  for (const name of ['dockerd', 'docker', 'containerd']) {
    if (!findExecutable(name)) return `${name} not installed`;
  }
  return undefined;
}

export class DockerEngine {
  readonly socket: string;
  private readonly unregisterExitHook: () => void;
  private constructor(
    readonly root: string,
    private readonly daemon: ServerProcess,
  ) {
    this.socket = join(root, 'docker.sock');
    // dockerd puts its containerd in a session of its own: if this process dies
    // without stop(), the group kill misses it, so kill it by its pid file.
    this.unregisterExitHook = onProcessExit(() => {
      const pid = this.containerdPid();
      if (pid !== undefined) process.kill(pid, 'SIGKILL');
    });
  }

  /** The pid of the containerd this dockerd started, if it is alive. */
  private containerdPid(): number | undefined {
    try {
      const pid = Number(readFileSync(join(this.root, 'exec', 'containerd', 'containerd.pid'), 'utf8').trim());
      return Number.isInteger(pid) && pid > 1 && pidAlive(pid) ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  /** Starts dockerd; rejects (after cleaning up) with its output if it does not come up. */
  static async start(): Promise<DockerEngine> {
    const reason = dockerUnavailable();
    if (reason) throw new Error(reason);
    const root = await tempDir('dockerd');
    const configFile = join(root, 'daemon.json');
    await writeFile(configFile, '{}\n');
    await mkdir(join(root, 'home'), { recursive: true });
    const socket = join(root, 'docker.sock');
    const args = [
      '--config-file',
      configFile,
      '--storage-driver',
      'vfs',
      '--iptables=false',
      '--ip6tables=false',
      '--ip-forward=false',
      '--ip-masq=false',
      '--bridge=none',
      '--userland-proxy=false',
      '--data-root',
      join(root, 'data'),
      '--exec-root',
      join(root, 'exec'),
      '--pidfile',
      join(root, 'docker.pid'),
      '-H',
      `unix://${socket}`,
    ];
    const daemon = new ServerProcess(findExecutable('dockerd') ?? 'dockerd', args, {
      cwd: root,
      env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', HOME: join(root, 'home'), LANG: 'C.UTF-8' },
    });
    const engine = new DockerEngine(root, daemon);
    try {
      await waitFor('dockerd', () => ping(socket), { timeoutMs: START_TIMEOUT_MS, server: daemon, intervalMs: 250 });
    } catch (err) {
      await engine.stop();
      throw err;
    }
    return engine;
  }

  /** The end of dockerd's log. */
  output(maxChars = 6000): string {
    return this.daemon.output(maxChars);
  }

  /** Environment for the docker CLI talking to this engine with its own config dir. */
  clientEnv(dockerConfig: string): Record<string, string> {
    return {
      PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
      LANG: 'C.UTF-8',
      HOME: join(this.root, 'home'),
      DOCKER_HOST: `unix://${this.socket}`,
      DOCKER_CONFIG: dockerConfig,
      DOCKER_CLI_HINTS: 'false',
    };
  }

  /** Runs the docker CLI against this engine. */
  docker(args: readonly string[], dockerConfig: string, options: Omit<RunOptions, 'env'> = {}): Promise<RunResult> {
    return run('docker', args, { ...options, env: this.clientEnv(dockerConfig) });
  }

  /**
   * Stops dockerd (SIGTERM to its process group, which lets it stop its
   * containerd and unmount its data root), kills a containerd it left
   * behind, and removes every file.
   */
  async stop(): Promise<void> {
    await this.daemon.stop(20_000);
    const pid = this.containerdPid();
    if (pid !== undefined) {
      try {
        process.kill(pid, 'SIGTERM');
        for (let i = 0; i < 50 && pidAlive(pid); i++) await sleep(100);
        if (pidAlive(pid)) process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    this.unregisterExitHook();
    await removeDir(this.root);
  }
}
