/**
 * Entry point of validation: the schema check, then the checks the schema cannot express, all
 * in one run so that users fix every problem at once instead of one per attempt.
 */
import { ValidationError, type SourceRef, type ValidationIssue } from '../errors.js';
import type { LoadedCompose } from '../load/types.js';
import { checkReferences } from './check-references.js';
import { checkResources } from './check-resources.js';
import { checkServices } from './check-services.js';
import { CheckContext, isMapping } from './context.js';
import { checkSchema } from './schema-check.js';
import { compareStrings } from '../compare.js';

/** Every problem in a loaded compose document, in file order; empty when it is valid. */
export function findIssues(loaded: LoadedCompose): ValidationIssue[] {
  const document = loaded.document;
  const issues = checkSchema(document, loaded.sources);
  if (isMapping(document)) {
    const context = new CheckContext(document, loaded.sources);
    checkServices(context);
    checkReferences(context);
    checkResources(context);
    const seen = new Set(issues.map((issue) => issue.source?.path));
    // A value the schema already rejected gets no second, vaguer message from the later checks.
    issues.push(...context.issues.filter((issue) => !issue.source || !seen.has(issue.source.path) || issue.source.path === ''));
  }
  return sortIssues(issues, loaded.configFiles);
}

/** Checks a loaded compose document; throws a ValidationError listing every problem found. */
export function validateCompose(loaded: LoadedCompose): void {
  const issues = findIssues(loaded);
  if (issues.length > 0) throw new ValidationError(issues);
}

/** Orders issues as they appear in the files (files in merge order), keeping ties in check order. */
function sortIssues(issues: ValidationIssue[], configFiles: readonly string[]): ValidationIssue[] {
  const fileRank = (source: SourceRef | undefined): number => {
    if (!source) return Number.MAX_SAFE_INTEGER;
    const index = configFiles.findIndex((file) => file === source.file || file.endsWith(`/${source.file}`));
    return index < 0 ? configFiles.length : index;
  };
  return issues
    .map((issue, order) => ({ issue, order }))
    .sort((a, b) => {
      const sa = a.issue.source;
      const sb = b.issue.source;
      return (
        fileRank(sa) - fileRank(sb) ||
        compareStrings(sa?.file ?? '', sb?.file ?? '') ||
        (sa?.line ?? 0) - (sb?.line ?? 0) ||
        (sa?.column ?? 0) - (sb?.column ?? 0) ||
        a.order - b.order
      );
    })
    .map(({ issue }) => issue);
}
