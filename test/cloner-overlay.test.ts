import { branchingSuite } from './support/branching-suite.js';
import { suiteTarget } from './support/suite-target.js';

branchingSuite(suiteTarget({ driver: 'local', cloner: 'overlay' }));
