// On-disk cache of prepared images: the array an item has after decoding and the deterministic
// transforms, so a second run on the same cohort (or another process of a multi-process run)
// skips decoding and preprocessing.
//
// Key: a SHA-256 of the pipeline (the read options, the item's own transforms, the cacheable
// dataset transforms, a format version) and of the file's identity: absolute path, size, inode,
// and modification and status-change times in nanoseconds. Any write to the file changes its
// ctime, which nobody can set back (unlike the mtime, which `touch -d` or `rsync -t` restore), so
// a changed file never meets its old entry; stale entries are simply never read again.
//
// Several writers: an entry is written to a temporary file in its own folder and renamed into
// place. Rename is atomic within a file system, so readers see the whole old entry, the whole new
// one or none; two writers of one key write the same bytes and the last rename wins. An entry that
// fails its checks (magic, key, length) counts as a miss and is rewritten.
import { createHash, randomBytes } from "node:crypto";
import {
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import { homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { threadId } from "node:worker_threads";
import type { ImageArray } from "./types.js";

const MAGIC = "MIMMXPC1";
/** Bump when the entry layout or a transform's output changes, so old entries are never read. */
const FORMAT_VERSION = 2;

export interface FileIdentity {
  size: bigint;
  ino: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
}

/** The identity the key is built from; null when the file cannot be stat'ed (then no caching). */
export function fileIdentity(path: string): FileIdentity | null {
  try {
    const s = statSync(path, { bigint: true });
    return { size: s.size, ino: s.ino, mtimeNs: s.mtimeNs, ctimeNs: s.ctimeNs };
  } catch {
    return null;
  }
}

export function sameIdentity(a: FileIdentity, b: FileIdentity): boolean {
  return a.size === b.size && a.ino === b.ino && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;
}

/**
 * Where the cache lives: `setting` false = off; a string = that folder (relative to the data root);
 * true or unset = $MIMMX_CACHE_DIR, else $XDG_CACHE_HOME/mimmx, else ~/.cache/mimmx: the user's
 * cache, never the data folder by default. A cohort's folder is often a read-only mount or a
 * shared export, and derived images of patients written beside the originals travel with every
 * copy of the folder, which a data-use agreement may not allow. Entries are keyed by absolute
 * path, so one cache serves every cohort.
 */
export function resolveCacheDir(
  setting: boolean | string | undefined,
  dataRoot: string,
  env: NodeJS.ProcessEnv = process.env,
  home: string = homedir(),
): string | false {
  if (setting === false) return false;
  if (typeof setting === "string") return isAbsolute(setting) ? setting : resolve(dataRoot, setting);
  if (env.MIMMX_CACHE_DIR) return resolve(env.MIMMX_CACHE_DIR);
  const base =
    env.XDG_CACHE_HOME && isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : join(home, ".cache");
  return resolve(base, "mimmx");
}

export class PreparedCache {
  private readonly pipelineHash: string;

  /** `pipeline`: everything besides the file that decides the prepared array (JSON-serialisable). */
  constructor(
    readonly dir: string,
    pipeline: unknown,
  ) {
    this.pipelineHash = createHash("sha256")
      .update(JSON.stringify({ v: FORMAT_VERSION, pipeline }))
      .digest("hex");
  }

  key(path: string, id: FileIdentity, itemTransforms: unknown): string {
    return createHash("sha256")
      .update(this.pipelineHash)
      .update(
        JSON.stringify([
          resolve(path),
          `${id.size}`,
          `${id.ino}`,
          `${id.mtimeNs}`,
          `${id.ctimeNs}`,
          itemTransforms,
        ]),
      )
      .digest("hex");
  }

  private entryPath(key: string): string {
    return join(this.dir, key.slice(0, 2), `${key}.f32`);
  }

  /** The entry for `key`, or null (missing, partial or foreign files are misses). */
  get(key: string): ImageArray | null {
    let buf: Buffer;
    try {
      buf = readFileSync(this.entryPath(key));
    } catch {
      return null;
    }
    if (buf.length < 12 || buf.toString("latin1", 0, 8) !== MAGIC) return null;
    const headerLen = buf.readUInt32LE(8);
    const dataStart = align4(12 + headerLen);
    if (dataStart > buf.length) return null;
    let header: { key: string; shape: number[]; spacing?: number[]; affine?: number[][] };
    try {
      header = JSON.parse(buf.toString("utf8", 12, 12 + headerLen));
    } catch {
      return null;
    }
    const n = header.shape.reduce((a, b) => a * b, 1);
    if (header.key !== key || buf.length !== dataStart + 4 * n) return null;
    // Copy out of the file buffer: the array must own its memory (it may be transferred).
    const data = new Float32Array(n);
    new Uint8Array(data.buffer).set(buf.subarray(dataStart));
    const img: ImageArray = { data, shape: header.shape };
    if (header.spacing) img.spacing = header.spacing;
    if (header.affine) img.affine = header.affine;
    return img;
  }

  /** Writes the entry atomically (temp file + rename). Throws on I/O errors (the caller decides). */
  put(key: string, img: ImageArray): void {
    const final = this.entryPath(key);
    mkdirSync(join(this.dir, key.slice(0, 2)), { recursive: true });
    const header = Buffer.from(
      JSON.stringify({ key, shape: img.shape, spacing: img.spacing, affine: img.affine }),
      "utf8",
    );
    const head = Buffer.alloc(align4(12 + header.length));
    head.write(MAGIC, 0, "latin1");
    head.writeUInt32LE(header.length, 8);
    header.copy(head, 12);
    const tmp = `${final}.tmp-${process.pid}-${threadId}-${randomBytes(4).toString("hex")}`;
    const fd = openSync(tmp, "w");
    try {
      writeAll(fd, head);
      writeAll(fd, new Uint8Array(img.data.buffer, img.data.byteOffset, img.data.byteLength));
    } catch (e) {
      closeSync(fd);
      rmSync(tmp, { force: true });
      throw e;
    }
    closeSync(fd);
    try {
      renameSync(tmp, final);
    } catch (e) {
      rmSync(tmp, { force: true });
      throw e;
    }
  }
}

function writeAll(fd: number, bytes: Uint8Array): void {
  for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done);
}

function align4(n: number): number {
  return (n + 3) & ~3;
}
