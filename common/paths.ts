import fs from 'node:fs';
import path from 'node:path';

let cached: string | undefined;

/**
 * The repository root, found by walking up to package.json. The same code runs from
 * `dist/` (compiled) and from the sources (Jest), so relative `__dirname` hops differ.
 */
export function projectRoot(): string {
  if (cached) return cached;
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('package.json not found above ' + __dirname);
    dir = parent;
  }
  cached = dir;
  return dir;
}

/** A subgraph's SDL lives beside its resolvers in the sources; tsc does not copy it. */
export function readSubgraphSdl(name: string): string {
  return fs.readFileSync(path.join(projectRoot(), 'subgraphs', name, 'schema.graphql'), 'utf8');
}
