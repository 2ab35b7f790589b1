// @ts-check
/**
 * A device's readings over a period, gathered page by page from `Device.readings`
 * (at most 100 a page): the pages are followed until the period is covered, or until the
 * cap — a device that records every minute sends 43,200 readings of each metric in 30
 * days, more than a page should fetch or a chart can show — and the caller says so.
 */
import { graphql, readable } from './api.js';

export const READINGS_QUERY = `query DeviceReadings($id: ID!, $since: DateTime, $until: DateTime, $first: Int, $after: String) {
  device(id: $id) {
    readings(since: $since, until: $until, oldestFirst: true, first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      nodes { metric value unit recordedAt }
    }
  }
}`;

/** Pages per period at most (of PAGE_SIZE readings): 2,000 readings. */
export const MAX_PAGES = 20;
export const PAGE_SIZE = 100;

/**
 * @typedef {{ metric: string, value: number, unit: string, recordedAt: string }} Reading
 * @typedef {{ readings: Reading[], total: number, capped: boolean, pages: number, error?: string }} Collected
 */

/**
 * Readings of `deviceId` in [since, until), oldest first.
 * @param {string} deviceId
 * @param {Date} since
 * @param {Date} until
 * @param {{ purpose?: string, pageSize?: number, maxPages?: number }} [options]
 * @returns {Promise<Collected>}
 */
export async function collectReadings(deviceId, since, until, options = {}) {
  const pageSize = options.pageSize ?? PAGE_SIZE;
  const maxPages = options.maxPages ?? MAX_PAGES;
  /** @type {Reading[]} */
  const readings = [];
  let after = null;
  let total = 0;
  for (let pages = 1; ; pages++) {
    const { data, errors } = await graphql(READINGS_QUERY, { id: deviceId, since: since.toISOString(), until: until.toISOString(), first: pageSize, after }, { purpose: options.purpose });
    const conn = data?.device?.readings;
    if (!conn) return { readings, total, capped: false, pages, error: readable(errors?.[0] ?? { message: 'The readings could not be loaded.' }) };
    total = conn.totalCount;
    readings.push(...conn.nodes);
    if (!conn.pageInfo.hasNextPage) return { readings, total, capped: false, pages };
    if (pages >= maxPages) return { readings, total, capped: true, pages };
    after = conn.pageInfo.endCursor;
  }
}
