import type { Reporter } from './reporter';

/** Reports nothing: for library use and tests. */
export function nullReporter(): Reporter {
  return { name: 'null' };
}
