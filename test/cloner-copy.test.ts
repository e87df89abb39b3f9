import { branchingSuite } from './support/branching-suite.js';

branchingSuite('copy', 'suite');
