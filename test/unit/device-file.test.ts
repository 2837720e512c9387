import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadDeviceFile, parseDeviceFile } from '../../harness/device-file/load';
import { parsePortSpec } from '../../harness/device-file/schema';
import { StarbenchError } from '../../harness/errors';

const VALID = `device: { name: Acme IP Camera, model: CAM1, firmware: 1.2.3 }
target:
  host: 198.18.10.2
  serial: { path: /dev/ttyUSB0, baudRate: 115200 }
services:
  - { port: 22,  protocol: ssh }
  - { port: 80,  protocol: http }
  - { port: 443, protocol: https }
  - { port: 1883, protocol: mqtt }
credentials:
  admin: { username: admin, password: "s3cret-lab" }
auth:
  - { port: 80, protocol: http, path: /cgi-bin/admin, scheme: basic, bruteForce: lockout, lockoutAfter: 5, lockoutSeconds: 60 }
update:
  version: { http: { url: http://198.18.10.2/cgi-bin/version, jsonPath: firmware } }
  install: { http: { url: http://198.18.10.2/cgi-bin/upgrade, method: POST, credential: admin } }
  images: { genuine: ./images/cam-1.2.4.bin, older: ./images/cam-1.2.0.bin }
reset:
  http: { url: http://198.18.10.2/cgi-bin/reset, method: POST, credential: admin }
personalData:
  declared: [email, wifi-credentials]
  canaries:
    email: hanako.canary@example.jp
    location: "35.6812"
    wifi-credentials: canary-psk-1234
documentation:
  vulnerabilityDisclosure: https://example.com/security
  supportPeriodEnd: 2030-03-31
`;

function errorOf(text: string): StarbenchError {
  try {
    parseDeviceFile(text, '/lab/dev.yaml');
  } catch (err) {
    if (err instanceof StarbenchError) return err;
    throw err;
  }
  throw new Error('expected the device file to be refused');
}

