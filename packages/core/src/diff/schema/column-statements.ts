import type { SchemaColumn, SchemaObject } from '../types.js';

/**
 * The ALTER TABLE statements that turn column `before` into column `after` in place, or null when only dropping and
 * adding it again can (identity or generation changed in a way ALTER COLUMN cannot express).
 */
export function alterColumn(before: SchemaObject, after: SchemaObject): string[] | null {
  const b = before.column;
  const a = after.column;
  if (!b || !a || !after.sqlName) return null;
  const generation = alterGeneration(b, a);
  if (generation === null) return null;
  const alter = (what: string) => `ALTER TABLE ${a.table} ALTER COLUMN ${after.sqlName} ${what}`;
  const out: string[] = [];
  if (before.sqlName && before.sqlName !== after.sqlName) out.push(`ALTER TABLE ${a.table} RENAME COLUMN ${before.sqlName} TO ${after.sqlName}`);
  const retyped = a.type !== b.type || a.collation !== b.collation;
  if (b.default !== undefined && (retyped || a.default !== b.default)) out.push(alter('DROP DEFAULT'));
  if (b.identity && !a.identity) out.push(alter('DROP IDENTITY'));
  if (retyped) {
    const collate = a.collation ? ` COLLATE ${a.collation}` : '';
    out.push(alter(`TYPE ${a.type}${collate} USING ${after.sqlName}::${a.type}`));
  }
  if (a.default !== undefined && (retyped || a.default !== b.default)) out.push(alter(`SET DEFAULT ${a.default}`));
  if (a.identity && !b.identity) out.push(alter(`ADD GENERATED ${identityWords(a.identity)} AS IDENTITY`));
  else if (a.identity && b.identity && a.identity !== b.identity) out.push(alter(`SET GENERATED ${identityWords(a.identity)}`));
  out.push(...generation.map(alter));
  if (a.notNull !== b.notNull) out.push(alter(a.notNull ? 'SET NOT NULL' : 'DROP NOT NULL'));
  return out;
}

const identityWords = (identity: 'always' | 'by default') => (identity === 'always' ? 'ALWAYS' : 'BY DEFAULT');

/** The ALTER COLUMN clauses for a change of generation expression; null when the column must be recreated. */
function alterGeneration(b: SchemaColumn, a: SchemaColumn): string[] | null {
  if (!b.generated && !a.generated) return [];
  if (b.generated && a.generated && b.generated.stored === a.generated.stored) {
    return b.generated.expression === a.generated.expression ? [] : [`SET EXPRESSION AS (${a.generated.expression})`];
  }
  if (b.generated?.stored && !a.generated) return ['DROP EXPRESSION'];
  return null;
}
