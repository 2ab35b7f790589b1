import { dbQueries } from '../../common/database';

/** SQL statements a service has sent so far (in this process). */
export async function queriesSent(service: string): Promise<number> {
  const metric = await dbQueries.get();
  return metric.values.filter((v) => v.labels.service === service).reduce((sum, v) => sum + v.value, 0);
}

/** Reads one counter from a Prometheus text exposition, summed over label sets matching `labels`. */
export function counterValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name + '{') && !line.startsWith(name + ' ')) continue;
    const match = /^[^{ ]+(?:\{([^}]*)\})?\s+(\S+)$/.exec(line);
    if (!match) continue;
    const pairs = Object.fromEntries((match[1] ?? '').split(',').filter(Boolean).map((p) => {
      const [k, v] = p.split('=');
      return [k!, v!.replace(/^"|"$/g, '')];
    }));
    if (Object.entries(labels).every(([k, v]) => pairs[k] === v)) total += Number(match[2]);
  }
  return total;
}
