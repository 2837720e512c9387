/**
 * What software a service announces, as a product and version a feed can be
 * searched for: SSH identification strings (RFC 4253 §4.2), HTTP `Server`
 * headers (RFC 9110 §10.2.4), FTP greetings, the MQTT broker's
 * `$SYS/broker/version`, and nmap's service detection when it ran. Each
 * product carries the CPE vendor:product NVD files it under (nmap's own CPE
 * names differ for some: both are kept) and the package names OSV uses.
 */

export interface Product {
  /** Display name. */
  name: string;
  /** NVD CPE 2.3 vendor:product pairs. */
  cpe: string[];
  /** Package names in OSV records (any ecosystem). */
  packages: string[];
}

/** The products this table knows, by a key; `match` finds the product and its version in what a service said. */
interface Known extends Product {
  match: RegExp;
}

const KNOWN: Known[] = [
  {
    name: 'Dropbear SSH',
    cpe: ['dropbear_ssh_project:dropbear_ssh', 'matt_johnston:dropbear_ssh_server'],
    packages: ['dropbear'],
    match: /\bdropbear[_ -]?(?:sshd?[_ -]?)?v?(\d[\w.]*)/i,
  },
  { name: 'OpenSSH', cpe: ['openbsd:openssh'], packages: ['openssh'], match: /\bOpenSSH[_ -]?(?:for_Windows_)?(\d[\w.]*)/i },
  { name: 'lighttpd', cpe: ['lighttpd:lighttpd'], packages: ['lighttpd'], match: /\blighttpd\/(\d[\w.-]*)/i },
  { name: 'nginx', cpe: ['f5:nginx', 'nginx:nginx', 'igor_sysoev:nginx'], packages: ['nginx'], match: /\bnginx\/(\d[\w.]*)/i },
  { name: 'Apache httpd', cpe: ['apache:http_server'], packages: ['apache2', 'httpd'], match: /\bApache\/(\d[\w.]*)/i },
  { name: 'GoAhead', cpe: ['embedthis:goahead'], packages: ['goahead'], match: /\bGoAhead(?:-Webs|-http)?\/(\d[\w.]*)/i },
  { name: 'Boa', cpe: ['boa:boa'], packages: ['boa'], match: /\bBoa\/(\d[\w.]*)/i },
  { name: 'mini_httpd', cpe: ['acme:mini_httpd'], packages: ['mini-httpd'], match: /\bmini_httpd\/(\d[\w.]*)/i },
  { name: 'thttpd', cpe: ['acme:thttpd'], packages: ['thttpd'], match: /\bthttpd\/(\d[\w.]*)/i },
  { name: 'BusyBox', cpe: ['busybox:busybox'], packages: ['busybox'], match: /\bBusyBox v?(\d[\w.]*)/i },
  { name: 'Mosquitto', cpe: ['eclipse:mosquitto'], packages: ['mosquitto'], match: /\bmosquitto(?: version)? v?(\d[\w.]*)/i },
  { name: 'vsftpd', cpe: ['beasts:vsftpd', 'vsftpd_project:vsftpd'], packages: ['vsftpd'], match: /\bvsFTPd (\d[\w.]*)/i },
  { name: 'ProFTPD', cpe: ['proftpd:proftpd'], packages: ['proftpd', 'proftpd-dfsg'], match: /\bProFTPD (\d[\w.]*)/i },
  { name: 'Pure-FTPd', cpe: ['pureftpd:pure-ftpd'], packages: ['pure-ftpd'], match: /\bPure-FTPd (\d[\w.]*)/i },
  { name: 'dnsmasq', cpe: ['thekelleys:dnsmasq'], packages: ['dnsmasq'], match: /\bdnsmasq-(\d[\w.]*)/i },
];

export interface Identified {
  product: Product;
  version: string;
  /** The words it was read from. */
  from: string;
}

/** The product and version in what a service said, or undefined when it names no product this table knows, or no version. */
export function identifyProduct(said: string): Identified | undefined {
  for (const k of KNOWN) {
    const m = k.match.exec(said);
    if (m?.[1]) {
      const { match: _match, ...product } = k;
      return { product, version: m[1].replace(/[.-]+$/, ''), from: said.slice(Math.max(0, m.index - 20), m.index + m[0].length + 20).trim() };
    }
  }
  return undefined;
}

/** A product from nmap's service detection: its CPE (cpe:/a:vendor:product:version), mapped to the table's entry when known. */
export function productFromCpe(cpe: string, fallbackName: string): Identified | undefined {
  const m = /^cpe:\/a:([^:]+):([^:]+):([^:]+)/.exec(cpe);
  if (!m) return undefined;
  const vp = `${m[1]}:${m[2]}`;
  const known = KNOWN.find((k) => k.cpe.includes(vp));
  const product: Product = known ? { name: known.name, cpe: known.cpe, packages: known.packages } : { name: fallbackName || m[2], cpe: [vp], packages: [m[2]] };
  return { product, version: m[3], from: cpe };
}
