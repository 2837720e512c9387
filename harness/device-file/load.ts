/**
 * The one way in for a device file: read, parse YAML, validate, resolve paths,
 * check scope. Every problem becomes a DEVICE_FILE_INVALID (or
 * TARGET_OUT_OF_SCOPE) error that names the file, the line and the field.
 */
import { readFileSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { LineCounter, parseDocument, isAlias, isMap, isScalar, isSeq, type Document } from 'yaml';
import { formatPath, lineOf, readYaml, validateYaml } from '../yaml-file';
import { StarbenchError } from '../errors';
import { sha256Hex } from '../hash';
import { deviceFileSchema, isTodo, type Action, type DeviceFile, type DeviceFileData } from './schema';

export { formatPath };

const MAX_DEVICE_FILE_BYTES = 1024 * 1024;
// A device file has no reason to use more aliases than this; a YAML "billion
// laughs" file needs thousands.
const MAX_ALIASES = 100;

/**
 * Parse and validate device-file text. `sourcePath` is used for messages and,
 * unless `baseDir` is given, for relative paths.
 */
export interface ParseOptions {
  /** Accept `TODO…` placeholders (a draft from `starbench init`); `run` never does. */
  allowTodo?: boolean;
}

/** Every string value that is still a `TODO…` placeholder, with its line and field. */
export function todoPlaceholders(doc: Document, lines: LineCounter, sourcePath: string): string[] {
  const out: string[] = [];
  const seen = new Set<unknown>();
  const walk = (node: unknown, p: Array<string | number>): void => {
    // An alias stands for the node it names: a placeholder reached through one is still a placeholder.
    if (isAlias(node)) {
      const target = node.resolve(doc);
      if (target && !seen.has(target)) {
        seen.add(target);
        walk(target, p);
      }
      return;
    }
    if (isScalar(node)) {
      if (isTodo(node.value)) {
        const line = node.range ? lines.linePos(node.range[0]).line : undefined;
        out.push(`${sourcePath}${line ? `:${line}` : ''}: ${formatPath(p)} is still a placeholder: ${String(node.value).trim()}`);
      }
    } else if (isMap(node)) {
      for (const pair of node.items) {
        const key = String(isScalar(pair.key) ? pair.key.value : pair.key);
        // A key is checked too (a credential named "TODO…", an anchor on a key).
        walk(pair.key, [...p, `${key} (key)`]);
        walk(pair.value, [...p, key]);
      }
    } else if (isSeq(node)) node.items.forEach((item, i) => walk(item, [...p, i]));
  };
  walk(doc.contents, []);
  return out;
}

/** The placeholders left in a device file's text, one line each (for doctor). */
export function placeholdersIn(text: string, sourcePath: string): string[] {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  return doc.errors.length > 0 ? [] : todoPlaceholders(doc, lines, sourcePath);
}

export function parseDeviceFile(text: string, sourcePath = '<inline>', baseDirOverride?: string, opts: ParseOptions = {}): DeviceFile {
  const y = readYaml(text, sourcePath, 'DEVICE_FILE_INVALID', MAX_ALIASES);
  const { doc, lines, raw } = y;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new StarbenchError('DEVICE_FILE_INVALID', `${sourcePath}: must be a YAML mapping with at least "device:" and "target:"`);
  }
  if (!opts.allowTodo) {
    const todo = todoPlaceholders(doc, lines, sourcePath);
    if (todo.length > 0) {
      const more = todo.length > 20 ? `\n(${todo.length - 20} more placeholders)` : '';
      throw new StarbenchError(
        'DEVICE_FILE_INVALID',
        `${todo.slice(0, 20).join('\n')}${more}\nfill in every TODO value (or delete the field) before a run: starbench assumes nothing`,
      );
    }
  }
  const data = validateYaml(y, sourcePath, deviceFileSchema, 'DEVICE_FILE_INVALID');
  const baseDir = baseDirOverride ?? (sourcePath === '<inline>' ? process.cwd() : path.dirname(path.resolve(sourcePath)));
  const device: DeviceFile = { ...data, sourcePath, baseDir, sha256: sha256Hex(text) };
  checkActions(device, (p) => lineOf(doc, lines, p));
  resolvePaths(device, (p) => lineOf(doc, lines, p));
  return device;
}

