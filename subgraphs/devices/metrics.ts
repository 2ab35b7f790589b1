/** What each kind of device measures, in which UCUM unit, and which values are plausible. */

export type DeviceKind = 'SMARTWATCH' | 'PULSE_OXIMETER' | 'CGM';
export type Metric = 'HEART_RATE' | 'SPO2' | 'GLUCOSE';

export interface MetricSpec {
  unit: string;
  /** Values outside are physiologically impossible: a sensor fault, not data. */
  min: number;
  max: number;
}

export const METRICS: Record<Metric, MetricSpec> = {
  HEART_RATE: { unit: '/min', min: 20, max: 300 },
  SPO2: { unit: '%', min: 50, max: 100 },
  GLUCOSE: { unit: 'mg/dL', min: 20, max: 600 },
};

export const METRICS_BY_KIND: Record<DeviceKind, readonly Metric[]> = {
  SMARTWATCH: ['HEART_RATE', 'SPO2'],
  PULSE_OXIMETER: ['SPO2', 'HEART_RATE'],
  CGM: ['GLUCOSE'],
};
