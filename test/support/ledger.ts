/**
 * Test support for the ledger: a seeded PRNG, an independent RFC 6962 reference written
 * straight from the RFC's recursive definitions (sharing no code with ledger/), the
 * shared test vectors (the read-counting store is ledger/core/counting-store.ts).
 */
import { hash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

export const TESTDATA_DIR = path.resolve(__dirname, '../../../shared/testdata');

/** mulberry32: small, fast, good enough to pick test cases reproducibly. */
export function seededRandom(seed: number): (bound: number) => number {
  let state = seed >>> 0;
  return (bound: number) => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const unit = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    return Math.floor(unit * bound);
  };
}

export const sha256 = (...parts: Uint8Array[]): Buffer => hash('sha256', Buffer.concat(parts), 'buffer');
export const refLeafHash = (data: Uint8Array): Buffer => sha256(Buffer.from([0]), data);
export const refNodeHash = (l: Uint8Array, r: Uint8Array): Buffer => sha256(Buffer.from([1]), l, r);

/** Largest power of two strictly less than n (n > 1), as RFC 6962 §2.1 splits. */
function split(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * RFC 9162 §2.1.1 MTH, §2.1.3.1 PATH and §2.1.4.1 PROOF/SUBPROOF, recursively over
 * ranges of a leaf-hash list, memoising MTH so exhaustive checks stay fast.
 */
export class ReferenceTree {
  private readonly memo = new Map<string, Buffer>();
  constructor(readonly leaves: readonly Buffer[]) {}

  /** MTH(D[begin:end]). */
  mth(begin: number, end: number): Buffer {
    const n = end - begin;
    if (n === 0) return sha256();
    if (n === 1) return this.leaves[begin];
    const key = `${begin}:${end}`;
    let hash = this.memo.get(key);
    if (!hash) {
      const k = split(n);
      hash = refNodeHash(this.mth(begin, begin + k), this.mth(begin + k, end));
      this.memo.set(key, hash);
    }
    return hash;
  }

  /** PATH(m, D[begin:end]), m relative to begin. */
  path(m: number, begin: number, end: number): Buffer[] {
    const n = end - begin;
    if (n === 1) return [];
    const k = split(n);
    return m < k
      ? [...this.path(m, begin, begin + k), this.mth(begin + k, end)]
      : [...this.path(m - k, begin + k, end), this.mth(begin, begin + k)];
  }

  /** PROOF(m, D[0:n]). */
  proof(m: number, n: number): Buffer[] {
    return this.subproof(m, 0, n, true);
  }

  private subproof(m: number, begin: number, end: number, b: boolean): Buffer[] {
    const n = end - begin;
    if (m === n) return b ? [] : [this.mth(begin, end)];
    const k = split(n);
    return m <= k
      ? [...this.subproof(m, begin, begin + k, b), this.mth(begin + k, end)]
      : [...this.subproof(m - k, begin + k, end, false), this.mth(begin, begin + k)];
  }
}

/** Distinct leaf data for leaf i of a test tree. */
export function leafData(i: number, salt = 0): Buffer {
  const data = Buffer.alloc(12);
  data.writeUInt32BE(salt, 0);
  data.writeDoubleBE(i, 4);
  return data;
}

export interface InclusionVector {
  file: string;
  leafIdx: number;
  treeSize: number;
  root: string;
  leafHash: string;
  proof: string[] | null;
  desc: string;
  wantErr: boolean;
}

export interface ConsistencyVector {
  file: string;
  size1: number;
  size2: number;
  root1: string;
  root2: string;
  proof: string[] | null;
  desc: string;
  wantErr: boolean;
}

function jsonFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const full = path.join(dir, name);
      return statSync(full).isDirectory() ? jsonFiles(full) : name.endsWith('.json') ? [full] : [];
    });
}

function loadCases<T>(kind: 'inclusion' | 'consistency'): T[] {
  const dir = path.join(TESTDATA_DIR, 'rfc6962', kind);
  return jsonFiles(dir).map((file) => ({
    file: path.relative(dir, file),
    // Integers beyond 2^53 (the 2^64-1 "index minus one" cases) become inexact numbers
    // here; the verifier must refuse any size that is not a safe integer.
    ...(JSON.parse(readFileSync(file, 'utf8')) as Omit<T, 'file'>),
  })) as T[];
}

export const loadInclusionVectors = (): InclusionVector[] => loadCases<InclusionVector>('inclusion');
export const loadConsistencyVectors = (): ConsistencyVector[] => loadCases<ConsistencyVector>('consistency');

export interface ReferenceTreeVectors {
  emptyTreeRoot: string;
  leafInputs: string[];
  leafHashes: string[];
  rootsBySize: Record<string, string>;
  signedNoteExample: {
    vkey: string;
    keyName: string;
    keyIdHex: string;
    ed25519PublicKeyHex: string;
    noteText: string;
    signatureLine: string;
  };
}

export function loadReferenceTree(): ReferenceTreeVectors {
  return JSON.parse(readFileSync(path.join(TESTDATA_DIR, 'rfc6962', 'reference-tree.json'), 'utf8')) as ReferenceTreeVectors;
}

export const b64 = (text: string): Buffer => Buffer.from(text, 'base64');


/** Flips one bit of one hash in a copy of the list. */
export function flipBit(hashes: readonly Buffer[], which: number, bit: number): Buffer[] {
  return hashes.map((h, i) => {
    if (i !== which) return h;
    const copy = Buffer.from(h);
    copy[bit >> 3] ^= 1 << (bit & 7);
    return copy;
  });
}
