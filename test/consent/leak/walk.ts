/**
 * Reading answers back along the path that asked for them: every object of a
 * patient-data type the answer holds becomes an observation (what it is, what it says,
 * which objects it was reached through), and every connection's totalCount is kept
 * with the object it belongs to.
 */
import type { SchemaPath } from './schema-paths';

export interface Ancestor {
  type: string;
  field: string;
  obj: Record<string, any>;
}

export interface Observation {
  type: string;
  /** The field that yielded it, e.g. `ResearchProject.enrolments`. */
  via: string;
  obj: Record<string, any>;
  ancestors: Ancestor[];
  pathKey: string;
  /** The root field's arguments. */
  args: Record<string, unknown>;
}

export interface ConnectionTotal {
  via: string;
  totalCount: number;
  rows: number;
  parent: Ancestor | null;
  /** Every object it was reached through, and the root field's arguments (a parent alone may not name its project). */
  ancestors: Ancestor[];
  args: Record<string, unknown>;
  pathKey: string;
}

export function walkAnswer(
  path: SchemaPath,
  rootValue: unknown,
  args: Record<string, unknown>,
  observe: (o: Observation) => void,
  total: (t: ConnectionTotal) => void,
): void {
  const visit = (i: number, value: unknown, ancestors: Ancestor[]) => {
    if (value === null || value === undefined) return;
    const step = path.steps[i]!;
    const via = `${step.parentType}.${step.field}`;
    let rows: unknown[];
    if (step.connection) {
      const conn = value as { totalCount?: number; nodes?: unknown[]; edges?: { node: unknown }[] };
      rows = step.connection === 'nodes' ? (conn.nodes ?? []) : (conn.edges ?? []).map((e) => e?.node);
      if (typeof conn.totalCount === 'number') {
        total({ via, totalCount: conn.totalCount, rows: rows.length, parent: ancestors[ancestors.length - 1] ?? null, ancestors, args, pathKey: path.key });
      }
    } else {
      rows = step.list ? (value as unknown[]) : [value];
    }
    for (const row of rows) {
      if (row === null || row === undefined || typeof row !== 'object') continue;
      const obj = row as Record<string, any>;
      observe({ type: step.type, via, obj, ancestors, pathKey: path.key, args });
      const next = path.steps[i + 1];
      if (next) visit(i + 1, obj[next.field], [...ancestors, { type: step.type, field: step.field, obj }]);
    }
  };
  visit(0, rootValue, []);
}
