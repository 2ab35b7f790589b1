/**
 * GET /metadata: the CapabilityStatement, built from the resource modules' declarations
 * (resources/index.ts), so it lists exactly what is served: the types, their
 * interactions (read and search-type) and search parameters.
 */
import type { Resource, ResourceModule } from './resource';
import { COMMON_PARAMS } from './search';

export const FHIR_VERSION = '4.0.1';

export function capabilityStatement(base: string, modules: readonly ResourceModule[], date: string): Resource {
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date,
    publisher: 'Custodian',
    kind: 'instance',
    software: { name: 'Custodian FHIR API' },
    implementation: { description: 'Custodian: medical data shared under patient consent, read through the supergraph', url: base },
    fhirVersion: FHIR_VERSION,
    format: ['application/fhir+json', 'json'],
    rest: [
      {
        mode: 'server',
        documentation:
          'Every read runs as a GraphQL operation through the gateway, as the caller: the same token (Authorization: Bearer), purpose of use (X-Purpose-Of-Use), scopes, rate limits, consent decisions and ledger records. Unknown and hidden look the same: 404 on a read, 403 on a search scoped to a patient. Unsupported parameters are refused (400). Paging: Bundle searchset with self and next links.',
        security: { description: 'Bearer tokens: a passkey session or an API token with the read scope (see /auth).' },
        resource: modules.map((m) => ({
          type: m.type,
          documentation: m.documentation,
          interaction: [{ code: 'read' }, { code: 'search-type' }],
          searchParam: [
            { name: '_id', type: 'token', documentation: 'The logical id: the same as a read, as a searchset.' },
            ...COMMON_PARAMS,
            ...(m.sortsByDate ? [{ name: '_sort', type: 'string', documentation: 'date (oldest first) or -date (newest first, the default).' }] : []),
            ...m.params,
          ].map((p) => ({ name: p.name, type: p.type, documentation: p.documentation })),
        })),
      },
    ],
  };
}
