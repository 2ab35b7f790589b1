/**
 * Prometheus metrics of this process: the default Node metrics (turned on once per
 * process, even when a test runs several servers in it) and every counter registered by
 * the modules loaded, served at /metrics.
 */
import type { Request, Response } from 'express';
import { collectDefaultMetrics, register } from 'prom-client';

let defaultsOn = false;

export function metricsHandler(): (req: Request, res: Response) => Promise<void> {
  if (!defaultsOn) {
    collectDefaultMetrics();
    defaultsOn = true;
  }
  return async (_req, res) => {
    res.type(register.contentType).send(await register.metrics());
  };
}
