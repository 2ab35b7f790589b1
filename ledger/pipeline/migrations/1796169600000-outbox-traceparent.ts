import { type MigrationInterface, type QueryRunner, TableColumn } from 'typeorm';
import { col } from '../../../common/migration';

/**
 * The trace context of the request that wrote an outbox row (a W3C `traceparent`, 55
 * characters; NULL when tracing is off), so the ledger's append span joins that request's
 * trace. Beside the payload, never in it: it does not enter the leaf (ledger/pipeline/tracing.ts).
 */
export class OutboxTraceparent1796169600000 implements MigrationInterface {
  name = 'OutboxTraceparent1796169600000';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumn('outbox', new TableColumn(col.text('traceparent', 55, true)));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('outbox', 'traceparent');
  }
}
