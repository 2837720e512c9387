import { setMaxListeners } from 'node:events';
import { AuthLedger } from '../harness/auth-ledger';
import { DeviceConnector } from '../harness/connector';
import type { DeviceFile } from '../harness/device-file/schema';
import { createLogger } from '../harness/logger';
import { ScopeGuard } from '../harness/scope';
import { SecretRegistry } from '../harness/secrets';
import type { ProbeContext, ProbeResult } from '../harness/types';

/** A probe context outside the runner, for calling one probe function directly. */
export async function probeContext(device: DeviceFile, deps: Record<string, ProbeResult> = {}): Promise<ProbeContext> {
  const scope = new ScopeGuard(device.target, device.power);
  await scope.resolve();
  const secrets = SecretRegistry.fromDevice(device);
  const signal = new AbortController().signal;
  // As in the runner: every in-flight attempt listens on the probe's signal.
  setMaxListeners(256, signal);
  return {
    device,
    scope,
    secrets,
    connector: new DeviceConnector(scope, device.limits.connections, device.limits.connectTimeoutMs),
    log: createLogger({ secrets }),
    signal,
    evidence: { write: (name) => name },
    dependency: (id) => deps[id],
    progress: () => undefined,
    auth: new AuthLedger(device),
  };
}
