/** `berth images` (and `berth image ls`): list stored images as a table, JSON lines or ids. */
import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { familiarRepository, parseReference } from '../../images/reference.js';
import { ImageStore, type StoredImage } from '../../images/store/index.js';

/** Sizes the way docker prints them: decimal units, three significant digits. */
export function humanSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? value : value.toPrecision(3).replace(/\.0+$/, '')}${units[unit]}`;
}

/** "3 hours ago" style age. */
export function timeAgo(iso: string | undefined, now = Date.now()): string {
  if (!iso) return 'N/A';
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  const steps: [number, string][] = [[31_536_000, 'year'], [2_592_000, 'month'], [604_800, 'week'], [86_400, 'day'], [3600, 'hour'], [60, 'minute']];
  for (const [size, name] of steps) if (seconds >= size) return `${Math.floor(seconds / size)} ${name}${seconds >= 2 * size ? 's' : ''} ago`;
  return 'Less than a minute ago';
}

/** One output row per ref (or one `<none>` row for a dangling image). */
export function imageRows(images: StoredImage[]): { Repository: string; Tag: string; Digest: string; ID: string; CreatedAt: string; CreatedSince: string; Size: string }[] {
  return images.flatMap((image) => {
    const refs = image.refs.length > 0 ? image.refs.map((ref) => parseReference(ref)) : [undefined];
    return refs.map((ref) => ({
      Repository: ref ? familiarRepository(ref) : '<none>',
      Tag: ref?.tag ?? '<none>',
      Digest: ref?.digest ?? image.manifestDigest,
      ID: image.id.slice(7, 19),
      CreatedAt: image.created ?? '',
      CreatedSince: timeAgo(image.created),
      Size: humanSize(image.size),
    }));
  });
}

/** Prints the image list: table, JSON lines or, with `quiet`, unique short ids. */
export async function listImages(options: { format?: string; quiet?: boolean; digests?: boolean }): Promise<void> {
  const store = await ImageStore.open();
  const images = await store.listImages();
  if (options.quiet) {
    process.stdout.write([...new Set(images.map((image) => image.id.slice(7, 19)))].map((id) => `${id}\n`).join(''));
    return;
  }
  const rows = imageRows(images);
  const format = options.format ?? 'table';
  if (format === 'json') {
    process.stdout.write(rows.map((row) => `${JSON.stringify(row)}\n`).join(''));
    return;
  }
  if (format !== 'table') throw new UsageError(`invalid --format "${format}"`, { hint: 'use "table" or "json"' });
  const header = ['REPOSITORY', 'TAG', ...(options.digests ? ['DIGEST'] : []), 'IMAGE ID', 'CREATED', 'SIZE'];
  const cells = rows.map((row) => [row.Repository, row.Tag, ...(options.digests ? [row.Digest] : []), row.ID, row.CreatedSince, row.Size]);
  const widths = header.map((title, column) => Math.max(title.length, ...cells.map((cell) => cell[column].length)));
  const line = (values: string[]) => `${values.map((value, column) => (column === values.length - 1 ? value : value.padEnd(widths[column] + 3))).join('')}\n`;
  process.stdout.write(line(header) + cells.map(line).join(''));
}

/** Adds the listing flags to `command`. */
export function withListOptions(command: Command): Command {
  return command
    .option('--format <format>', 'output format: table or json', 'table')
    .option('-q, --quiet', 'only show image IDs')
    .option('--digests', 'show digests')
    .action(async (options: { format?: string; quiet?: boolean; digests?: boolean }) => listImages(options));
}

/** Registers `berth images`. */
export function registerImages(program: Command): void {
  withListOptions(program.command('images').description('list images in the local image store'));
}
