/** report.json, plus the label data (label.json, label.svg) that points at it by digest. */
import path from 'node:path';
import { writeFileAtomic } from '../harness/atomic';
import { labelOf, labelSvg, reportJsonText } from './label';
import type { Reporter } from './reporter';

export function jsonReporter(): Reporter {
  return {
    name: 'json',
    async onRunEnd(report, outDir) {
      writeFileAtomic(path.join(outDir, 'report.json'), reportJsonText(report));
      const label = labelOf(report);
      writeFileAtomic(path.join(outDir, 'label.json'), JSON.stringify(label, null, 2) + '\n');
      writeFileAtomic(path.join(outDir, 'label.svg'), await labelSvg(label));
    },
  };
}