export function loadDeviceFile(file: string, opts: ParseOptions = {}): DeviceFile {
  let text: string;
  try {
    const st = statSync(file);
    if (!st.isFile()) throw new Error('not a regular file');
    if (st.size > MAX_DEVICE_FILE_BYTES) {
      throw new StarbenchError('DEVICE_FILE_INVALID', `${file}: ${st.size} bytes is too large for a device file (limit ${MAX_DEVICE_FILE_BYTES})`);
    }
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof StarbenchError) throw err;
    throw new StarbenchError('DEVICE_FILE_UNREADABLE', `cannot read device file ${file}: ${(err as Error).message}`, { cause: err });
  }
  // Relative paths (images, keys, a lab pty) are beside the real file, also when it is reached through a symlink.
  return parseDeviceFile(text, path.resolve(file), path.dirname(realpathSync(file)), opts);
}

type LineLookup = (p: PropertyKey[]) => number | undefined;

function at(device: DeviceFile, line: LineLookup, p: PropertyKey[]): string {
  const l = line(p);
  return `${device.sourcePath}${l ? `:${l}` : ''}: ${formatPath(p)}`;
}

function actionsOf(d: DeviceFileData): Array<[PropertyKey[], Action]> {
  const out: Array<[PropertyKey[], Action]> = [];
  if (d.update?.version) out.push([['update', 'version'], d.update.version]);
  if (d.update?.install) out.push([['update', 'install'], d.update.install]);
  if (d.reset) out.push([['reset'], d.reset]);
  if (d.restart) out.push([['restart'], d.restart]);
  d.personalData?.readBack.forEach((a, i) => out.push([['personalData', 'readBack', i], a]));
  return out;
}

/** Every action must stay on the declared target and name known credentials. */
function checkActions(device: DeviceFile, line: LineLookup): void {
  for (const [p, a] of actionsOf(device)) {
    if (a.http) {
      const host = new URL(a.http.url).hostname.replace(/^\[|\]$/g, '');
      if (host.toLowerCase() !== device.target.host.toLowerCase()) {
        throw new StarbenchError(
          'TARGET_OUT_OF_SCOPE',
          `${at(device, line, [...p, 'http', 'url'])} points at ${host}, outside the declared target ${device.target.host}; starbench only contacts target.host`,
        );
      }
    }
    const cred = a.http?.credential ?? a.ssh?.credential;
    if (cred !== undefined && !isTodo(cred) && !(cred in device.credentials)) {
      throw new StarbenchError(
        'DEVICE_FILE_INVALID',
        `${at(device, line, [...p, a.http ? 'http' : 'ssh', 'credential'])} names credential "${cred}", which is not under credentials:`,
      );
    }
    if (p[0] === 'personalData' && a.operator && !isTodo(a.operator.instructions)) {
      throw new StarbenchError(
        'DEVICE_FILE_INVALID',
        `${at(device, line, [...p, 'operator'])}: a read-back must be http, ssh or serial, something starbench can search`,
      );
    }
    if (a.serial && !device.target.serial) {
      throw new StarbenchError('DEVICE_FILE_INVALID', `${at(device, line, [...p, 'serial'])} is a serial action but target.serial is not declared`);
    }
  }
}

/** Relative paths resolve against the device file's folder and must stay inside it. */
function resolvePaths(device: DeviceFile, line: LineLookup): void {
  const inside = (p: PropertyKey[], value: string): string => {
    const abs = path.resolve(device.baseDir, value);
    const rel = path.relative(device.baseDir, abs);
    if (rel.startsWith('..') || path.isAbsolute(rel)) {
      throw new StarbenchError(
        'DEVICE_FILE_INVALID',
        `${at(device, line, p)} (${value}) leaves the device file's folder; keep images and keys beside the device file`,
      );
    }
    return abs;
  };
  // A serial path is usually absolute (/dev/ttyUSB0); a relative one (a lab pty) is beside the device file.
  if (device.target.serial && !path.isAbsolute(device.target.serial.path)) device.target.serial.path = path.resolve(device.baseDir, device.target.serial.path);
  const images = device.update?.images;
  if (images?.genuine && !isTodo(images.genuine)) images.genuine = inside(['update', 'images', 'genuine'], images.genuine);
  if (images?.older && !isTodo(images.older)) images.older = inside(['update', 'images', 'older'], images.older);
  for (const [name, c] of Object.entries(device.credentials)) {
    for (const field of ['privateKey', 'certificate', 'key'] as const) {
      const value = c[field];
      if (value !== undefined && !isTodo(value)) c[field] = inside(['credentials', name, field], value);
    }
  }
}
