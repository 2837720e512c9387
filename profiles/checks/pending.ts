/**
 * Stable checks of the design whose probes are not built yet. They are listed
 * and planned like any check and report `not-tested` ("probe not implemented"),
 * never `pass`.
 */
import type { Check } from '../../harness/types';

function pending(id: string, title: string, failsWhen: string, probes: string[]): Check {
  return {
    id,
    title,
    failsWhen,
    probes,
    implemented: false,
    judge: () => ({ verdict: 'not-tested', rationale: 'probe not implemented in this version of starbench', findings: [] }),
  };
}

export const PENDING_CHECKS: Check[] = [
  pending('update.integrity', 'Tampered or unsigned images are refused', 'the device installs a tampered or unsigned image', ['update']),
  pending('update.rollback', 'Older genuine images are refused', 'the device installs an older genuine image', ['update']),
  pending('privacy.personal-data-exposure', 'No personal data readable without authentication', 'a personal-data canary is readable without authentication (network or serial)', ['personal-data']),
  pending('privacy.disclosure', 'Personal data handled is declared to the user', 'personal data the device is seen handling is not declared to the user', ['personal-data']),
  pending('privacy.data-deletion', 'Factory reset deletes user data', 'a canary survives a factory reset', ['reset']),
];
