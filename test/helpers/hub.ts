/**
 * The real thing: `custodian start` as a child process (which spawns four subgraph
 * processes and the gateway), on free ports and a fresh database.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { SUBGRAPH_NAMES, type SubgraphName } from '../../common/config';
import { projectRoot } from '../../common/paths';
import { freshDatabase, type TestDatabase } from './database';
import { freePort } from './ports';

export interface Hub {
  gateway: string;
  subgraphs: Record<SubgraphName, string>;
  process: ChildProcess;
  output: () => string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  database: TestDatabase;
}

export const CLI = path.join(projectRoot(), 'dist', 'cli', 'main.js');

export async function startHub(extraEnv: Record<string, string> = {}): Promise<Hub> {
  const database = await freshDatabase();
  const gatewayPort = await freePort();
  const subgraphs = {} as Record<SubgraphName, string>;
  for (const name of SUBGRAPH_NAMES) subgraphs[name] = `http://127.0.0.1:${await freePort()}/graphql`;
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    ...database.vars,
    PORT: String(gatewayPort),
    ...Object.fromEntries(SUBGRAPH_NAMES.map((n) => [`${n.toUpperCase()}_URL`, subgraphs[n]])),
    ...extraEnv,
  };
  const child = spawn(process.execPath, [CLI, 'start'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('hub did not start in 90 s:\n' + output)), 90_000);
    const check = () => {
      if (output.includes('Custodian is running')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`hub exited with ${code} before it was ready:\n${output}`));
    });
  });

  return {
    gateway: `http://127.0.0.1:${gatewayPort}`,
    subgraphs,
    process: child,
    output: () => output,
    database,
    async stop(signal: NodeJS.Signals = 'SIGINT') {
      if (child.exitCode === null) child.kill(signal);
      const code = await exited;
      await database.drop();
      return code;
    },
  };
}
