/**
 * The fixed part of the synthetic world: institutions, research projects, and how lab
 * values are distributed. Everything here is fictional.
 */
import type { InstitutionKind } from '../subgraphs/patients/entities';
import type { ProjectStatus } from '../subgraphs/research/entities';

export interface InstitutionSeed {
  key: string;
  name: string;
  kind: InstitutionKind;
  country: string;
  clinicians: number;
  researchers: number;
}

export const INSTITUTIONS: readonly InstitutionSeed[] = [
  { key: 'northbridge', name: 'Northbridge University Hospital', kind: 'HOSPITAL', country: 'GB', clinicians: 6, researchers: 2 },
  { key: 'lakeside', name: 'Lakeside General Hospital', kind: 'HOSPITAL', country: 'US', clinicians: 5, researchers: 1 },
  { key: 'westfjord', name: 'Westfjord Medical Centre', kind: 'HOSPITAL', country: 'NO', clinicians: 4, researchers: 1 },
  { key: 'meridian-lab', name: 'Meridian Clinical Laboratories', kind: 'LABORATORY', country: 'US', clinicians: 0, researchers: 0 },
  { key: 'rhone-institute', name: 'Institut Rhône de Recherche Biomédicale', kind: 'RESEARCH_INSTITUTE', country: 'FR', clinicians: 0, researchers: 4 },
];

export interface ProjectSeed {
  key: string;
  title: string;
  purpose: string;
  status: ProjectStatus;
  institution: string;
  /** Who is eligible, and with which probability an eligible patient enrols. */
  cohort: 'everyone' | 'diabetic' | 'renal';
  enrolProbability: number;
}

export const PROJECTS: readonly ProjectSeed[] = [
  {
    key: 'rare-dx',
    title: 'Faster diagnosis of rare metabolic diseases',
    purpose: 'Find patterns in routine lab results that point to rare metabolic diseases years earlier.',
    status: 'RECRUITING',
    institution: 'rhone-institute',
    cohort: 'everyone',
    enrolProbability: 0.03,
  },
  {
    key: 'melanoma',
    title: 'Melanoma immunotherapy outcomes registry',
    purpose: 'Follow blood counts and kidney function of melanoma patients during immunotherapy.',
    status: 'ACTIVE',
    institution: 'northbridge',
    cohort: 'everyone',
    enrolProbability: 0.05,
  },
  {
    key: 'glycaemia',
    title: 'Continuous glucose monitoring in type 2 diabetes',
    purpose: 'Compare HbA1c with continuous glucose readings to improve diabetes care.',
    status: 'ACTIVE',
    institution: 'lakeside',
    cohort: 'diabetic',
    enrolProbability: 0.6,
  },
  {
    key: 'ckd',
    title: 'Early markers of chronic kidney disease',
    purpose: 'Study how creatinine changes over years before chronic kidney disease is diagnosed.',
    status: 'PLANNED',
    institution: 'westfjord',
    cohort: 'renal',
    enrolProbability: 0.5,
  },
];

/** Per analyte: typical mean and spread for a healthy adult and for the at-risk group. */
export const LAB_PROFILES: Record<string, { healthy: [number, number]; atRisk: [number, number]; decimals: number }> = {
  '4548-4': { healthy: [5.3, 0.3], atRisk: [7.6, 1.1], decimals: 1 }, // HbA1c %, at risk = diabetic
  '2345-7': { healthy: [88, 9], atRisk: [150, 35], decimals: 0 }, // glucose mg/dL
  '13457-7': { healthy: [105, 25], atRisk: [140, 30], decimals: 0 }, // LDL mg/dL
  '2160-0': { healthy: [0.9, 0.15], atRisk: [1.9, 0.5], decimals: 2 }, // creatinine mg/dL, at risk = renal
  '718-7': { healthy: [14.2, 1.2], atRisk: [11.5, 1.3], decimals: 1 }, // hemoglobin g/dL
};
