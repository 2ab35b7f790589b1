/**
 * Column builders for migrations written with TypeORM's Table API, which TypeORM turns
 * into the right DDL for SQLite and PostgreSQL alike: one migration file, two databases.
 */
import type { TableColumnOptions } from 'typeorm';

export const col = {
  id: (name = 'id'): TableColumnOptions => ({ name, type: 'varchar', length: '40', isPrimary: true }),
  ref: (name: string, nullable = false): TableColumnOptions => ({ name, type: 'varchar', length: '40', isNullable: nullable }),
  text: (name: string, length: number, nullable = false): TableColumnOptions => ({
    name,
    type: 'varchar',
    length: String(length),
    isNullable: nullable,
  }),
  /** An instant as fixed-width UTC ISO-8601 text; see `isoInstant` in database.ts. */
  instant: (name: string, nullable = false): TableColumnOptions => ({ name, type: 'varchar', length: '24', isNullable: nullable }),
  double: (name: string, nullable = false): TableColumnOptions => ({ name, type: 'double precision', isNullable: nullable }),
  int: (name: string, nullable = false): TableColumnOptions => ({ name, type: 'integer', isNullable: nullable }),
};
