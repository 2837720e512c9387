/**
 * serial: the UART. Capture the boot output, interrupt an autoboot countdown
 * if one is offered (then boot on, leaving the device as found), see whether
 * the console gives a shell without a login (proven by an arithmetic echo,
 * which an echoing line cannot fake), and search everything it printed for
 * canaries and secrets. Values are never kept: only where and what kind.
 */
import { z } from 'zod';
import { defineFact } from '../harness/facts';
import { closeSerialPort, openSerialPort } from './util/serial-port';
import type { DeviceFile } from '../harness/device-file/schema';
import type { Observation, Probe, ProbeContext } from '../harness/types';
import { canariesIn } from './util/canaries';
import { WaitableText } from './util/waitable-text';
import { actionRecordSchema, deviceReturnSchema, waitForDevice } from './util/actions';
import { canRestart, restartDevice } from './util/power';

const MAX_LOG = 256 * 1024;
/** A bootloader offering to stop: U-Boot, RedBoot ("enter ^C to abort"), CFE, barebox, keyed autoboots ("press <Esc><Esc> to stop"). */
const COUNTDOWN =
  /(hit|press|type|enter) any key|stop autoboot|autoboot(?:ing)? in \d|seconds?.{0,40}\b(to stop|to abort|to interrupt)|(?:press|enter|hit|type)\s+\S{1,20}\s+to (?:stop|abort|interrupt)|\^C to abort/i;
/** Lines only a boot prints: a bootloader's banner, the kernel's first lines, init starting. */
export const BOOT_MARK =
  /U-Boot(?: SPL)? \d|CFE version|RedBoot|barebox|SeaBIOS|Starting kernel|Uncompressing Linux|Booting Linux|Linux version \d|\[\s*0\.\d{3,6}\]|BusyBox v[\d.]+ .*\binit\b/i;
/** Lines the kernel prints: the bootloader has handed over. */
const KERNEL_MARK = /Starting kernel|Uncompressing Linux|Booting Linux|Linux version \d|\[\s*0\.\d{3,6}\]/i;
/** A key the countdown names ("Hit <SPACE>", 'press "s"'). */
const NAMED_KEY = /(?:press|type|hit|enter)\s+(?:<([A-Za-z-]+)>|"([^"]{1,8})"|'([^']{1,8})')/i;
const KEY_NAMES: Record<string, string> = { space: ' ', enter: '\r', return: '\r', esc: '\x1b', escape: '\x1b', 'ctrl-c': '\x03' };
/**
 * A bootloader's prompt at the start of a line. Not anchored at the end: a
 * prompt stays shown when the keys typed after it are echoed (a key sent late,
 * on a loaded bench, lands on the prompt line).
 */
