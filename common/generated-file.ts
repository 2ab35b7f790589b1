import fs from 'node:fs';
import path from 'node:path';

/**
 * The command line of a checked-in generated file (supergraph.graphql, the portal's
 * vocabulary.js): `--write` rewrites it, `--check` exits 1 if it differs from what the
 * sources generate now, naming the command that regenerates it.
 */
export function writeOrCheck(file: string, generated: string, mode: string, regenerate: string): void {
  const name = path.relative(process.cwd(), file);
  if (mode === '--check') {
    const current = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
    if (current !== generated) {
      console.error(`${name} is stale: run \`${regenerate}\``);
      process.exit(1);
    }
    console.log(`${name} is up to date`);
  } else {
    fs.writeFileSync(file, generated);
    console.log(`wrote ${name}`);
  }
}
