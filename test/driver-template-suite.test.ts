import { branchingSuite } from './support/branching-suite.js';
import { suiteTarget } from './support/suite-target.js';

// The template server's data directory is a reflink clone of the snapshot (XFS): file_copy_method = clone there.
branchingSuite(suiteTarget({ driver: 'template', cloner: 'reflink' }));
