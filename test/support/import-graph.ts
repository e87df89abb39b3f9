import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/** Source files (relative paths, `/`-separated) and, for each, the source files it imports. */
export type ImportGraph = Map<string, string[]>;

/** The non-test `.ts` files under `root`, relative to it, sorted. */
export function sourceFiles(root: string): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') && !entry.name.endsWith('.d.ts')) files.push(path.relative(root, full).split(path.sep).join('/'));
    }
  };
  walk(root);
  return files.sort();
}

/**
 * Every `import … from`, `import type … from`, side-effect `import '…'` and `export … from` statement of each file
 * that names a relative module, resolved from its `.js` specifier to the `.ts` file (or `index.ts` of a folder).
 * Dynamic `import()` calls are not statements and are not counted. Throws on a specifier that names no file.
 */
export function importGraph(root: string): ImportGraph {
  const graph: ImportGraph = new Map();
  for (const file of sourceFiles(root)) {
    const source = ts.createSourceFile(file, readFileSync(path.join(root, file), 'utf8'), ts.ScriptTarget.Latest, false);
    const targets = new Set<string>();
    for (const statement of source.statements) {
      const specifier = (ts.isImportDeclaration(statement) || ts.isExportDeclaration(statement)) && statement.moduleSpecifier;
      if (!specifier || !ts.isStringLiteral(specifier) || !specifier.text.startsWith('.')) continue;
      targets.add(resolveSpecifier(root, file, specifier.text));
    }
    graph.set(file, [...targets].sort());
  }
  return graph;
}

function resolveSpecifier(root: string, from: string, specifier: string): string {
  const base = path.posix.join(path.posix.dirname(from), specifier);
  const candidates = [base.replace(/\.js$/, '.ts'), `${base}.ts`, `${base}/index.ts`];
  const found = candidates.find((c) => existsSync(path.join(root, c)) && c.endsWith('.ts'));
  if (!found) throw new Error(`${from} imports '${specifier}', which names no .ts file under ${root}`);
  return found;
}

/** The graph between top-level units: a file's first folder under the root, or the file itself at the root. */
export function folderGraph(graph: ImportGraph): ImportGraph {
  const unit = (file: string) => file.split('/')[0]!;
  const folders = new Map<string, Set<string>>();
  for (const [file, targets] of graph) {
    const from = unit(file);
    const edges = folders.get(from) ?? new Set<string>();
    for (const target of targets) if (unit(target) !== from) edges.add(unit(target));
    folders.set(from, edges);
  }
  return new Map([...folders].map(([k, v]) => [k, [...v].sort()]));
}

/**
 * The import cycles of a graph, each printed as a path that returns to its start (`a → b → a`): for every node that
 * lies on a cycle, the shortest cycle through it, each distinct cycle once, starting at its smallest node.
 */
export function importCycles(graph: ImportGraph): string[] {
  const cycles = new Set<string>();
  for (const component of stronglyConnected(graph)) {
    const members = new Set(component);
    for (const start of component) {
      const cycle = shortestCycle(graph, start, members);
      if (cycle) cycles.add(rotateToSmallest(cycle).concat(rotateToSmallest(cycle)[0]!).join(' → '));
    }
  }
  return [...cycles].sort();
}

/** Breadth-first from `start` back to itself, staying inside its strongly connected component. */
function shortestCycle(graph: ImportGraph, start: string, members: Set<string>): string[] | undefined {
  const previous = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const node = queue.shift()!;
    for (const next of graph.get(node) ?? []) {
      if (!members.has(next)) continue;
      if (next === start) {
        const cycle = [node];
        while (cycle[0] !== start) cycle.unshift(previous.get(cycle[0]!)!);
        return cycle;
      }
      if (!previous.has(next)) {
        previous.set(next, node);
        queue.push(next);
      }
    }
  }
  return undefined;
}

function rotateToSmallest(cycle: string[]): string[] {
  const smallest = [...cycle].sort()[0]!;
  const at = cycle.indexOf(smallest);
  return [...cycle.slice(at), ...cycle.slice(0, at)];
}

/** Tarjan's algorithm; only components that hold a cycle (two or more nodes, or a node importing itself). */
function stronglyConnected(graph: ImportGraph): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (node: string) => {
    index.set(node, counter);
    low.set(node, counter++);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) low.set(node, Math.min(low.get(node)!, index.get(next)!));
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    if (component.length > 1 || graph.get(node)?.includes(node)) components.push(component.sort());
  };
  for (const node of [...graph.keys()].sort()) if (!index.has(node)) visit(node);
  return components;
}

/** The text of a file's first comment (a block comment, or a run of adjacent `//` lines), one entry per line. */
export function firstCommentBlock(text: string): string[] {
  const scanner = ts.createScanner(ts.ScriptTarget.Latest, false, ts.LanguageVariant.Standard, text);
  const lines: string[] = [];
  let newlines = 0;
  for (let token = scanner.scan(); token !== ts.SyntaxKind.EndOfFileToken; token = scanner.scan()) {
    if (token === ts.SyntaxKind.MultiLineCommentTrivia && lines.length === 0) {
      return scanner.getTokenText().replace(/^\/\*+|\*+\/$/g, '').split('\n').map((l) => l.replace(/^\s*\*?\s?/, '').trim());
    }
    if (token === ts.SyntaxKind.SingleLineCommentTrivia) {
      lines.push(scanner.getTokenText().replace(/^\/\/+\s?/, '').trim());
      newlines = 0;
    } else if (token === ts.SyntaxKind.NewLineTrivia) newlines++;
    // A blank line or code ends a run of `//` lines.
    if (lines.length > 0 && (newlines > 1 || (token !== ts.SyntaxKind.SingleLineCommentTrivia && token !== ts.SyntaxKind.NewLineTrivia && token !== ts.SyntaxKind.WhitespaceTrivia))) break;
  }
  return lines;
}

/** Source files longer than `maxLines` whose first comment gives no `Over N lines:` reason, as `path (N lines)`. */
export function oversizedWithoutReason(root: string, maxLines: number): string[] {
  const marker = `Over ${maxLines} lines:`;
  return sourceFiles(root).flatMap((file) => {
    const text = readFileSync(path.join(root, file), 'utf8');
    const lines = text.endsWith('\n') ? text.split('\n').length - 1 : text.split('\n').length;
    if (lines <= maxLines) return [];
    const reasoned = firstCommentBlock(text).some((l) => l.startsWith(marker) && l.slice(marker.length).trim() !== '');
    return reasoned ? [] : [`${file} (${lines} lines)`];
  });
}
