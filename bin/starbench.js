#!/usr/bin/env -S node --max-semi-space-size=4
'use strict';
// Runs the TypeScript sources directly through tsx, so `npm install` is the
// only set-up step (no build). A 4 MB young generation keeps a fleet run's
// peak RSS ~30 MB lower at no measurable cost in time (the benchmark shows it).
require('tsx/cjs/api').register();
require('../cli/index.ts').cli();
