import { stringify } from 'yaml';
import { parseDeviceFile } from '../../harness/device-file/load';
import type { DeviceFile, DeviceFileInput } from '../../harness/device-file/schema';

export function deviceFrom(input: DeviceFileInput, source = '/lab/device.yaml'): DeviceFile {
  return parseDeviceFile(stringify(input), source);
}

export const minimalDevice: DeviceFileInput = {
  device: { name: 'Test device' },
  target: { host: '127.0.0.1' },
};
