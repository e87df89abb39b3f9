/** A package manager as a user runs it, with the settings of the cell. */
export type Manager =
  | { kind: 'npm' }
  /** pnpm 12 exactly as installed: no allowBuilds, so it refuses to run the embedded binaries' postinstall. */
  | { kind: 'pnpm' }
  /** Yarn 4 from the registry; `nodeLinker` and `enableScripts` go into the project's .yarnrc.yml. */
  | { kind: 'yarn'; nodeLinker: 'node-modules' | 'pnp'; enableScripts?: boolean };

export type Template = 'vitest-esm' | 'jest-ts-cjs' | 'jest-js-cjs';

/** One cell of the matrix: a fresh project, one package manager, one runner version, one Node. */
export interface Cell {
  name: string;
  manager: Manager;
  template: Template;
  /** The project's devDependencies besides the pgbranch tarballs. */
  devDependencies: Record<string, string>;
  /** Node major to put first on PATH; undefined runs the machine's own Node. */
  node?: 22 | 24;
  /** Tests in the template's suite, all of which must pass. */
  tests: number;
  /** A package that must be installed once only, at this major (the user's own, not a second copy). */
  singleCopy?: { name: string; major: number };
}

const vitestDeps = (vitest: string) => ({ vitest, pg: '^8.16.0' });
const VITEST_TESTS = 6;
const JEST_TESTS = 6;

export const CELLS: Cell[] = [
  { name: 'pnpm 12 (default settings) + vitest 4', manager: { kind: 'pnpm' }, template: 'vitest-esm', devDependencies: vitestDeps('~4.1.0'), tests: VITEST_TESTS },
  { name: 'npm + vitest 4', manager: { kind: 'npm' }, template: 'vitest-esm', devDependencies: vitestDeps('~4.1.0'), tests: VITEST_TESTS },
  {
    name: 'yarn 4 (node-modules, enableScripts: false) + vitest 4',
    manager: { kind: 'yarn', nodeLinker: 'node-modules', enableScripts: false },
    template: 'vitest-esm',
    devDependencies: vitestDeps('~4.1.0'),
    tests: VITEST_TESTS,
  },
  { name: 'yarn 4 (PnP, default settings) + vitest 4', manager: { kind: 'yarn', nodeLinker: 'pnp' }, template: 'vitest-esm', devDependencies: vitestDeps('~4.1.0'), tests: VITEST_TESTS },
  {
    name: 'npm + jest 30 + ts-jest (CommonJS TypeScript)',
    manager: { kind: 'npm' },
    template: 'jest-ts-cjs',
    devDependencies: { jest: '^30.0.0', 'ts-jest': '^29.4.0', typescript: '~5.9.0', '@types/jest': '^30.0.0', '@types/node': '^20.19.0', '@types/pg': '^8.15.0', pg: '^8.16.0' },
    tests: JEST_TESTS,
  },
  { name: 'npm + jest 29 (CommonJS JavaScript)', manager: { kind: 'npm' }, template: 'jest-js-cjs', devDependencies: { jest: '^29.7.0', pg: '^8.16.0' }, tests: JEST_TESTS, singleCopy: { name: 'jest-environment-node', major: 29 } },
  {
    name: 'pnpm 12 (default settings) + jest 29',
    manager: { kind: 'pnpm' },
    template: 'jest-js-cjs',
    devDependencies: { jest: '^29.7.0', pg: '^8.16.0' },
    tests: JEST_TESTS,
    singleCopy: { name: 'jest-environment-node', major: 29 },
  },
  { name: 'npm + vitest 3.2', manager: { kind: 'npm' }, template: 'vitest-esm', devDependencies: vitestDeps('~3.2.0'), tests: VITEST_TESTS },
  { name: 'npm + vitest 4 on Node 22', manager: { kind: 'npm' }, template: 'vitest-esm', devDependencies: vitestDeps('~4.1.0'), node: 22, tests: VITEST_TESTS },
  { name: 'npm + vitest 4 on Node 24', manager: { kind: 'npm' }, template: 'vitest-esm', devDependencies: vitestDeps('~4.1.0'), node: 24, tests: VITEST_TESTS },
];
