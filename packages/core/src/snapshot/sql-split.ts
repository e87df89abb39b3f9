/** One statement of a SQL file, with where it starts (for error messages). */
export interface SqlStatement {
  text: string;
  /** Character offset of the statement's first character in the file. */
  offset: number;
}

/**
 * Splits SQL text into statements on top-level semicolons, aware of quotes ('…', E'…', "…"),
 * dollar quotes ($tag$…$tag$), comments (--, nested /* *\/) and SQL-standard function bodies
 * (BEGIN ATOMIC … END). Empty statements (only whitespace/comments) are dropped.
 */
export function splitSql(sql: string): SqlStatement[] {
  const out: SqlStatement[] = [];
  let start = 0;
  let i = 0;
  let atomicDepth = 0;
  let caseDepth = 0;
  const push = (end: number): void => {
    const text = sql.slice(start, end);
    if (hasCode(text)) {
      const lead = text.length - text.trimStart().length;
      out.push({ text: text.trim(), offset: start + lead });
    }
    start = end + 1;
  };
  while (i < sql.length) {
    const c = sql[i]!;
    const next = sql[i + 1];
    if (c === '-' && next === '-') {
      i = lineEnd(sql, i);
    } else if (c === '/' && next === '*') {
      i = blockCommentEnd(sql, i);
    } else if (c === "'") {
      const escapes = /[eE]/.test(sql[i - 1] ?? '') && !/[\w$]/.test(sql[i - 2] ?? '');
      i = quoteEnd(sql, i, "'", escapes);
    } else if (c === '"') {
      i = quoteEnd(sql, i, '"', false);
    } else if (c === '$' && !/[\w$]/.test(sql[i - 1] ?? '')) {
      const tag = /^\$([A-Za-z_][\w]*)?\$/.exec(sql.slice(i));
      if (tag) {
        const close = sql.indexOf(tag[0], i + tag[0].length);
        i = close < 0 ? sql.length : close + tag[0].length;
      } else i++;
    } else if (/[A-Za-z_]/.test(c) && !/[\w$]/.test(sql[i - 1] ?? '')) {
      const word = /^[A-Za-z_][\w$]*/.exec(sql.slice(i, i + 64))![0].toUpperCase();
      if (word === 'ATOMIC' && /BEGIN\s+$/i.test(sql.slice(Math.max(0, i - 16), i))) atomicDepth++;
      else if (atomicDepth > 0 && word === 'CASE') caseDepth++;
      else if (atomicDepth > 0 && word === 'END') {
        if (caseDepth > 0) caseDepth--;
        else atomicDepth--;
      }
      i += word.length;
    } else if (c === ';' && atomicDepth === 0) {
      push(i);
      i++;
    } else i++;
  }
  push(sql.length);
  return out;
}

/** 1-based line and column of a character offset. */
export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
}

function hasCode(text: string): boolean {
  return splitComments(text).trim().length > 0;
}

function splitComments(text: string): string {
  return text.replace(/--[^\n]*/g, '').replace(/\/\*[\s\S]*?\*\//g, '');
}

function lineEnd(sql: string, i: number): number {
  const nl = sql.indexOf('\n', i);
  return nl < 0 ? sql.length : nl + 1;
}

function blockCommentEnd(sql: string, i: number): number {
  let depth = 0;
  while (i < sql.length) {
    if (sql[i] === '/' && sql[i + 1] === '*') {
      depth++;
      i += 2;
    } else if (sql[i] === '*' && sql[i + 1] === '/') {
      depth--;
      i += 2;
      if (depth === 0) return i;
    } else i++;
  }
  return i;
}

function quoteEnd(sql: string, i: number, quote: string, backslashEscapes: boolean): number {
  i++;
  while (i < sql.length) {
    const c = sql[i]!;
    if (backslashEscapes && c === '\\') i += 2;
    else if (c === quote && sql[i + 1] === quote) i += 2;
    else if (c === quote) return i + 1;
    else i++;
  }
  return i;
}
