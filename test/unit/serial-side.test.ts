import { serialProbe, usesSerialAction } from '../../probes/serial';
import { deviceFrom, minimalDevice } from '../helpers/device';

describe('the serial console alongside the network probes', () => {
  const uart = { ...minimalDevice, target: { ...minimalDevice.target, serial: { path: '/dev/ttyUSB0', baudRate: 115200 } } };

  it('only when nothing restarts the device and no other action of the device file opens the same UART', () => {
    expect(serialProbe.sideBySide?.(deviceFrom(uart))).toBe(true);
    expect(serialProbe.sideBySide?.(deviceFrom({ ...uart, restart: { operator: 'press the power button' } }))).toBe(false);
    // A read-back over the console is an ordinary probe's: the two would fight over one port.
    const readBack = deviceFrom({
      ...uart,
      personalData: { declared: [], canaries: { email: 'hanako.serial@example.jp' }, readBack: [{ serial: { send: 'cat /etc/config' } }] },
    });
    expect(usesSerialAction(readBack)).toBe(true);
    expect(serialProbe.sideBySide?.(readBack)).toBe(false);
    expect(usesSerialAction(deviceFrom(uart))).toBe(false);
  });
});
