import { branchingSuite } from './support/branching-suite.js';

branchingSuite('btrfs', 'suite');