const BOOT_PROMPT = /(?:^|[\r\n])[ \t]*(=>|U-Boot>|CFE>|RedBoot>|boot>)(?:[ \t]|$)/;
const LOGIN = /(login|user ?name|password)\s*:\s*$/i;
const SHELL = /[#$>%] ?$/;
// Also wifi_psk=, admin_password= …: the key may carry a prefix.
// On one line only: "Password:" and the next line's "Login incorrect" are not a key and its value.
const SECRET = /(?<![a-z])((?:[a-z0-9]+_)?(?:pass(?:word|wd)?|psk|wpa_?passphrase|secret|api[_-]?key|token))[ \t]*[=:][ \t]*["']?([^\s"']{3,})/gi;
const PRIVATE_KEY = /-----BEGIN [A-Z ]*PRIVATE KEY-----/g;

/** What the UART showed: the boot output's size, an autoboot countdown and whether it stopped, a login prompt, a shell without login, secrets and canaries (kinds, never values). */
export const SerialConsoleFact = defineFact(
  'serial-console',
  z.object({
    path: z.string(),
    bytes: z.number().int(),
    countdownOffered: z.boolean(),
    bootloaderInterrupted: z.boolean(),
    loginPrompt: z.boolean(),
    shellWithoutLogin: z.boolean(),
    secrets: z.array(z.object({ kind: z.string(), where: z.string() })),
    canaries: z.array(z.string()),
    /**
     * A boot was seen on the console: caused by the declared restart or power
     * cycle, or a bootloader countdown seen on open. Without one, what the
     * bootloader offers and what the boot prints are unknown (a booted device's UART shows only a prompt).
     */
    bootObserved: z.boolean().optional(),
    /** How the boot was caused: the restart action or power cycle, as run. */
    restart: actionRecordSchema.optional(),
    /** Bytes the console printed after the restart. */
    bootBytes: z.number().int().optional(),
    /** Interrupt keys pressed during the watched boot (Enter, space, Ctrl-C, a named key), before a prompt came. */
    interruptKeys: z.number().int().optional(),
    /** The device answering on the network again after the restart. */
    return: deviceReturnSchema.optional(),
  }),
  (f) => (f.bytes === 0 ? `${f.path} printed nothing` : !f.loginPrompt && !f.shellWithoutLogin ? `${f.path}: neither a login prompt nor a shell` : null),
);
export type SerialFacts = z.infer<typeof SerialConsoleFact.schema>;

/** Mask secret values in a log line by line; returns what kinds were found and where. */
export function findSecrets(text: string): { masked: string; secrets: Array<{ kind: string; where: string }> } {
  const secrets: Array<{ kind: string; where: string }> = [];
  const masked = text
    .replace(SECRET, (_m, key: string, value: string) => {
      secrets.push({ kind: `${key.toLowerCase()}=…`, where: `${key}=${value.slice(0, 2)}••••` });
      return `${key}=••••`;
    })
    .replace(PRIVATE_KEY, (m) => {
      secrets.push({ kind: 'private key', where: m });
      return m;
    });
  return { masked, secrets };
}

/** Whether any action in the device file talks over the UART (`serial: { send, … }`), wherever it is declared. */
export function usesSerialAction(device: DeviceFile): boolean {
  const walk = (v: unknown, depth: number): boolean => {
    if (depth > 12 || v === null || typeof v !== 'object') return false;
    if (Array.isArray(v)) return v.some((x) => walk(x, depth + 1));
    return Object.entries(v as Record<string, unknown>).some(
      ([k, x]) => (k === 'serial' && x !== null && typeof x === 'object' && 'send' in x) || (k !== 'target' && walk(x, depth + 1)),
    );
  };
  return walk(device, 0);
}

export const serialProbe: Probe = {
  id: 'serial',
  title: 'Serial console: boot log, bootloader, shell without login, secrets',
  needs: ['serial'],
  facts: [SerialConsoleFact],
  disruptive: 'serial-console',
  // Without a restart it only reads its own channel (and answers a prompt): alongside the network probes, unless an
  // action of the device file uses the same UART (a read-back, a version read): one opener at a time.
  sideBySide: (device) => !(device.restart || device.power) && !usesSerialAction(device),
  clauses: ['EN 303 645 5.6-4', 'TS 103 701 5.6-4-2'],
  skipReason: (device) => (device.target.serial ? null : 'no serial port declared (target.serial)'),
  timeoutMs: (device) =>
    device.restart || device.power
      ? (device.limits.actionTimeoutSeconds + 2 * device.limits.deviceReturnSeconds + 60) * 1000
      : device.limits.probeTimeoutSeconds * 1000,
  async run(ctx: ProbeContext) {
    const serial = ctx.device.target.serial!;
    ctx.scope.assertSerial(serial.path);
    const port = await openSerialPort(serial.path, serial.baudRate);
    const out = new WaitableText(MAX_LOG);
    port.on('data', (c: Buffer) => out.append(c.toString('latin1')));
    port.on('close', () => out.close());
    port.on('error', () => out.close());
    const onAbort = (): void => {
      if (port.isOpen) port.close();
    };
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    const send = (s: string): void => {
      if (port.isOpen) port.write(s);
    };
    const since = (mark: number, re: RegExp) => (): RegExpMatchArray | null => out.text.slice(mark).match(re);
    const facts: SerialFacts = {
      path: serial.path,
      bytes: 0,
      countdownOffered: false,
      bootloaderInterrupted: false,
      loginPrompt: false,
      shellWithoutLogin: false,
      secrets: [],
      canaries: [],
    };
    try {
      ctx.progress(`reading ${serial.path}`);
      // Whatever the console prints on open (a booted device's UART usually prints nothing until a key is pressed).
      await out.until(() => (COUNTDOWN.test(out.text) || LOGIN.test(out.text) || SHELL.test(out.text) ? true : null), canRestart(ctx) ? 1500 : 4000);
      let bootFrom = 0;
      const bootMs = ctx.device.limits.deviceReturnSeconds * 1000;
      // A boot seen as the port opened (the device was powering on): a countdown and a boot line both.
      const bootingOnOpen = COUNTDOWN.test(out.text) && BOOT_MARK.test(out.text);
      if (canRestart(ctx) && !bootingOnOpen) {
        // Cause a boot, and watch it from its first byte: until a boot line, then a countdown or a prompt after it.
        bootFrom = out.text.length;
        ctx.progress('restarting the device to watch it boot');
        facts.restart = await restartDevice(ctx, { write: send });
        // Bytes are not a boot: an echo of the restart command, or a log line, is not one. A boot line is.
        const first = await out.until(() => BOOT_MARK.exec(out.text.slice(bootFrom)), bootMs);
        if (first) {
          // From the first boot line on, keys every 200 ms (Enter; space, Ctrl-C and the key a countdown names) until
          // a bootloader prompt, a login or shell prompt, or the time is up: a countdown stops on a key, whatever
          // its wording, so "not interruptible" rests on keys tried, not on a sentence recognised.
          const deadline = Date.now() + bootMs;
          let keys = 0;
          while (!ctx.signal.aborted && port.isOpen && Date.now() < deadline) {
            const t = out.text.slice(bootFrom);
            if (BOOT_PROMPT.test(t)) break;
            const rest = t.slice(first.index);
            // The kernel has started: the bootloader's chance is over, and keys (Ctrl-C) must not reach init scripts.
            if (KERNEL_MARK.test(rest) || LOGIN.test(rest) || SHELL.test(rest)) break;
            const named = NAMED_KEY.exec(t);
            const key = named ? (KEY_NAMES[(named[1] ?? '').toLowerCase()] ?? named[2] ?? named[3] ?? '') : '';
            send(keys % 2 === 0 ? '\r' : ` \x03${key}`);
            keys += 1;
            await out.until(() => null, 200);
          }
          facts.interruptKeys = keys;
          // Then the rest of the boot, up to a prompt.
          await out.until(
            () => {
              const rest = out.text.slice(bootFrom + first.index);
              return BOOT_PROMPT.test(rest) || LOGIN.test(rest) || SHELL.test(rest) ? true : null;
            },
            Math.max(0, deadline - Date.now()),
          );
        }
        facts.bootBytes = out.text.length - bootFrom;
        facts.bootObserved = first !== null;
      } else if (bootingOnOpen) facts.bootObserved = true;
      if (COUNTDOWN.test(out.text.slice(bootFrom))) facts.countdownOffered = true;
      if (BOOT_PROMPT.test(out.text.slice(bootFrom)) && facts.restart) {
        // The keys pressed during the boot stopped it at the bootloader's prompt: look, then boot on.
        facts.bootloaderInterrupted = true;
        const m2 = out.text.length;
        send('printenv\r');
        await out.until(since(m2, BOOT_PROMPT), 1500);
        send('boot\r');
        await out.until(() => (LOGIN.test(out.text.slice(m2)) || SHELL.test(out.text.slice(m2 + 12)) ? true : null), bootMs);
      } else if (facts.countdownOffered && !facts.restart) {
        const mark = out.text.length;
        // Enter, then a space and Ctrl-C, then the key the countdown names: whichever stops it.
        const named = NAMED_KEY.exec(out.text.slice(bootFrom));
        const key = named ? (KEY_NAMES[(named[1] ?? '').toLowerCase()] ?? named[2] ?? named[3] ?? '') : '';
        send('\r');
        if (!(await out.until(since(mark, BOOT_PROMPT), 300))) send(` \x03${key}`);
        if (await out.until(since(mark, BOOT_PROMPT), 1500)) {
          facts.bootloaderInterrupted = true;
          const m2 = out.text.length;
          send('printenv\r');
          await out.until(since(m2, BOOT_PROMPT), 1500);
          send('boot\r');
        }
        await out.until(() => (LOGIN.test(out.text) || SHELL.test(out.text.slice(mark + 5)) ? true : null), facts.restart ? bootMs : 5000);
      }
      let mark = out.text.length;
      send('\r');
      const prompt = await out.until(since(mark, new RegExp(`${LOGIN.source}|${SHELL.source}`, 'i')), 3000);
      facts.loginPrompt = LOGIN.test(out.text);
      if (prompt && !LOGIN.test(prompt[0])) {
        mark = out.text.length;
        send('echo SB$((1234+4321))\r');
        facts.shellWithoutLogin = Boolean(await out.until(since(mark, /SB5555/), 3000));
      }
    } finally {
      ctx.signal.removeEventListener('abort', onAbort);
      await closeSerialPort(port);
    }
    // A restart takes the network down too: the probes after this one need the device back.
    if (facts.restart) facts.return = await waitForDevice(ctx, { settleMs: (ctx.device.update?.settleSeconds ?? 2) * 1000 });
    facts.bootObserved ??= false;
    facts.bytes = out.text.length;
    const { masked, secrets } = findSecrets(out.text);
    facts.secrets = secrets;
    facts.canaries = canariesIn(ctx.device, out.text);
    const evidence = ctx.evidence.write('serial.log', masked);
    const observations: Observation[] = [
      {
        kind: 'serial-console',
        summary: `${serial.path}: ${facts.bytes} bytes; ${facts.restart ? `restarted (${facts.restart.request}): ${facts.bootObserved ? `boot seen, ${facts.bootBytes} bytes` : 'NO BOOT SEEN'}; ` : facts.bootObserved ? '' : 'no boot observed (no restart declared); '}${facts.bootloaderInterrupted ? 'bootloader interrupted' : facts.countdownOffered ? 'countdown offered' : 'no countdown'}; ${facts.shellWithoutLogin ? 'SHELL WITHOUT LOGIN' : facts.loginPrompt ? 'login prompt' : 'no prompt seen'}; ${secrets.length} secret(s), canaries: ${facts.canaries.join(', ') || 'none'}`,
        data: { ...facts },
      },
    ];
    return { observations, evidence: [evidence] };
  },
};
