/** Hugging Face Hub repositories as local folders, in Python huggingface_hub's shared cache. */
export { isHubId, repoIdProblem } from "./repo-id.js";
export { resolveHubRepo, type ResolveHubOptions, type HubProgress } from "./resolve.js";
export { modelFiles, selectFiles, type HubFileFilter } from "./select.js";
export { HubError, type HubErrorKind } from "./errors.js";
export { hubCacheDir, hubEndpoint, hubOffline, hubToken, hfHome } from "./settings.js";
