/**
 * What a decision tree is walked for, read from the device file: its assets,
 * its mechanisms (declared, plus the authentication and update mechanisms
 * that auth: and update: already declare), its interfaces (the declared
 * services, plus declared user and machine interfaces), or the device once.
 * Each target carries the fields `declared:` nodes read, its own and some
 * derived from the rest of the file (an asset is reachable when it crosses a
 * declared port; it is guarded when an access-control or authentication
 * mechanism names it). A derived value is only ever a yes the file states
 * elsewhere, or unknown: nothing is assumed absent.
 */
import type { Decision, Tree, WalkTarget } from './decision-tree';
import type { DeviceFileData } from './device-file/schema';
import { StarbenchError } from './errors';
import type { Profile } from './profile';

const GUARDS = new Set(['access-control', 'authentication']);

function assetTargets(d: DeviceFileData, kinds: readonly string[]): WalkTarget[] {
  return (d.assets ?? [])
    .filter((a) => kinds.includes(a.kind))
    .map((a) => {
      const guards = (d.mechanisms ?? []).filter((m) => GUARDS.has(m.kind) && m.assets.includes(a.id));
      const stored = a.stored === undefined ? undefined : a.stored.length > 0;
      // An empty list is the maker's explicit statement, and the justification of the not-applicable it leads to.
      const none = (field: string, what: string) => ({ answer: 'no' as const, because: `the device file declares ${field}: [] (${what})` });
      return {
        per: 'asset' as const,
        id: a.id,
        title: a.title,
        kind: a.kind,
        fields: {
          ...a,
          reachable: a.reachable ?? (a.communicated?.length ? true : undefined),
          stored: stored === false ? none('stored', 'not kept on the device') : stored,
          communicated: a.communicated === undefined ? undefined : a.communicated.length > 0 || none('communicated', 'it crosses no network interface'),
          storedConfidential: a.confidential === undefined || stored === undefined ? undefined : a.confidential && stored,
          // Linked mechanisms are a yes; with a mechanisms: list declared, no link is a no; without one, unknown.
          guarded: guards.length ? `guarded by ${guards.map((m) => m.id).join(', ')}` : d.mechanisms ? false : undefined,
          deletable: a.deletable ?? (d.reset ? 'the device file declares a factory reset action' : undefined),
        },
      };
    });
}

function mechanismTargets(d: DeviceFileData, kinds: readonly string[]): WalkTarget[] {
  const declared = d.mechanisms ?? [];
  const out: WalkTarget[] = declared
    .filter((m) => kinds.includes(m.kind))
    .map((m) => {
      const auth = m.kind === 'authentication' && m.port !== undefined ? d.auth.find((a) => a.port === m.port) : undefined;
      return { per: 'mechanism' as const, id: m.id, title: m.title, kind: m.kind, fields: { ...authFields(auth), ...m } };
    });
  // auth: and update: are mechanisms the file already declares; they join unless a declared mechanism covers them.
  if (kinds.includes('authentication'))
    for (const a of d.auth)
      if (!declared.some((m) => m.kind === 'authentication' && m.port === a.port))
        out.push({
          per: 'mechanism',
          id: `auth-${a.port}-${a.protocol}`,
          title: `${a.protocol} login on port ${a.port} (auth:)`,
          kind: 'authentication',
          fields: authFields(a),
        });
  if (kinds.includes('update') && d.update?.install && !declared.some((m) => m.kind === 'update'))
    out.push({ per: 'mechanism', id: 'update', title: 'the declared update action (update.install)', kind: 'update', fields: {} });
  return out;
}

function authFields(a: DeviceFileData['auth'][number] | undefined): Record<string, unknown> {
  if (!a) return {};
  return {
    factor: `${a.scheme} (auth: port ${a.port})`,
    bruteForce: a.bruteForce === undefined ? undefined : a.bruteForce === 'none' ? false : `declared bruteForce: ${a.bruteForce}`,
  };
}

