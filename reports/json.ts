import path from 'node:path';
import { writeFileAtomic } from '../harness/atomic';
import type { Reporter } from './reporter';

export function jsonReporter(): Reporter {
  return {
    name: 'json',
    onRunEnd(report, outDir) {
      writeFileAtomic(path.join(outDir, 'report.json'), JSON.stringify(report, null, 2) + '\n');
    },
  };
}
