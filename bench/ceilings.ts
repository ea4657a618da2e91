/**
 * The machine's ceilings, to read the registry figures against: how fast
 * this Node can hash (every pushed byte is hashed by the server) and how
 * fast the data directory's filesystem takes sequential writes with fsync.
 */
import { createHash, randomFillSync } from 'node:crypto';
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { MiB } from './config.js';
import { MB, timed } from './stats.js';

export interface Ceilings {
  sha256MBps: number;
  diskWriteFsyncMBps: number;
  bytes: number;
}

const CHUNK = 8 * MiB;

/** sha256 over `totalMiB` MiB (a random 8 MiB buffer hashed repeatedly). */
export async function sha256Throughput(totalMiB: number): Promise<number> {
  const buffer = randomFillSync(Buffer.allocUnsafe(CHUNK));
  const rounds = Math.max(1, Math.round((totalMiB * MiB) / CHUNK));
  const { seconds } = await timed(async () => {
    const hash = createHash('sha256');
    for (let i = 0; i < rounds; i += 1) hash.update(buffer);
    hash.digest();
  });
  return (rounds * CHUNK) / MB / seconds;
}

/** Writes `totalMiB` MiB of random data to a file in `dir`, fsyncs and closes it; the file is removed after. */
export async function diskWriteThroughput(dir: string, totalMiB: number): Promise<number> {
  const buffer = randomFillSync(Buffer.allocUnsafe(CHUNK));
  const rounds = Math.max(1, Math.round((totalMiB * MiB) / CHUNK));
  const path = join(dir, 'ceiling-disk-write.bin');
  try {
    const { seconds } = await timed(async () => {
      const file = await open(path, 'w');
      try {
        for (let i = 0; i < rounds; i += 1) await file.write(buffer);
        await file.sync();
      } finally {
        await file.close();
      }
    });
    return (rounds * CHUNK) / MB / seconds;
  } finally {
    await rm(path, { force: true });
  }
}

export async function measureCeilings(dir: string, totalMiB: number): Promise<Ceilings> {
  const sha256MBps = await sha256Throughput(totalMiB);
  const diskWriteFsyncMBps = await diskWriteThroughput(dir, totalMiB);
  return { sha256MBps, diskWriteFsyncMBps, bytes: totalMiB * MiB };
}
