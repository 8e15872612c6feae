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

// Apply each stream of frames to a fresh ProgressView: after each frame, what apply
// returned (or threw) and what the view keeps for that frame's campaign; at the end, the
// campaigns in order, the size, and what get answers for each query.
function runView(stream) {
  const view = new api.ProgressView();
  const steps = stream.frames.map((frame) => {
    const message = api.decodeFrame(frame);
    let outcome;
    try {
      outcome = { applied: view.apply(message) };
    } catch (error) {
      outcome = error instanceof api.InvalidValue ? { error: error.message } : { crash: String(error) };
    }
    return { ...outcome, kept: view.get(message.campaignId) ?? null };
  });
  const queries = stream.queries.map((query) => {
    try {
      return { value: view.get(query) ?? null };
    } catch (error) {
      return error instanceof api.InvalidValue ? { error: error.message } : { crash: String(error) };
    }
  });
  return { steps, campaigns: [...view], size: view.size, queries };
}

const results = {
  frames: vectors.frames.map((frame) => attempt(() => api.decodeFrame(frame))),
  batches: vectors.batches.map((frame) => attempt(() => api.decodeBatch(frame))),
  lifecycle: vectors.states.map((state) => ({
    events: api.availableEvents(state),
    transitions: api.availableTransitions(state),
    terminal: api.isTerminal(state),
  })),
  views: (vectors.views ?? []).map(runView),
};
writeFileSync(resultsPath, JSON.stringify(results));
