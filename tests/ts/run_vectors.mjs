// Decode shared test vectors with the compiled phasekit TypeScript module.
// Usage: node run_vectors.mjs MODULE.js VECTORS.json RESULTS.json
import { readFileSync, writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

const [modulePath, vectorsPath, resultsPath] = process.argv.slice(2);
const loaded = await import(pathToFileURL(modulePath).href);
const api = typeof loaded.decodeFrame === "function" ? loaded : loaded.default;
const vectors = JSON.parse(readFileSync(vectorsPath, "utf8"));

function attempt(decode) {
  try {
    return { value: decode() };
  } catch (error) {
    if (!(error instanceof api.DecodeError)) {
      return { crash: String(error) };
    }
    return { error: error.message };
  }
}

const results = {
  frames: vectors.frames.map((frame) => attempt(() => api.decodeFrame(frame))),
  batches: vectors.batches.map((frame) => attempt(() => api.decodeBatch(frame))),
  lifecycle: vectors.states.map((state) => ({
    events: api.availableEvents(state),
    transitions: api.availableTransitions(state),
    terminal: api.isTerminal(state),
  })),
};
writeFileSync(resultsPath, JSON.stringify(results));
