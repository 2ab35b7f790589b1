/**
 * Metrics and operator endpoints: operator.ts serves /metrics and the detailed /healthz;
 * series.ts declares the hub's series and the one-line recorders call sites use;
 * operations.ts bounds the operation label; ledger-gauges.ts the ledger's gauges,
 * measured when scraped.
 */
export * from './operator';
export { metrics } from './series';
export { OperationNames } from './operations';
export { ledgerGauges, type LedgerObservation } from './ledger-gauges';
