import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { folderGraph, importCycles, importGraph, oversizedWithoutReason } from './support/import-graph.js';
import { repoRoot } from './support/processes.js';

// DESIGN.md: imports point down the layers only, and files stay small unless their first comment says why.
const CORE = path.join(repoRoot, 'packages/core/src');
const MAX_LINES = 300;
/**
 * The layers of packages/core/src, bottom first (README, "Layout"): a folder imports only from folders before it.
 * Of the files at the root, errors and log sit below everything, options (EngineOptions) above the drivers whose
 * options it resolves, index and client (the package's entry points) above everything.
 */
const LAYERS = ['system', 'cloners', 'snapshot', 'cache', 'drivers', 'remote', 'options.ts', 'diff', 'branch', 'pool', 'named', 'engine', 'keeper', 'server', 'runner', 'cli'];
const BELOW_ALL = ['errors.ts', 'log.ts'];

describe('packages/core/src architecture', () => {
  const graph = importGraph(CORE);

  it('has no import cycle between files', () => {
    expect(importCycles(graph)).toEqual([]);
  });

  it('has no import cycle between its top folders', () => {
    expect(importCycles(folderGraph(graph))).toEqual([]);
  });

  it('imports only down the layers', () => {
    const upward: string[] = [];
    for (const [from, targets] of folderGraph(graph)) {
      const level = LAYERS.indexOf(from);
      for (const to of targets) {
        if (BELOW_ALL.includes(to)) continue;
        const target = LAYERS.indexOf(to);
        if (level >= 0 && (target < 0 || target > level)) upward.push(`${from} → ${to}`);
        if (level < 0 && BELOW_ALL.includes(from)) upward.push(`${from} → ${to}`);
      }
    }
    expect(upward).toEqual([]);
  });

  it(`gives a reason ("Over ${MAX_LINES} lines: …" in the first comment) for every file over ${MAX_LINES} lines`, () => {
    expect(oversizedWithoutReason(CORE, MAX_LINES)).toEqual([]);
  });
});

describe('the architecture check itself', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'pgbranch-import-graph-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const write = (file: string, text: string) => {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), text);
  };
  write('a/one.ts', "// import { x } from '../b/ignored.js' is a comment, not an import\nimport type { T } from '../b/two.js';\nexport const one: T = 1;\n");
  write('b/two.ts', "import {\n  three,\n} from './three.js';\nexport type T = number;\nexport { three };\n");
  write('b/three.ts', "export * from '../a/one.js';\nexport const three = `import '../c/four.js'`;\n");
  write('c/index.ts', "import '../b/two.js';\nimport { createRequire } from 'node:module';\n");
  write('c/user.ts', "import { x } from './index.js';\n");
  write('c/one.test.ts', "import '../a/one.js';\n");
  write('long.ts', '/**\n * A long file.\n * Over 5 lines: one table that reads best whole.\n */\n\n\n');
  write('long-unexplained.ts', '// A long file.\n\n// Over 5 lines: too late, not the first comment.\n\n\n\n');
  write('long-no-reason.ts', '// Over 5 lines:\n\n\n\n\n\n');

  it('follows import type, multi-line imports, export-from and folder index files, and ignores comments, strings and tests', () => {
    expect(Object.fromEntries(importGraph(root))).toEqual({
      'a/one.ts': ['b/two.ts'],
      'b/three.ts': ['a/one.ts'],
      'b/two.ts': ['b/three.ts'],
      'c/index.ts': ['b/two.ts'],
      'c/user.ts': ['c/index.ts'],
      'long-no-reason.ts': [],
      'long-unexplained.ts': [],
      'long.ts': [],
    });
  });

  it('prints each file cycle once as a path, and folder cycles without the edges inside a folder', () => {
    const graph = importGraph(root);
    expect(importCycles(graph)).toEqual(['a/one.ts → b/two.ts → b/three.ts → a/one.ts']);
    expect(importCycles(folderGraph(graph))).toEqual(['a → b → a']);
  });

  it('names long files whose first comment gives no reason', () => {
    expect(oversizedWithoutReason(root, 5)).toEqual(['long-no-reason.ts (6 lines)', 'long-unexplained.ts (6 lines)']);
  });
});
