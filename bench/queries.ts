/** The clinician's cross-subgraph patient view every gateway scenario of the benchmark sends. */
export const PATIENT_VIEW = `query PatientView($id: ID!) {
  patient(id: $id) {
    id name { text } birthDate sex identifiers { system value } institution { name }
    labResults(first: 5) { totalCount nodes { code { code display } value unit interpretation effectiveAt } }
    devices { kind model readings(first: 5) { nodes { metric value unit recordedAt } } }
    researchProjects { status project { title } }
  }
}`;
