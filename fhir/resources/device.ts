/** Device ← `device(id)` and a patient's `devices` (DEVICES consent of the owner). */
import { referencedHubId, toFhirId, toHubId } from '../ids';
import { forbiddenSearch, invalid, notFound } from '../outcome';
import { pageOfList } from '../paging';
import type { FhirContext, Resource, ResourceModule } from '../resource';
import type { SearchQuery } from '../search';
import { fetchData } from '../supergraph';
import { ref } from '../terminology';
import { PATIENT_PREFIXES } from './patient';

const FIELDS = 'id kind model serial owner { id }';
const KIND_DISPLAY: Record<string, string> = { SMARTWATCH: 'Smartwatch (heart rate, SpO2)', PULSE_OXIMETER: 'Pulse oximeter', CGM: 'Continuous glucose monitor' };

interface DeviceNode {
  id: string;
  kind: string;
  model: string;
  serial: string;
  owner: { id: string };
}

export function toDevice(d: DeviceNode): Resource {
  return {
    resourceType: 'Device',
    id: toFhirId(d.id),
    status: 'active',
    serialNumber: d.serial,
    modelNumber: d.model,
    deviceName: [{ name: d.model, type: 'model-name' }],
    type: { coding: [{ system: 'urn:custodian:device-kind', code: d.kind, display: KIND_DISPLAY[d.kind] ?? d.kind }], text: KIND_DISPLAY[d.kind] ?? d.kind },
    patient: ref('Patient', toFhirId(d.owner.id)),
  };
}

async function read(ctx: FhirContext, fhirId: string): Promise<Resource> {
  const id = toHubId(fhirId, ['dev']);
  const denied = () => notFound('Device', fhirId);
  if (!id) throw denied();
  const data = await fetchData<{ device: DeviceNode | null }>(ctx.run, `query FhirDevice($id: ID!) { device(id: $id) { ${FIELDS} } }`, { id }, { denied });
  if (!data.device) throw denied();
  return toDevice(data.device);
}

async function search(ctx: FhirContext, q: SearchQuery) {
  const patient = q.get('patient');
  if (patient === undefined) throw invalid('Device searches need patient: the hub answers per patient');
  const id = referencedHubId(patient, 'Patient', PATIENT_PREFIXES);
  const denied = () => forbiddenSearch(`this patient's devices`);
  const data = await fetchData<{ patient: { devices: DeviceNode[] | null } | null }>(ctx.run, `query FhirDevices($id: ID!) { patient(id: $id) { devices { ${FIELDS} } } }`, { id }, { denied });
  if (!data.patient?.devices) throw denied();
  // A patient has a handful of devices: paged by offset (../paging.ts).
  return pageOfList(data.patient.devices.map(toDevice), q);
}

export const device: ResourceModule = {
  type: 'Device',
  documentation: "A patient's biometric devices (DEVICES consent of the owner).",
  params: [{ name: 'patient', type: 'reference', documentation: 'The owner (Patient/pat-…); required.' }],
  sortsByDate: false,
  read,
  search,
};
