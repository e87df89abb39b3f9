import type { SchemaChange, SchemaConflict, SchemaObject, SchemaObjectKind } from '../types.js';

const SIGNS = { added: '+', dropped: '-', changed: '~' } as const;

/** Objects that sit on a table: shown without `public.` (`accounts.email`), since their table already places them. */
const ON_TABLE: readonly SchemaObjectKind[] = ['column', 'constraint', 'index', 'trigger'];

/** How a change's kind and id read: `materialized view` for those; `public.` dropped from table-bound objects. */
function label(kind: SchemaObjectKind, id: string, object: SchemaObject | undefined): string {
  const shown = ON_TABLE.includes(kind) && id.startsWith('public.') ? id.slice('public.'.length) : id;
  const named = kind === 'view' && object?.definition.startsWith('materialized view') ? 'materialized view' : kind;
  return `${named} ${shown}`;
}

/** One short line: `+index accounts_email_idx`, `-column accounts.note`, `~function public.touch()`, `+table public.audit`. */
export function describeSchemaChange(change: SchemaChange): string {
  return `${SIGNS[change.change]}${label(change.kind, change.id, change.after ?? change.before)}`;
}

/** One short line: `function public.touch(): changed on both sides`, `table public.audit: dropped by theirs, changed by ours`. */
export function describeSchemaConflict(conflict: SchemaConflict): string {
  const side = (o: SchemaObject | undefined) => (!o ? 'dropped' : !conflict.base ? 'added' : o.definition === conflict.base.definition ? 'kept' : 'changed');
  const ours = side(conflict.ours);
  const theirs = side(conflict.theirs);
  const what =
    ours === theirs ? `${ours} differently on both sides`
    : ours === 'kept' ? `${theirs} by theirs, while ours changed its parts`
    : theirs === 'kept' ? `${ours} by ours, while theirs changed its parts`
    : `${ours} by ours, ${theirs} by theirs`;
  return `${label(conflict.kind, conflict.id, conflict.theirs ?? conflict.ours ?? conflict.base)}: ${what}`;
}
