export const USAGE = `starbench — test an IoT device against security conformity requirements

Usage:
  starbench init HOST [--serial PATH] [--out device.yaml] [--ports SPEC]   scan a device and draft its device file
  starbench doctor [DEVICE.yaml | HOST]        which tools are here, which checks they unlock; does the target answer
  starbench run DEVICE.yaml [--profile ID] [--out DIR] [--only CHECK,...] [options]
  starbench run A.yaml B.yaml ... | FOLDER [--parallel N] [--global-connections N]   a fleet, concurrently
  starbench demo [--out DIR] [options]        start the built-in simulated device and assess it
  starbench report RUN_DIR [--profile ID] [--answers FILE] [--format LIST] [--lang en|ja] [--out DIR]
  starbench sign RUN_DIR --key PRIVATE.pem     manifest of every file's SHA-256, signed (RSA-PSS or ECDSA)
  starbench bundle RUN_DIR [--out FILE]        one .tar.gz with the run, its manifest and signature
  starbench verify RUN_DIR|BUNDLE [--key PUBLIC.pem]   check every hash and the signature; names changed files
  starbench diff CERTIFIED_RUN SHOP_RUN [--profile ID] [--out DIR]   firmware, services, verdicts, findings
  starbench list profiles|checks|probes
  starbench schema device|report               print a JSON Schema
  starbench resume RUN_DIR                     finish an interrupted run: only what had not finished runs again
  starbench campaign create NAME [--db URL] --key AGENTS.pub.pem DEVICE.yaml...|FOLDER
  starbench campaign status|report NAME [--db URL]   many benches, one store (PostgreSQL or embedded PGlite, pg-boss)
  starbench agent [--db URL] --bench NAME --key AGENT.pem   run a bench's campaign jobs

Options for run and demo:
  --profile ID|FILE     requirement catalog: a built-in id (default jc-star-1; starbench list profiles) or a catalog YAML file
  --plugin FILE         load a lab's own probes and checks (a module exporting register(api)); repeatable
  --out DIR             where the run folder goes (default ./runs)
  --only IDS            run only these checks (comma separated)
  --format LIST         report files to write: html, json, junit, checklist-csv, jcstar-checklist (the JC-STAR ★1 checklist, .xlsx and .csv, Japanese unless --lang en), md (default html,junit,json)
  --lang en|ja          language of report.html (default en)
  --probe-timeout S     seconds one probe may take (default from the device file, 120)
  --deadline S          seconds the whole run may take (default from the device file, 900)
  --scanner NAME        TCP scanner: auto (nmap when installed), nmap or builtin
  --vuln-feed PATH      a vulnerability feed to match service versions against (NVD CVE JSON 2.0, .json/.json.gz, or OSV records: a file or folder); repeatable; read locally, never downloaded
  --reveal-secrets      show credentials and canaries in reports (private runs only)
  --non-interactive     never ask the operator; operator steps become not-tested
  -q, --quiet           print only where the report is
  -v, --verbose         pretty logs on stderr
  -h, --help            this text

Exit codes: 0 every assessed requirement passed · 1 at least one failed ·
3 nothing failed but something is inconclusive or errored · 2 usage or device-file error ·
130 interrupted.
`;

