/**
 * The person at the bench, on the terminal: instructions on stderr, answers
 * from stdin. Only used when stdin is a terminal and --non-interactive is not
 * given; otherwise the run has no operator and operator steps are not-tested.
 */
import readline from 'node:readline';
import type { Operator } from './types';

export function terminalOperator(input: NodeJS.ReadableStream = process.stdin, output: NodeJS.WritableStream = process.stderr): Operator {
  const question = (text: string, signal: AbortSignal): Promise<string> =>
    new Promise((resolve, reject) => {
      const rl = readline.createInterface({ input, output, terminal: false });
      const onAbort = (): void => {
        rl.close();
        reject(new Error('operator step cancelled'));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      rl.question(text, (answer) => {
        signal.removeEventListener('abort', onAbort);
        rl.close();
        resolve(answer.trim());
      });
    });
  return {
    async confirm(instructions, signal) {
      const a = await question(`\n[operator] ${instructions}\n[operator] Type "done" when finished, or "skip" if it cannot be done: `, signal);
      return /^(d|done|y|yes|ok)$/i.test(a);
    },
    ask: (q, signal) => question(`\n[operator] ${q}\n> `, signal),
  };
}
