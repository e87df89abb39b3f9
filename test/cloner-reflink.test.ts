import { branchingSuite } from './support/branching-suite.js';

branchingSuite('reflink', 'suite');
