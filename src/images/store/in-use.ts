/**
 * Which images containers use, so `rmi` and `image prune -a` spare them. The image store cannot
 * know about containers (images sit below the engine), so the engine registers a provider at
 * startup; without one, no image counts as used.
 */

/** Returns image id (config digest) → names of the containers using it. */
export type ImageUsageProvider = () => Promise<ReadonlyMap<string, readonly string[]>>;

let provider: ImageUsageProvider | undefined;

/** Installs the provider the engine offers (replaces any earlier one). */
export function setImageUsageProvider(next: ImageUsageProvider | undefined): void {
  provider = next;
}

/** Image id → container names, from the registered provider (empty without one). */
export async function imagesInUse(): Promise<ReadonlyMap<string, readonly string[]>> {
  return provider ? provider() : new Map();
}
