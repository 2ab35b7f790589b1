/**
 * A witness's memory: per log (origin), the latest checkpoint it cosigned. One JSON file
 * per log in the data directory, named by the SHA-256 of the origin (origins hold "/"
 * and other characters a file name cannot), written atomically — a temporary file,
 * fsync, rename over the old one, fsync of the directory — so a crash at any point
 * leaves either the old state or the new one, never a torn file and never a rollback to
 * a state older than one a cosignature was returned for.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

export interface LogState {
  readonly origin: string;
  readonly size: number;
  /** base64 root hash. */
  readonly root: string;
  /** The checkpoint note as the witness verified it (the log's signatures included). */
  readonly note: string;
  /** ISO time of the cosignature. */
  readonly cosignedAt: string;
}

const LogStateSchema = z.object({
  origin: z.string().min(1),
  size: z.number().int().min(0),
  root: z.string(),
  note: z.string(),
  cosignedAt: z.string(),
});

export class WitnessStateStore {
  constructor(private readonly dir: string) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  fileOf(origin: string): string {
    return path.join(this.dir, `log-${createHash('sha256').update(origin, 'utf8').digest('hex').slice(0, 32)}.json`);
  }

  /** The stored state, or undefined if this witness never cosigned for the log. A corrupt file throws: guessing would allow a rollback. */
  read(origin: string): LogState | undefined {
    let text: string;
    try {
      text = fs.readFileSync(this.fileOf(origin), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    const state = LogStateSchema.parse(JSON.parse(text));
    if (state.origin !== origin) throw new Error(`state file ${this.fileOf(origin)} is for ${JSON.stringify(state.origin)}`);
    return state;
  }

  write(state: LogState): void {
    const file = this.fileOf(state.origin);
    const temp = `${file}.${process.pid}.${Date.now()}.tmp`;
    const fd = fs.openSync(temp, 'wx', 0o600);
    try {
      fs.writeSync(fd, `${JSON.stringify(state, null, 2)}\n`);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(temp, file);
    // The rename itself is durable only once the directory is synced.
    const dirFd = fs.openSync(this.dir, 'r');
    try {
      fs.fsyncSync(dirFd);
    } finally {
      fs.closeSync(dirFd);
    }
  }
}
