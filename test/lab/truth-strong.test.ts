/** The lab's strong device, assessed by the real CLI, against its truth.json (see truth-suite.ts). */
import { truthSuite } from './truth-suite';

truthSuite('strong');