describe('device file', () => {
  it('accepts the design example and resolves defaults and paths', () => {
    const d = parseDeviceFile(VALID, '/lab/dev.yaml');
    expect(d.device.firmware).toBe('1.2.3');
    expect(d.services).toHaveLength(4);
    expect(d.services[0].transport).toBe('tcp');
    expect(d.limits.connections).toBe(4);
    expect(d.update?.images?.genuine).toBe('/lab/images/cam-1.2.4.bin');
    expect(d.update?.install?.http?.method).toBe('POST');
    expect(d.documentation?.supportPeriodEnd).toBe('2030-03-31');
    expect(d.baseDir).toBe('/lab');
  });

  // Each malformed file, with what the message must say: file, line and field path.
  const cases: Array<[string, string, RegExp]> = [
    ['not YAML', 'device: [unclosed', /\/lab\/dev\.yaml:\d+: not valid YAML/],
    ['a list, not a mapping', '- a\n- b\n', /must be a YAML mapping/],
    ['empty file', '', /must be a YAML mapping/],
    ['missing device', 'target: { host: 127.0.0.1 }\n', /:1: device is required/],
    ['missing target', 'device: { name: x }\n', /:1: target is required/],
    ['empty host', 'device: { name: x }\ntarget: { host: "" }\n', /:2: target\.host must not be empty/],
    [
      'port out of range',
      'device: { name: x }\ntarget: { host: h }\nservices:\n  - { port: 22, protocol: ssh }\n  - { port: 70000, protocol: http }\n',
      /:5: services\[1\]\.port must be 1-65535/,
    ],
    [
      'port not a number',
      'device: { name: x }\ntarget: { host: h }\nservices:\n  - { port: "22", protocol: ssh }\n',
      /:4: services\[0\]\.port Invalid input: expected number, received string/,
    ],
    [
      'unknown protocol',
      'device: { name: x }\ntarget: { host: h }\nservices:\n  - { port: 22, protocol: sshh }\n',
      /:4: services\[0\]\.protocol Invalid option/,
    ],
    [
      'unknown key (typo)',
      'device: { name: x }\ntarget: { host: h }\nauth:\n  - { port: 22, protocol: ssh, scheme: password, lockoutAftr: 3 }\n',
      /:4: auth\[0\] unknown field "lockoutAftr"/,
    ],
    ['unknown top-level key', 'device: { name: x }\ntarget: { host: h }\nservice: []\n', /unknown field "service"/],
    [
      'duplicate port',
      'device: { name: x }\ntarget: { host: h }\nservices:\n  - { port: 22, protocol: ssh }\n  - { port: 22, protocol: telnet }\n',
      /:5: services\[1\]\.port duplicates services\[0\] \(tcp\/22\)/,
    ],
    [
      'lockout without count',
      'device: { name: x }\ntarget: { host: h }\nauth:\n  - { port: 22, protocol: ssh, scheme: password, bruteForce: lockout }\n',
      /auth\[0\]\.lockoutAfter bruteForce: lockout needs lockoutAfter/,
    ],
    [
      'unknown credential in auth',
      'device: { name: x }\ntarget: { host: h }\nauth:\n  - { port: 22, protocol: ssh, scheme: password, credential: root }\n',
      /:4: auth\[0\]\.credential names credential "root", which is not under credentials:/,
    ],
    [
      'credential without secret',
      'device: { name: x }\ntarget: { host: h }\ncredentials:\n  admin: { username: admin }\n',
      /:4: credentials\.admin needs a password, a privateKey \(SSH\) or a certificate and key/,
    ],
    [
      'action with two kinds',
      'device: { name: x }\ntarget: { host: h }\nreset:\n  http: { url: http://h/reset }\n  operator: { instructions: press reset }\n',
      /:4: reset must have exactly one of http, ssh, serial, operator/,
    ],
    [
      'action URL not http',
      'device: { name: x }\ntarget: { host: h }\nreset:\n  http: { url: ftp://h/reset }\n',
      /:4: reset\.http\.url must be an http:\/\/ or https:\/\/ URL/,
    ],
    [
      'serial action without serial port',
      'device: { name: x }\ntarget: { host: h }\nreset:\n  serial: { send: reset }\n',
      /:4: reset\.serial is a serial action but target\.serial is not declared/,
    ],
    ['bad scan range', 'device: { name: x }\ntarget: { host: h }\nscan: { tcp: "1-70000" }\n', /:3: scan\.tcp ports must be 1-65535/],
    ['bad scan syntax', 'device: { name: x }\ntarget: { host: h }\nscan: { tcp: "all" }\n', /scan\.tcp must be a list of ports and ranges/],
    ['limit out of range', 'device: { name: x }\ntarget: { host: h }\nlimits: { connections: 0 }\n', /:3: limits\.connections Too small/],
    [
      'image outside the folder',
      'device: { name: x }\ntarget: { host: h }\nupdate:\n  images: { genuine: ../../etc/passwd }\n',
      /:4: update\.images\.genuine \(\.\.\/\.\.\/etc\/passwd\) leaves the device file's folder/,
    ],
    [
      'operator read-back',
      'device: { name: x }\ntarget: { host: h }\npersonalData:\n  readBack:\n    - operator: { instructions: look at the app }\n',
      /:5: personalData\.readBack\[0\]\.operator: a read-back must be http, ssh or serial/,
    ],
    [
      'bad expect pattern',
      'device: { name: x }\ntarget: { host: h, serial: { path: /dev/ttyUSB0 } }\nupdate:\n  version:\n    serial: { send: ver, expect: "([" }\n',
      /:5: update\.version\.serial\.expect must be a valid regular expression/,
    ],
    [
      'negative signature offset',
      'device: { name: x }\ntarget: { host: h }\nupdate:\n  images: { genuine: a.bin, signature: { offset: -1, length: 256 } }\n',
      /update\.images\.signature\.offset Too small/,
    ],
    ['duplicate YAML key', 'device: { name: x }\ndevice: { name: y }\ntarget: { host: h }\n', /:2: not valid YAML: Map keys must be unique/],
    [
      'YAML alias bomb',
      `a: &a ["x","x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\ndevice: { name: x }\ntarget: { host: h }\n`,
      /aliases expand too far/,
    ],
  ];

  it.each(cases)('refuses %s with a message naming the field', (_name, text, expected) => {
    const err = errorOf(text);
    expect(err.code).toBe('DEVICE_FILE_INVALID');
    expect(err.message).toMatch(expected);
    expect(err.message).not.toMatch(/\n\s+at /);
  });

  it('refuses an action that points outside the target', () => {
    const err = errorOf('device: { name: x }\ntarget: { host: 198.18.10.2 }\nupdate:\n  install:\n    http: { url: "http://203.0.113.9/upgrade" }\n');
    expect(err.code).toBe('TARGET_OUT_OF_SCOPE');
    expect(err.message).toMatch(/:5: update\.install\.http\.url points at 203\.0\.113\.9, outside the declared target 198\.18\.10\.2/);
  });

  it('refuses a personal-data read-back that points outside the target', () => {
    const err = errorOf(
      'device: { name: x }\ntarget: { host: 198.18.10.2 }\npersonalData:\n  readBack:\n    - http: { url: "https://cloud.example.com/api/me" }\n',
    );
    expect(err.code).toBe('TARGET_OUT_OF_SCOPE');
    expect(err.message).toMatch(/:5: personalData\.readBack\[0\]\.http\.url points at cloud\.example\.com/);
  });

  it('reports a missing or oversized file clearly', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sb-df-'));
    expect(() => loadDeviceFile(path.join(dir, 'nope.yaml'))).toThrow(/cannot read device file .*nope\.yaml/);
    const big = path.join(dir, 'big.yaml');
    writeFileSync(big, `device: { name: x }\ntarget: { host: h }\n# ${'x'.repeat(1024 * 1024 + 10)}\n`);
    expect(() => loadDeviceFile(big)).toThrow(/too large for a device file/);
  });

  it('parses port specs', () => {
    expect(parsePortSpec('22,80-82')).toEqual([22, 80, 81, 82]);
    expect(parsePortSpec('5-3')).toBeNull();
    expect(parsePortSpec('0')).toBeNull();
  });
});
