/** Opening the declared UART with serialport, as a promise. */
import type { SerialPort } from 'serialport';

export function openSerialPort(path: string, baudRate: number): Promise<SerialPort> {
  // serialport (and its native binding) is loaded only when a UART is opened: most runs have none.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { SerialPort } = require('serialport') as typeof import('serialport');
  return new Promise((resolve, reject) => {
    const port = new SerialPort({ path, baudRate, autoOpen: false });
    port.open((err) => (err ? reject(err) : resolve(port)));
  });
}

export function closeSerialPort(port: SerialPort): Promise<void> {
  return port.isOpen ? new Promise<void>((r) => port.close(() => r())) : Promise.resolve();
}
