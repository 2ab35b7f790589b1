import { type MigrationInterface, type QueryRunner, TableColumn } from 'typeorm';
import { col } from '../../../common/migration';

/**
 * The tree sizes each note key signs (see LedgerVerifierKey), for key rotation.
 *
 * Keys recorded before this were swapped without an announcement; the backfill gives the
 * oldest fromSize 0 and each later one the first checkpoint published after its first
 * use, and retires each at the last checkpoint before its successor's. That is what the
 * ledger did; a verifier that walks these keys will (rightly) find no announcement for
 * such a swap.
 */
export class LedgerKeySizes1765000000000 implements MigrationInterface {
  name = 'LedgerKeySizes1765000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumns('ledger_key', [new TableColumn(col.int('from_size', true)), new TableColumn(col.int('retired_at_size', true))]);
    const keys: { verifier_key: string; first_used_at: string }[] = await q.manager
      .createQueryBuilder()
      .select(['k.verifier_key AS verifier_key', 'k.first_used_at AS first_used_at'])
      .from('ledger_key', 'k')
      .orderBy('k.first_used_at', 'ASC')
      .addOrderBy('k.verifier_key', 'ASC')
      .getRawMany();
    const firstSizeFrom = async (at: string): Promise<number | null> => {
      const row: { size: number | string | null } | undefined = await q.manager
        .createQueryBuilder()
        .select('MIN(c.size)', 'size')
        .from('ledger_checkpoint', 'c')
        .where('c.published_at >= :at', { at })
        .getRawOne();
      return row?.size == null ? null : Number(row.size);
    };
    let previous: string | null = null;
    for (const [i, key] of keys.entries()) {
      const fromSize = i === 0 ? 0 : await firstSizeFrom(key.first_used_at);
      await sql(q, 'UPDATE ledger_key SET from_size = :size WHERE verifier_key = :key', { size: fromSize ?? 0, key: key.verifier_key });
      if (previous !== null) {
        const last: { size: number | string | null } | undefined = await q.manager
          .createQueryBuilder()
          .select('MAX(c.size)', 'size')
          .from('ledger_checkpoint', 'c')
          .where('c.size < :s', { s: fromSize ?? 0 })
          .getRawOne();
        await sql(q, 'UPDATE ledger_key SET retired_at_size = :size WHERE verifier_key = :key', { size: last?.size == null ? 0 : Number(last.size), key: previous });
      }
      previous = key.verifier_key;
    }
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('ledger_key', 'retired_at_size');
    await q.dropColumn('ledger_key', 'from_size');
  }
}

/** Plain SQL: the entity of `ledger_key` describes the table after this migration, so no query builder by entity here. */
function sql(q: QueryRunner, text: string, params: Record<string, unknown>): Promise<unknown> {
  const [query, values] = q.connection.driver.escapeQueryWithParameters(text, params);
  return q.query(query, values);
}
