/**
 * Every refusal of the FHIR API is an OperationOutcome with the HTTP status that fits it
 * (FHIR R4 http.html#Status-Codes): never HTML, never a stack. `FhirError` is thrown
 * anywhere below the router and answered by it (router.ts).
 */

/** The subset of FHIR IssueType (http://hl7.org/fhir/issue-type) this API answers with. */
export type IssueType = 'invalid' | 'not-supported' | 'login' | 'forbidden' | 'not-found' | 'throttled' | 'too-costly' | 'timeout' | 'exception';

export class FhirError extends Error {
  constructor(
    readonly status: number,
    readonly issue: IssueType,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export interface OperationOutcome {
  resourceType: 'OperationOutcome';
  issue: { severity: 'fatal' | 'error' | 'warning' | 'information'; code: IssueType; diagnostics: string }[];
}

export function operationOutcome(issue: IssueType, diagnostics: string): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: issue, diagnostics }] };
}

export const invalid = (message: string) => new FhirError(400, 'invalid', message);
export const notSupported = (message: string) => new FhirError(400, 'not-supported', message);

/**
 * Unknown and hidden look the same: one message that names only what was asked for.
 * A read answers 404; a search scoped to a patient the caller may not reach answers 403.
 */
export const notFound = (type: string, id: string) => new FhirError(404, 'not-found', `${type}/${id} is not known, or not yours to see`);
export const forbiddenSearch = (what: string) => new FhirError(403, 'forbidden', `Searching ${what} is not allowed, or the reference is not known`);
