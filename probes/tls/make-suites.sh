#!/usr/bin/env bash
# Regenerates cipher-suites.json from the local OpenSSL's suite table, plus
# the legacy suites OpenSSL 3 no longer ships (legacy-suites.json, from the
# IANA TLS Cipher Suites registry) that old device stacks still offer.
set -euo pipefail
cd "$(dirname "$0")"
export OSSL="$(openssl version)"
openssl ciphers -V 'ALL:COMPLEMENTOFALL:@SECLEVEL=0' | node -e '
const lines = require("fs").readFileSync(0, "utf8").trim().split("\n");
const out = lines.map((l) => {
  const m = l.trim().match(/^0x([0-9A-F]{2}),0x([0-9A-F]{2}) - (\S+)\s+(\S+)\s+Kx=(\S+)\s+Au=(\S+)\s+Enc=(\S+)\s+Mac=(\S+)/);
  if (!m) throw new Error("unparsed: " + l);
  return { code: parseInt(m[1] + m[2], 16), name: m[3], since: m[4], kx: m[5], au: m[6], enc: m[7], mac: m[8] };
});
const legacy = require("./legacy-suites.json");
for (const s of legacy) if (!out.some((o) => o.code === s.code)) out.push(s);
out.sort((a, b) => a.code - b.code);
process.stdout.write(JSON.stringify({ source: "openssl ciphers -V ALL:COMPLEMENTOFALL:@SECLEVEL=0 (" + process.env.OSSL + ") + legacy-suites.json", suites: out }, null, 1) + "\n");
' > cipher-suites.json
