import type { Knex } from '@mikro-orm/knex';

/** A timestamp column as every plugin stores time: with its time zone (UTC in practice), NOT NULL unless said. */
export function timestampColumn(t: Knex.CreateTableBuilder, name: string, nullable = false): Knex.ColumnBuilder {
  const c = t.timestamp(name, { useTz: true });
  return nullable ? c.nullable() : c.notNullable();
}
