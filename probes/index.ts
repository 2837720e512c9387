/** Every probe starbench has, by id. */
import type { Probe } from '../harness/types';
import { credentialsProbe } from './credentials';
import { tcpPortsProbe } from './ports';
import { tlsProbe } from './tls';
import { sshProbe } from './ssh';
import { udpServicesProbe } from './udp';
import { plaintextProbe } from './plaintext';
import { unauthenticatedProbe } from './unauthenticated';
import { bruteForceProbe } from './brute-force';
import { serialProbe } from './serial';
import { updateProbe } from './update';
import { personalDataProbe } from './personal-data';
import { resetProbe } from './reset';
import { identificationProbe } from './identification';
import { credentialChangeProbe } from './credential-change';
import { knownVulnerabilitiesProbe } from './vulnerabilities';
import { trafficProbe } from './traffic';
import { networkLoadProbe } from './network-load';

export const ALL_PROBES: Probe[] = [
  networkLoadProbe,
  tcpPortsProbe,
  credentialsProbe,
  tlsProbe,
  sshProbe,
  udpServicesProbe,
  plaintextProbe,
  identificationProbe,
  knownVulnerabilitiesProbe,
  unauthenticatedProbe,
  bruteForceProbe,
  serialProbe,
  updateProbe,
  personalDataProbe,
  credentialChangeProbe,
  trafficProbe,
  resetProbe,
];

export const PROBES: ReadonlyMap<string, Probe> = new Map(ALL_PROBES.map((p) => [p.id, p]));