export const COMMAND_HELP: Record<string, string> = {
  run: 'starbench run DEVICE.yaml [--profile ID] [--out DIR] [--only CHECK,...] [--format LIST] [--probe-timeout S] [--deadline S] [--vuln-feed PATH] [--non-interactive] [--reveal-secrets] [-q] [-v]\n  Assess the device described by DEVICE.yaml and write a run folder under --out (default ./runs).\n',
  demo: 'starbench demo [--out DIR] [--profile ID] [-q] [-v]\n  Start the built-in simulated camera on loopback, write its device file, assess it, stop it.\n',
  report:
    'starbench report RUN_DIR [--profile ID] [--format html,json,junit,checklist-csv,jcstar-checklist,technical-file,md] [--lang en|ja] [--out DIR] [--answers FILE] [--compare-keys OTHER_RUN]\n  Judge the saved observations of a run again (optionally under another profile) without touching the device. --answers FILE (repeatable): document-review answers (answers: [{profile, requirement, result: met|not-met|not-applicable, reference}]) shown as declarations beside the device evidence, and decision-tree answers for EN 18031 (decisions: [{requirement, target, node: DN-n|completeness|sufficiency, answer: yes|no, justification, reference}]). --compare-keys OTHER_RUN (repeatable): the saved run of another unit of the same model; crypto.unique-device-keys fails when a key is on both. --format technical-file: the EN 18031 per-asset table (technical-file.json and .xlsx).\n',
  list: 'starbench list profiles|checks|probes\n  Show what this version of starbench knows.\n',
  schema: 'starbench schema device|report\n  Print the JSON Schema of the device file or of report.json.\n',
  diff: 'starbench diff CERTIFIED_RUN SHOP_RUN [--profile ID] [--out DIR]\n  Compare two runs judged under the same catalog: firmware drift, services added or removed, checks that changed verdict, new findings. Exit 1 when anything got worse; --out writes diff.json, diff.html, diff.txt.\n',
  sign: 'starbench sign RUN_DIR --key PRIVATE.pem\n  Write manifest.json (SHA-256 of every file) and manifest.sig.json (RSA-PSS or ECDSA over it). STARBENCH_KEY_PASSPHRASE unlocks an encrypted key.\n',
  bundle: 'starbench bundle RUN_DIR [--out FILE]\n  Write one .tar.gz with the run folder, its manifest and (when signed) its signature.\n',
  verify:
    'starbench verify RUN_DIR|BUNDLE [--key PUBLIC.pem]\n  Check every file against the manifest and the signature over it; name every file that changed. Exit 0 verified, 1 changed, 3 not signed.\n',
  init: 'starbench init HOST [--serial PATH] [--out device.yaml] [--ports SPEC] [--udp-ports SPEC] [--scanner auto|nmap|builtin] [--deadline S] [--force]\n  Scan HOST (and nothing else) as a run would, ask every open port how it logs in (HTTP Basic/Digest realms, forms, SSH methods, MQTT CONNACK, TLS client certificates), and write a draft device file: every service found, every login seen, TODO values for what only a person knows. starbench run refuses the draft until no TODO is left. --deadline bounds the whole discovery (default 600 s); a scan cut short writes no draft.\n',
  doctor:
    'starbench doctor [DEVICE.yaml | HOST] [-v]\n  One line per fact: Node, nmap, serial port access, root for the lab, the optional tools and the checks they unlock; with a device file or host, whether the target answers. Exit 0 when everything a run needs is here (and the target answers), 1 otherwise.\n',
  resume:
    'starbench resume RUN_DIR [--non-interactive] [--format LIST]\n  Finish a run that was interrupted (Ctrl-C, a crash, a killed process): probe results already in its journal are kept, the rest run now, into the same folder, with the same device file (refused if it changed).\n',
  campaign:
    "starbench campaign create NAME [--db URL] --key AGENTS.pub.pem [--profile ID|FILE] [--plugin FILE] [--bench NAME] DEVICE.yaml...|FOLDER\n  Queue one job per device file in the campaign store (postgres://… or STARBENCH_DB; without either, the embedded store pglite:runs/campaign-store). Each job carries the device file sealed to the agents' public key, every file it references, the profile and plugins. A device file that does not load is refused (exit 2) and the others go in; the same files again add nothing. A device with a serial console or traffic interface must name its bench (bench: NAME or --bench).\nstarbench campaign status NAME [--db URL] [--json]\n  Per job: queued, running (on which agent), done (verdicts), failed (reason), dead (after 3 tries); --json prints { campaign, jobs: [{ id, device, bench, state, attempts, checks }] }. Exit 0/1 as the runs, 3 while jobs are open.\nstarbench campaign report NAME [--db URL] [--out DIR]\n  Every done run rebuilt from its stored journal and judged again into DIR (reports of each device, campaign.json, fleet.html).\nstarbench campaign serve [DIR] [--idle-exit S]\n  Serve the embedded store (PGlite; default runs/campaign-store) on 127.0.0.1; the other commands start it detached when --db is pglite:DIR or absent. Stops after S seconds without a client (default STARBENCH_STORE_IDLE_SECONDS or 600).\n",
  agent:
    "starbench agent [--db URL] --bench NAME --key AGENT.pem [--parallel N] [--global-connections N] [--out DIR] [--idle-exit S] [--allow-plugins]\n  Take the jobs addressed to this bench (and those any bench may run), run each as `run` does, stream its journal into the store. A job tried before resumes from its stored journal. SIGTERM: the run in progress stops at a probe boundary and goes back to the queue. --idle-exit S stops after S seconds with nothing to do. A job that brings plugin modules (code) is refused unless the agent runs with --allow-plugins.\nstarbench agent keygen [--out DIR] [--force]\n  Write the agents' key pair: agent.pem (bench hosts only) and agent.pub.pem (for campaign create).\n",
};
