import type pg from 'pg';

/** A sequence and the value it has reached (`last_value`, as text: a bigint). `name` is `schema.sequence`, unquoted. */
export interface SequenceValue {
  name: string;
  value: string;
}

/**
 * The last value of every user sequence that has been used (identity columns' sequences included), by name. Sequences
 * never called have no value and are left out: there is nothing to move a target's sequence forward to.
 */
export async function sequenceValues(client: pg.ClientBase): Promise<SequenceValue[]> {
  const { rows } = await client.query<SequenceValue>(
    `SELECT schemaname || '.' || sequencename AS name, last_value::text AS value
       FROM pg_sequences
      WHERE schemaname <> 'information_schema' AND schemaname NOT LIKE 'pg\\_%' AND last_value IS NOT NULL
      ORDER BY 1`,
  );
  return rows;
}

/**
 * Moves each sequence forward to at least the given value (the source's), so that values the merged rows took are
 * not handed out again: `setval(greatest(target's last_value, value))`, or the least for descending sequences. A
 * sequence the target does not have is skipped (the schema half of the merge decided so). Returns the names moved.
 *
 * setval is not undone by a rollback; the merge runs it last, right before COMMIT, and a sequence moved forward
 * by a merge that then fails only skips values.
 */
export async function moveSequences(client: pg.ClientBase, sequences: SequenceValue[]): Promise<string[]> {
  if (sequences.length === 0) return [];
  const { rows } = await client.query<{ name: string }>(
    `SELECT v.name, setval(format('%I.%I', s.schemaname, s.sequencename)::regclass, v.value, true)
       FROM jsonb_to_recordset($1::jsonb) AS v(name text, value bigint)
       JOIN pg_sequences AS s ON s.schemaname || '.' || s.sequencename = v.name
      WHERE s.last_value IS NULL
         OR (s.increment_by > 0 AND v.value > s.last_value)
         OR (s.increment_by < 0 AND v.value < s.last_value)
      ORDER BY 1`,
    [JSON.stringify(sequences.map((s) => ({ name: s.name, value: s.value })))],
  );
  return rows.map((r) => r.name);
}
