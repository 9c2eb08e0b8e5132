// The runner scenarios under GitHub's own local runner (@github/local-action): the TypeScript source, its
// run() export called with local-action's stand-in for @actions/core.
import { runLocalAction } from './runner.js';
import { runnerScenarios } from './scenarios.js';

runnerScenarios('@github/local-action on the source', runLocalAction);
