/** Opening the declared UART with serialport, as a promise. */
import { SerialPort } from 'serialport';

export function openSerialPort(path: string, baudRate: number): Promise<SerialPort> {
  return new Promise((resolve, reject) => {
    const port = new SerialPort({ path, baudRate, autoOpen: false });
    port.open((err) => (err ? reject(err) : resolve(port)));
  });
}

export function closeSerialPort(port: SerialPort): Promise<void> {
  return port.isOpen ? new Promise<void>((r) => port.close(() => r())) : Promise.resolve();
}
