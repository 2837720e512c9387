/** Every check starbench knows, by stable id. */
import type { Check } from '../../harness/types';
import { defaultCredentialsCheck } from './auth-default-credentials';
import { undeclaredServicesCheck } from './exposure-undeclared-services';
import { updateCapabilityCheck, updateIntegrityCheck, updateRollbackCheck } from './update';
import { dataDeletionCheck, disclosureCheck, personalDataExposureCheck } from './privacy';
import { serialConsoleCheck } from './debug-serial-console';
import { tlsCheck } from './comms-tls';
import { sshCheck } from './comms-ssh';
import { plaintextCheck } from './comms-plaintext';
import { unauthenticatedAccessCheck } from './auth-unauthenticated-access';
import { bruteForceCheck } from './auth-brute-force';
import { modelIdentificationCheck } from './device-model-identification';
import { credentialChangeCheck, restartPersistenceCheck } from './credential-change';
import { knownVulnerabilitiesCheck } from './exposure-known-vulnerabilities';
import { uniqueDeviceKeysCheck } from './crypto-unique-device-keys';
import { networkLoadCheck } from './resilience-network-load';
import { certificateValidationCheck, destinationsCheck, outboundPlaintextCheck, outboundTlsCheck } from './traffic';

export const ALL_CHECKS: Check[] = [
  undeclaredServicesCheck,
  defaultCredentialsCheck,
  unauthenticatedAccessCheck,
  bruteForceCheck,
  tlsCheck,
  sshCheck,
  plaintextCheck,
  serialConsoleCheck,
  updateIntegrityCheck,
  updateRollbackCheck,
  personalDataExposureCheck,
  disclosureCheck,
  dataDeletionCheck,
  modelIdentificationCheck,
  credentialChangeCheck,
  restartPersistenceCheck,
  knownVulnerabilitiesCheck,
  updateCapabilityCheck,
  outboundPlaintextCheck,
  outboundTlsCheck,
  certificateValidationCheck,
  destinationsCheck,
  uniqueDeviceKeysCheck,
  networkLoadCheck,
];

export const CHECKS: ReadonlyMap<string, Check> = new Map(ALL_CHECKS.map((c) => [c.id, c]));
