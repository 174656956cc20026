/** Platforms (`linux/amd64`, `linux/arm64/v8`): parsing, the host's own, and picking one from an index. */
import { ImageError } from '../../errors.js';
import type { OciDescriptor, OciPlatform } from '../types.js';

/** A requested platform. */
export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

const nodeArchitectures: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64', mips64el: 'mips64le', loong64: 'loong64' };

/** The platform berth runs on, as registries name it (linux/amd64, linux/arm64/v8, linux/arm/v7). */
export function hostPlatform(): Platform {
  const architecture = nodeArchitectures[process.arch] ?? process.arch;
  if (architecture === 'arm64') return { os: 'linux', architecture, variant: 'v8' };
  if (architecture === 'arm') {
    const version = (process.config.variables as { arm_version?: string }).arm_version;
    return { os: 'linux', architecture, variant: version ? `v${version}` : 'v7' };
  }
  return { os: 'linux', architecture };
}

/** Parses `os/arch[/variant]`; throws ImageError with the expected form. */
export function parsePlatform(text: string): Platform {
  const parts = text.trim().toLowerCase().split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((part) => part === '')) {
    throw new ImageError(`invalid platform "${text}"`, undefined, { hint: 'platforms look like "linux/amd64" or "linux/arm64/v8"' });
  }
  const architecture = parts[1] === 'x86_64' ? 'amd64' : parts[1] === 'aarch64' ? 'arm64' : parts[1];
  return { os: parts[0], architecture, variant: parts[2] };
}

/** `os/arch[/variant]` text for messages. */
export function formatPlatform(platform: Platform | OciPlatform): string {
  return `${platform.os}/${platform.architecture}${platform.variant ? `/${platform.variant}` : ''}`;
}

function normalizedVariant(architecture: string, variant: string | undefined): string | undefined {
  if (architecture === 'arm64' && (variant === undefined || variant === 'v8')) return 'v8';
  return variant;
}

/** True when an index entry's platform satisfies `wanted` (a missing wanted variant accepts any). */
export function platformMatches(candidate: OciPlatform | undefined, wanted: Platform): boolean {
  if (!candidate) return false;
  if (candidate.os !== wanted.os || candidate.architecture !== wanted.architecture) return false;
  if (wanted.variant === undefined) return true;
  return normalizedVariant(candidate.architecture, candidate.variant) === normalizedVariant(wanted.architecture, wanted.variant);
}

/** Picks the manifest for `wanted` from an index; entries of the host's exact variant win ties. */
export function selectManifest(manifests: OciDescriptor[], wanted: Platform): OciDescriptor | undefined {
  const matches = manifests.filter((entry) => platformMatches(entry.platform, wanted));
  if (wanted.variant === undefined && matches.length > 1) {
    const preferred = normalizedVariant(wanted.architecture, hostPlatform().architecture === wanted.architecture ? hostPlatform().variant : undefined);
    const exact = matches.find((entry) => normalizedVariant(entry.platform!.architecture, entry.platform!.variant) === preferred);
    if (exact) return exact;
  }
  return matches[0];
}
