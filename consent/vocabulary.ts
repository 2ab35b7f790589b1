/** The words of consent: data categories, actions, purposes — and what each role may claim. */
import { PURPOSES, type Purpose } from '../common/signed-identity';

export const CATEGORIES = ['DEMOGRAPHICS', 'LABS', 'DEVICES', 'RESEARCH', 'CONSENT', 'AUDIT'] as const;
export type Category = (typeof CATEGORIES)[number];

/** Categories a patient can grant to others (CONSENT and AUDIT are not shared by consent). */
export const GRANTABLE: readonly Category[] = ['DEMOGRAPHICS', 'LABS', 'DEVICES', 'RESEARCH'];

export const ACTIONS = ['read', 'write'] as const;
export type Action = (typeof ACTIONS)[number];

export { PURPOSES, type Purpose };

/** Fields that carry no patient data (an institution's name, a project's title). */
export const PUBLIC = 'PUBLIC' as const;
export type FieldCategory = Category | typeof PUBLIC;
