/**
 * Debian's HAProxy running the committed deploy/haproxy.cfg in the foreground, with the
 * addresses given through the environment variables that file reads — so the tests run
 * exactly the configuration the README tells operators to use.
 */
import fs from 'node:fs';
import path from 'node:path';
import { SUBGRAPH_NAMES, type SubgraphName } from '../../common/config';
import { projectRoot } from '../../common/paths';
import { spawnProcess, waitFor, type ServiceProcess } from './processes';

export const HAPROXY = '/usr/sbin/haproxy';
export const HAPROXY_CONFIG = path.join(projectRoot(), 'deploy', 'haproxy.cfg');

export function haproxyInstalled(): boolean {
  return fs.existsSync(HAPROXY);
}

export interface BalancerPorts {
  /** Where clients reach the gateways. */
  gateway: number;
  /** Where the gateways reach each subgraph. */
  subgraphs: Record<SubgraphName, number>;
}

export interface Backends {
  /** Ports of the two gateways. */
  gateways: [number, number];
  /** Ports of the two replicas of each subgraph. */
  subgraphs: Record<SubgraphName, [number, number]>;
}

const at = (port: number) => `127.0.0.1:${port}`;

/** The variables deploy/haproxy.cfg reads, for these ports. */
export function haproxyEnv(lb: BalancerPorts, backends: Backends): Record<string, string> {
  const env: Record<string, string> = {
    LB_GATEWAY: at(lb.gateway),
    GATEWAY_1: at(backends.gateways[0]),
    GATEWAY_2: at(backends.gateways[1]),
  };
  for (const name of SUBGRAPH_NAMES) {
    const upper = name.toUpperCase();
    env[`LB_${upper}`] = at(lb.subgraphs[name]);
    env[`${upper}_1`] = at(backends.subgraphs[name][0]);
    env[`${upper}_2`] = at(backends.subgraphs[name][1]);
  }
  return env;
}

/** Starts HAProxy (`-db`: foreground, no daemon) and waits until its gateway frontend accepts connections. */
export async function startHaproxy(lb: BalancerPorts, backends: Backends): Promise<ServiceProcess> {
  const proc = spawnProcess('haproxy', HAPROXY, ['-f', HAPROXY_CONFIG, '-db'], haproxyEnv(lb, backends));
  await waitFor(
    'haproxy to listen',
    async () => {
      if (proc.child.exitCode !== null) throw new Error(`haproxy exited (${proc.child.exitCode}):\n${proc.output()}`);
      try {
        await fetch(`http://${at(lb.gateway)}/healthz`, { signal: AbortSignal.timeout(1000) });
        return true;
      } catch {
        return undefined;
      }
    },
    10_000,
    100,
  );
  return proc;
}
