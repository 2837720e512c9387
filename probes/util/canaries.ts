/** Finding the device file's personal-data canaries in what a device says, without ever keeping the value. */
import type { DeviceFile } from '../../harness/device-file/schema';

/** Categories whose canary appears in `text` (also URL- or JSON-escaped). */
export function canariesIn(device: DeviceFile, text: string): string[] {
  const found: string[] = [];
  for (const [category, value] of Object.entries(device.personalData?.canaries ?? {})) {
    const forms = [value, encodeURIComponent(value), JSON.stringify(value).slice(1, -1)];
    if (forms.some((f) => f && text.includes(f))) found.push(category);
  }
  return found;
}
