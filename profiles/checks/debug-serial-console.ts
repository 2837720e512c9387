/** debug.serial-console — EN 303 645 5.6-4: the UART gives no shell without login and leaks no secrets. */
import type { Check, Finding } from '../../harness/types';
import { gate } from '../../harness/gate';
import { factOf, basis } from '../../harness/facts';
import { SerialConsoleFact } from '../../probes/serial';

export const serialConsoleCheck: Check = {
  id: 'debug.serial-console',
  title: 'Serial console needs a login and leaks no secrets',
  failsWhen: 'the serial console gives a shell without login, or leaks secrets',
  probes: ['serial'],
  implemented: true,
  fix: 'Require a login on the console (or disable it in production), lock the bootloader (no interruptible autoboot, no environment access), and never print keys or passwords at boot.',
  judge(input) {
    const g = gate(input, 'serial');
    if (!g.ok) return g.judgement;
    const f = factOf(g.result, SerialConsoleFact);
    if (!f) return { verdict: 'inconclusive', rationale: 'the serial probe recorded nothing', findings: [] };
    const findings: Finding[] = [];
    if (f.shellWithoutLogin)
      findings.push({ severity: 'high', protocol: 'serial', message: `${f.path}: a shell without login (echo $((1234+4321)) printed 5555)` });
    if (f.bootloaderInterrupted)
      findings.push({ severity: 'high', protocol: 'serial', message: `${f.path}: the autoboot countdown could be interrupted into the bootloader prompt` });
    for (const s of f.secrets) findings.push({ severity: 'high', protocol: 'serial', message: `${f.path}: a secret is printed (${s.kind} ${s.where})` });
    if (f.canaries.length) findings.push({ severity: 'high', protocol: 'serial', message: `${f.path}: personal data printed (${f.canaries.join(', ')})` });
    if (findings.length) return { verdict: 'fail', rationale: `${findings.length} serial console problem(s)`, findings };
    if (f.bytes === 0)
      return {
        verdict: 'inconclusive',
        rationale: `${f.path} printed nothing: wrong port, baud rate, or a console that is switched off — cannot tell which`,
        findings,
      };
    if (!f.loginPrompt) return { verdict: 'inconclusive', rationale: `${f.path} printed ${f.bytes} bytes but neither a login prompt nor a shell`, findings };
    // "Not interruptible" and "prints no secret at boot" need a boot watched from its start: a booted device's UART shows only a prompt.
    if (!f.bootObserved)
      return {
        verdict: 'inconclusive',
        rationale: f.restart
          ? `${f.path}: the console asks for a login, but after the restart (${f.restart.request}${f.restart.ok ? '' : `, ${f.restart.error ?? `status ${f.restart.status}`}`}) no boot was seen on it, so what the bootloader offers and what the boot prints are unknown`
          : `${f.path}: the console asks for a login, but no boot was observed, so what the bootloader offers and what the boot prints are unknown: declare restart: (a reboot command over ssh or serial, an http call, or an operator step) or power.cycle (the bench power controller) so the boot can be watched`,
        findings: [{ severity: 'info', protocol: 'serial', message: `${f.path}: login prompt; no shell without login; no secret in ${f.bytes} bytes printed` }],
      };
    // "Not interruptible" needs keys pressed while it booted: a boot that reached its prompt before one was sent shows nothing.
    if (f.restart && !f.interruptKeys)
      return {
        verdict: 'inconclusive',
        rationale: `${f.path}: the boot was watched, but the kernel or a prompt came before an interrupt key could be pressed in the bootloader, so whether it stops on a key is not shown`,
        findings: [{ severity: 'info', protocol: 'serial', message: `${f.path}: login prompt; no shell without login; no secret in ${f.bytes} bytes printed` }],
      };
    // A countdown that the keys tried did not stop may stop on another one (a keyed autoboot): not shown locked.
    if (f.countdownOffered)
      return {
        verdict: 'inconclusive',
        rationale: `${f.path}: the boot offers an autoboot countdown that Enter, space, Ctrl-C and the key it names did not stop; a keyed autoboot may still stop on another key, so the bootloader is not shown locked`,
        findings: [{ severity: 'medium', protocol: 'serial', message: `${f.path}: an autoboot countdown is offered at boot` }],
      };
    return {
      verdict: 'pass',
      rationale: `${f.path}: ${f.restart ? `boot watched after the restart (${f.restart.request}, ${f.bootBytes ?? 0} bytes)` : 'boot seen on the console'}; login prompt, bootloader not interruptible, no secrets or personal data in ${f.bytes} bytes`,
      findings: [
        {
          severity: 'info',
          protocol: 'serial',
          message: f.interruptKeys
            ? `no stop at the bootloader for the ${f.interruptKeys} interrupt key(s) pressed during the boot`
            : 'no autoboot countdown offered',
        },
      ],
      basis: basis(['serial', SerialConsoleFact]),
    };
  },
};
