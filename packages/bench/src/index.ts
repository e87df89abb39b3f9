export { runBench, type BenchOptions } from './runner.js';
export { renderMarkdown, type BenchRun } from './report/markdown.js';
export { renderChart } from './report/svg.js';
export { SCENARIOS } from './scenarios/index.js';
export type { BenchContext, ChartSpec, MethodResult, ReferenceFigure, Scenario, ScenarioResult } from './types.js';