function interfaceTargets(d: DeviceFileData, kinds: readonly string[]): WalkTarget[] {
  const declared = d.interfaces ?? [];
  const out: WalkTarget[] = [];
  if (kinds.includes('network'))
    for (const s of d.services) {
      const own = declared.find((i) => i.port === s.port) ?? {};
      const auth = d.auth.find((a) => a.port === s.port);
      const assets = (d.assets ?? []).filter((a) => a.communicated?.includes(s.port));
      out.push({
        per: 'interface',
        id: `${s.transport}/${s.port}`,
        title: `${s.protocol} on ${s.transport}/${s.port}`,
        kind: 'network',
        service: `${s.transport}/${s.port}`,
        fields: {
          carriesAssets: assets.length ? `carries ${assets.map((a) => a.id).join(', ')}` : undefined,
          authenticated: auth ? `declared ${auth.scheme} login (auth:)` : undefined,
          ...own,
        },
      });
    }
  for (const i of declared)
    if (i.port === undefined && kinds.includes(i.kind)) out.push({ per: 'interface', id: i.id!, title: i.title, kind: i.kind, fields: { ...i } });
  return out;
}

/** The targets of one tree on one device; `kinds` of an asset tree default to the part's asset kinds. */
export function treeTargets(tree: Tree, device: DeviceFileData): WalkTarget[] {
  const kinds = tree.kinds ?? [];
  switch (tree.per) {
    case 'asset':
      return assetTargets(device, kinds);
    case 'mechanism':
      return mechanismTargets(device, kinds);
    case 'interface':
      return interfaceTargets(device, kinds);
    case 'device':
      return [{ per: 'device', id: 'device', title: device.device.name, fields: {} }];
  }
}

/**
 * Decisions in an answers file that name what this profile does not have (a requirement without a tree, a node the
 * tree lacks, an assessment the standard marks not necessary, a target the device file does not declare) are typos:
 * refused before anything is written. Decisions for another profile are left alone; those naming no profile are
 * checked where the profile has their requirement.
 */
export function checkDecisions(
  profile: Profile,
  decisions: readonly Decision[],
  device: DeviceFileData,
  where: string,
  /** Every requirement with a tree in any catalog: a decision naming no profile and none of them is a typo. */
  known?: ReadonlySet<string>,
): void {
  const problems: string[] = [];
  decisions.forEach((d, i) => {
    if (d.profile && d.profile !== profile.id) return;
    const r = profile.requirements.find((q) => q.id === d.requirement);
    const at = `${where}: decisions[${i}]`;
    if (!r) {
      if (d.profile) problems.push(`${at}.requirement "${d.requirement}" is not a requirement of ${profile.id}`);
      else if (known && !known.has(d.requirement)) problems.push(`${at}.requirement "${d.requirement}" is a requirement of no catalog with decision trees`);
      return;
    }
    if (!r.tree) return void problems.push(`${at}.requirement ${r.id} of ${profile.id} has no decision tree (answer it under answers:)`);
    if (r.tree.partSpecific && !d.profile)
      return void problems.push(`${at}.profile is needed: the ${r.id} tree differs between the parts of the standard (name the part it answers)`);
    if (d.node === 'completeness' || d.node === 'sufficiency') {
      if (r[d.node] === false || r[d.node] === undefined) problems.push(`${at}.node the ${d.node} assessment of ${r.id} is marked not necessary`);
    } else if (!r.tree.nodes.some((n) => n.id === d.node))
      problems.push(`${at}.node ${d.node} is not a node of ${r.id}'s tree (it has ${r.tree.nodes.map((n) => n.id).join(', ')})`);
    const targets = treeTargets(r.tree, device).map((t) => t.id);
    if (!targets.includes(d.target))
      problems.push(`${at}.target "${d.target}" is not walked for ${r.id} (its targets: ${targets.length ? targets.join(', ') : 'none declared'})`);
  });
  if (problems.length) throw new StarbenchError('REVIEW_INVALID', problems.slice(0, 20).join('\n'));
}
