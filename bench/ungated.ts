import path from 'node:path';

/** The environment that starts a hub (`custodian start`, and so each subgraph) without the consent gate. */
export function ungatedHubEnv(): Record<string, string> {
  const preload = path.join(__dirname, 'ungated-preload.js');
  return { NODE_OPTIONS: [process.env.NODE_OPTIONS, `--require ${preload}`].filter(Boolean).join(' ') };
}
