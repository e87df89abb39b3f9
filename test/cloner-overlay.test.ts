import { branchingSuite } from './support/branching-suite.js';

branchingSuite('overlay', 'suite');
