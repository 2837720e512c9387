/**
 * Version order for matching a service's upstream version against a feed's
 * ranges: numbers compare as numbers, letters as text, and a letter part
 * after a number is a later release ("8.4p1" after "8.4", "1.0.2k" after
 * "1.0.2"). Distribution revisions are not upstream versions: "1:2022.83-1+deb12u1"
 * compares as "2022.83" (a backported fix is invisible to a banner; the
 * report says a match rests on the version the service announced).
 */

/** The upstream part of a packaged version: no epoch ("1:"), no Debian/RPM revision ("-1+deb12u1", "-r3"). */
export function upstream(v: string): string {
  return v
    .trim()
    .replace(/^\d+:/, '')
    .replace(/-(?:\d[\w.+~]*|r\d+)$/, '');
}

function tokens(v: string): Array<number | string> {
  return (
    upstream(v)
      .toLowerCase()
      .match(/\d+|[a-z]+/g) ?? []
  ).map((t) => (/^\d/.test(t) ? Number(t) : t));
}

/** A version with one number only ("2" from `Apache/2`): too coarse to place in a range. */
export function tooCoarse(v: string): boolean {
  return (upstream(v).match(/\d+/g) ?? []).length < 2;
}

/** <0 when a is older than b, 0 when the same, >0 when newer. */
export function compareVersions(a: string, b: string): number {
  const x = tokens(a);
  const y = tokens(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const p = x[i];
    const q = y[i];
    if (p === undefined) return typeof q === 'string' && /^(alpha|beta|rc|pre|dev)/.test(q) ? 1 : -1;
    if (q === undefined) return typeof p === 'string' && /^(alpha|beta|rc|pre|dev)/.test(p) ? -1 : 1;
    if (typeof p === 'number' && typeof q === 'number') {
      if (p !== q) return p - q;
    } else if (typeof p === 'number') return 1;
    else if (typeof q === 'number') return -1;
    else if (p !== q) return p < q ? -1 : 1;
  }
  return 0;
}

/** A version range as feeds give it: any bound may be missing; `exact` alone is one version. */
export interface VersionRange {
  exact?: string;
  startIncluding?: string;
  startExcluding?: string;
  endIncluding?: string;
  endExcluding?: string;
}

/** A bound with a distribution revision ("2019.78-2+deb10u1"): the fix is the package's, the upstream version stays vulnerable. */
const revised = (b: string): boolean => upstream(b) !== b.trim();

export function inRange(version: string, r: VersionRange): boolean {
  if (r.exact !== undefined) return compareVersions(version, r.exact) === 0;
  // "fixed in 2019.78-2+deb10u1": upstream 2019.78 announced by a banner is that version unpatched, or patched under
  // the same string — a banner cannot tell, so it matches (the finding says where the version was read).
  if (r.endExcluding !== undefined && revised(r.endExcluding))
    return inRange(version, { ...r, endExcluding: undefined, endIncluding: upstream(r.endExcluding) });
  if (r.startIncluding !== undefined && compareVersions(version, r.startIncluding) < 0) return false;
  if (r.startExcluding !== undefined && compareVersions(version, r.startExcluding) <= 0) return false;
  if (r.endIncluding !== undefined && compareVersions(version, r.endIncluding) > 0) return false;
  if (r.endExcluding !== undefined && compareVersions(version, r.endExcluding) >= 0) return false;
  return r.startIncluding !== undefined || r.startExcluding !== undefined || r.endIncluding !== undefined || r.endExcluding !== undefined;
}

export function describeRange(r: VersionRange): string {
  if (r.exact !== undefined) return `= ${r.exact}`;
  return [
    r.startIncluding !== undefined ? `≥ ${r.startIncluding}` : r.startExcluding !== undefined ? `> ${r.startExcluding}` : '',
    r.endIncluding !== undefined ? `≤ ${r.endIncluding}` : r.endExcluding !== undefined ? `< ${r.endExcluding}` : '',
  ]
    .filter(Boolean)
    .join(', ');
}
