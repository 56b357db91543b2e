// The configuration layer: types, schema, loading, presets and the generated reference. It sits
// below src/run and src/cli and imports neither.
export * from "./load.js";
export * from "./presets.js";
export { REMOVED_KEYS } from "./removed.js";
export { runConfigSchema } from "./run-config.js";
export { estimatorSchema, methodSchema } from "./sections/method.js";
export * from "./types.js";
