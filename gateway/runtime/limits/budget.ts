/**
 * One request's budget at the gateway: a deadline (REQUEST_TIMEOUT_MS) and a number of
 * bytes it may receive from subgraphs (MAX_RESPONSE_BYTES). Both end in the same way:
 * the request's AbortSignal fires, every subgraph fetch in flight is cancelled, any fetch
 * the plan would still start fails at once, and the answer becomes one typed error
 * (operation-limits.ts `cutShortAnswer`) instead of a partial result or a response streamed until memory runs out.
 * A client that hangs up aborts its request too: nobody is left to read the answer.
 */
export type BudgetEnd = 'deadline' | 'too-large' | 'client-gone';

export class RequestBudget {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private received = 0;
  /** Why the request was cut short, if it was. */
  ended: BudgetEnd | null = null;

  constructor(
    readonly timeoutMs: number,
    readonly maxResponseBytes: number,
  ) {
    this.timer = setTimeout(() => this.end('deadline'), timeoutMs);
    this.timer.unref();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Bytes one more subgraph answer may still take. */
  get remainingBytes(): number {
    return Math.max(0, this.maxResponseBytes - this.received);
  }

  /** Counts a subgraph answer; ends the request when the total passes the limit. */
  receive(bytes: number): void {
    this.received += bytes;
    if (this.received > this.maxResponseBytes) this.end('too-large');
  }

  end(reason: BudgetEnd): void {
    if (this.ended) return;
    this.ended = reason;
    clearTimeout(this.timer);
    this.controller.abort(reason);
  }

  /** The request is answered: no deadline any more. */
  settle(): void {
    clearTimeout(this.timer);
  }
}
