import pino from 'pino';

/** One JSON line per event on stdout; `LOG_LEVEL` sets the threshold. */
export function createLogger(name: string, level = process.env.LOG_LEVEL ?? 'info'): pino.Logger {
  return pino({ name, level, base: { service: name } });
}

export type Logger = pino.Logger;
