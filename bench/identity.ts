import type { Identity } from '../common/identity';

/** Who the benchmark is when it calls a subgraph directly (the floor). */
export const ADMIN_BENCH_IDENTITY: Identity = {
  subject: 'usr_bench',
  role: 'admin',
  institutionId: null,
  patientId: null,
  practitionerId: null,
  purpose: 'OPERATIONS',
  scopes: ['read'],
  requestId: 'bench',
};
