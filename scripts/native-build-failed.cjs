// Runs when `node-gyp rebuild` fails during `npm install`: the package still works on the
// TypeScript reference backend, so installation must not fail. The runtime warns once as well.
console.warn("[llm2vec] native addon build failed; falling back to the (much slower) TypeScript reference backend.");
