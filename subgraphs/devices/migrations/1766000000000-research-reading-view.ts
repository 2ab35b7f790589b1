import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * research_reading: each reading with its device's owner and kind — the rows of a
 * research subject's series (ResearchSubject.readings), which is paged per patient in one
 * windowed query (kit/child-pages.ts) and so needs the owner as a column. A plain view:
 * SQLite and PostgreSQL both fold it into the query, using the tables' indexes.
 */
export class ResearchReadingView1766000000000 implements MigrationInterface {
  name = 'ResearchReadingView1766000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      'CREATE VIEW research_reading AS ' +
        'SELECT r.id AS id, r.metric AS metric, r.value AS value, r.unit AS unit, r.recorded_at AS recorded_at, ' +
        'd.kind AS device_kind, d.owner_patient_id AS owner_patient_id ' +
        'FROM device_reading r JOIN device d ON d.id = r.device_id',
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP VIEW research_reading');
  }
}
