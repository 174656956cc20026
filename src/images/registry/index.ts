/** The registry client: pull, push, login, credentials and registry settings (mirrors, insecure). */
export { RegistryClient, manifestAccept } from './client.js';
export type { RegistryClientOptions, FetchedManifest } from './client.js';
export { pullImage, pushClient, mapLimit } from './pull.js';
export type { PullOptions, PullProgress, RegistryOptions } from './pull.js';
export { pushImage } from './push.js';
export type { PushOptions, PushProgress } from './push.js';
export { loginRegistry, logoutRegistry, loginServer } from './login.js';
export { credentialsFor, storeCredentials, eraseCredentials, dockerConfigPath } from './credentials.js';
export type { Credentials } from './credentials.js';
export { loadRegistryConfig, isInsecureRegistry, registryEndpoints } from './registry-config.js';
export type { RegistryConfig, RegistryEndpoint } from './registry-config.js';
export { hostPlatform, parsePlatform, formatPlatform, selectManifest } from './platform.js';
export type { Platform } from './platform.js';
export { clearTokenCache, parseChallenge } from './auth.js';
export { shouldPull, pullPolicyInterval, parsePullInterval } from './pull-policy.js';
