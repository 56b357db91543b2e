#!/usr/bin/env node
// Regenerates docs/config.md (the key reference) and configs/example.yaml from the schema in
// src/config/. Run after the TypeScript build: `npx tsc -p tsconfig.json && node scripts/make-config-docs.js`.
// test/cli/config-doc.test.ts fails while either file is out of date.
import { writeFileSync } from "node:fs";
import { configReference, exampleConfig } from "../dist/src/config/doc.js";

writeFileSync("docs/config.md", configReference());
writeFileSync("configs/example.yaml", exampleConfig());
console.log("wrote docs/config.md and configs/example.yaml");
