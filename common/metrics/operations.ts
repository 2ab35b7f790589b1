/**
 * The `operation` label of a GraphQL request, with bounded cardinality. An operation's
 * name is chosen by the client, so a label per name would let anyone grow the registry
 * (and every scrape) without end. So:
 *  - no name: "anonymous";
 *  - a name that is not a plain GraphQL name of at most 64 characters: "invalid";
 *  - the first MAX_OPERATION_NAMES distinct names seen from identified callers keep their
 *    own label; past that, and for callers the gateway did not identify, names not
 *    already known become "other".
 * The portal and well-behaved clients use a few dozen names, so in practice every real
 * operation has its own series; an attacker can at worst fill the budget once.
 */
export const MAX_OPERATION_NAMES = 200;

const NAME = /^[_A-Za-z][_0-9A-Za-z]{0,63}$/;
/** The first operation's name in a document, when the body does not say which (comments and fragments before it are rare). */
const FIRST_OPERATION = /^\s*(?:query|mutation|subscription)\s+([_A-Za-z][_0-9A-Za-z]*)/;

export class OperationNames {
  private readonly known = new Set<string>();

  constructor(private readonly max = MAX_OPERATION_NAMES) {}

  /** The label for a request `body` (a parsed GraphQL POST body, or anything else). */
  label(body: unknown, identified: boolean): string {
    const name = operationName(body);
    if (name === undefined) return 'anonymous';
    if (!NAME.test(name)) return 'invalid';
    if (this.known.has(name)) return name;
    if (!identified || this.known.size >= this.max) return 'other';
    this.known.add(name);
    return name;
  }
}

function operationName(body: unknown): string | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const { operationName: given, query } = body as { operationName?: unknown; query?: unknown };
  if (typeof given === 'string' && given !== '') return given;
  if (typeof query !== 'string') return undefined;
  return FIRST_OPERATION.exec(query.slice(0, 256))?.[1];
}
