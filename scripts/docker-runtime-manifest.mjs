#!/usr/bin/env node
// The Dockerfile's runtime-deps stage runs this in a folder holding package.json and package-lock.json: it rewrites
// package.json so that `npm install --omit=dev` installs what the built code needs at run time, and nothing else.
//
// Why not `npm ci --omit=dev` alone: @modelcontextprotocol/server is a peer dependency (a project brings its own
// copy) that is also a devDependency here, so the lockfile marks it dev and --omit=dev leaves it out; the image
// would not start. The image is a project of its own, so the peers become dependencies, at the exact versions the
// lockfile holds, together with what the demo server (build/examples) imports.
import { readFileSync, writeFileSync } from 'node:fs';

/** Imported by build/examples/demo-server.js, the image's default module, and listed as devDependencies. */
const DEMO_DEPENDENCIES = ['zod'];

const manifest = JSON.parse(readFileSync('package.json', 'utf8'));
const lock = JSON.parse(readFileSync('package-lock.json', 'utf8'));

function locked(name) {
  const version = lock.packages?.[`node_modules/${name}`]?.version;
  if (typeof version !== 'string') throw new Error(`package-lock.json holds no version of ${name}`);
  return version;
}

const dependencies = { ...manifest.dependencies };
for (const name of [...Object.keys(manifest.peerDependencies ?? {}), ...DEMO_DEPENDENCIES])
  dependencies[name] = locked(name);

// No scripts (prepare would build, with tools the runtime does not have), no devDependencies, no peers.
const runtime = {
  name: manifest.name,
  version: manifest.version,
  private: true,
  type: manifest.type,
  license: manifest.license,
  engines: manifest.engines,
  dependencies,
};
writeFileSync('package.json', `${JSON.stringify(runtime, null, 2)}\n`);
