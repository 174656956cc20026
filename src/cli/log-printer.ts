/**
 * Prints container log lines the way `logs` and attached `up` show them: `web-1  | text`, the
 * prefix padded to the longest container name seen so far and colored per service.
 */
import type { LogLine } from '../engine/log-files.js';
import { ColorCycle, type Paint } from './colors.js';
import { compareStrings } from '../compare.js';

/** Options of a LogPrinter. */
export interface LogPrinterOptions {
  /** Print bare lines, without `name | `. */
  noLogPrefix?: boolean;
  color: boolean;
  /** The project, stripped from container names (`demo-web-1` → `web-1`). */
  project: string;
  /** Where lines go (default process.stdout). */
  out?: { write(text: string): unknown };
}

/** The name a container is shown under: its name without the `<project>-` prefix. */
export function displayName(containerName: string, project: string): string {
  return containerName.startsWith(`${project}-`) ? containerName.slice(project.length + 1) : containerName;
}

/** Formats and writes log lines and container notices. */
export class LogPrinter {
  private width = 0;
  private readonly colors: ColorCycle;
  private readonly out: { write(text: string): unknown };

  constructor(private readonly options: LogPrinterOptions) {
    this.colors = new ColorCycle(options.color);
    this.out = options.out ?? process.stdout;
  }

  /** Widens the prefix for these containers (call with every name known up front, sorted). */
  register(containers: ReadonlyArray<{ name: string; service: string }>): void {
    for (const container of [...containers].sort((a, b) => compareStrings(a.service, b.service))) {
      this.colors.for(container.service);
      this.width = Math.max(this.width, displayName(container.name, this.options.project).length);
    }
  }

  /** The colored prefix of a container's lines. */
  prefix(name: string, service: string): string {
    if (this.options.noLogPrefix) return '';
    const shown = displayName(name, this.options.project);
    this.width = Math.max(this.width, shown.length);
    return this.colors.for(service)(`${shown.padEnd(this.width)} | `);
  }

  /** Writes one log line. */
  line(line: LogLine): void {
    this.out.write(`${this.prefix(line.name, line.service)}${line.text}\n`);
  }

  /** Writes a notice about a container (`web-1 exited with code 0`), in its service's color. */
  notice(name: string, service: string, text: string): void {
    const paint: Paint = this.colors.for(service);
    this.out.write(`${paint(`${displayName(name, this.options.project)} ${text}`)}\n`);
  }
}
