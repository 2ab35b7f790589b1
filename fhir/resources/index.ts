/** Every resource type the API serves, in the CapabilityStatement's order. Add a module here. */
import type { ResourceModule } from '../resource';
import { auditEvent } from './audit-event';
import { consent } from './consent';
import { device } from './device';
import { observation } from './observation';
import { organization } from './organization';
import { patient } from './patient';
import { practitioner } from './practitioner';
import { researchStudy } from './research-study';
import { researchSubject } from './research-subject';

export const RESOURCES: readonly ResourceModule[] = [patient, observation, device, consent, organization, practitioner, researchStudy, researchSubject, auditEvent];
